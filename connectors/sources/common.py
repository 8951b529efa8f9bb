"""What the polling sources share: option parsing, secrets, body decoding, time parsing and the poll loop."""

from __future__ import annotations

import abc
import asyncio
import json
import os
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, FilePath, ValidationError

from connectors.base import Batch, Connector, Rejected, State
from connectors.http import PoliteClient

_SECRET_WORDS = ("secret", "password", "token", "api_key", "apikey", "client_id")
_SECRET_SUFFIXES = ("_env", "_file", "_url")
"""Options named so hold where a credential is, not the credential (``client_id_env``, ``token_url``)."""


class PollingOptions(BaseModel):
    """Options every polling source accepts; each source's model adds its own (and a real ``base_url``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    poll_interval_s: float = Field(60.0, gt=0)
    lookback_s: float = Field(3600.0, ge=0, description="how far back a first run (empty state) starts")
    timeout_s: float = Field(20.0, gt=0, description="per-request HTTP timeout")
    secrets_file: FilePath | None = Field(
        None, description="KEY=VALUE lines; read instead of the environment for the *_env names"
    )


OptionsT = TypeVar("OptionsT", bound=PollingOptions)


def parse_options(model: type[OptionsT], source: str, name: str, options: Mapping[str, Any]) -> OptionsT:
    """Validate ``options`` or raise ``ValueError`` naming the connector and every bad field (values not echoed)."""
    for key in options:
        lowered = key.lower()
        if any(word in lowered for word in _SECRET_WORDS) and not lowered.endswith(_SECRET_SUFFIXES):
            raise ValueError(
                f"{source} connector {name!r}: option {key!r} looks like a credential; credentials are read from "
                "the environment (the *_env options name the variables) or from secrets_file, never from options"
            )
    values = dict(options)
    for key, value in values.items():
        field = model.model_fields.get(key)
        # One `-o queries=veloxa` on the command line is a string; a list option takes it as a list of one.
        if field is not None and isinstance(value, str) and typing.get_origin(field.annotation) is list:
            values[key] = [value]
    try:
        return model.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(options)'}: {e['msg']}" for e in error.errors())
        raise ValueError(f"{source} connector {name!r}: bad options: {problems}") from None


def read_secret(env_name: str, secrets_file: Path | None) -> str | None:
    """The credential named ``env_name``: from ``secrets_file`` (``KEY=VALUE`` lines) when given, else the
    environment. ``None`` when absent or empty. The value is never logged or put in state."""
    if secrets_file is not None:
        for line in secrets_file.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() == env_name:
                return value.strip().strip("\"'") or None
        return None
    return os.environ.get(env_name) or None


def mention_source(source: str, name: str) -> str:
    """``Mention.source``: the source type, qualified by the instance name when that differs (``rss:blogs``)."""
    return source if name == source else f"{source}:{name}"


def looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def decode_json(response: httpx.Response) -> tuple[Any, Rejected | None]:
    """The JSON body, or a :class:`Rejected` (``html_error_page``, ``not_json``) carrying the raw bytes."""
    body = response.content
    if looks_like_html(body):
        return None, Rejected.of("html_error_page", f"HTTP {response.status_code}: HTML where JSON was expected", body)
    try:
        return json.loads(body), None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, Rejected.of("not_json", f"HTTP {response.status_code}: {error}", body)


def from_epoch(value: Any) -> datetime:
    """Aware UTC datetime from epoch seconds; ``TypeError``/``ValueError`` for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"epoch seconds expected, got {type(value).__name__}")
    return datetime.fromtimestamp(value, UTC)


def from_iso(value: Any) -> datetime:
    """Aware UTC datetime from ISO 8601 (``Z`` accepted); naive values are taken as UTC (APIs that omit it mean
    UTC). ``TypeError``/``ValueError`` for anything else."""
    if not isinstance(value, str):
        raise TypeError(f"ISO 8601 string expected, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class ItemError(Exception):
    """A payload item cannot become a Mention; ``reason`` is the :class:`Rejected` reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def need(item: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """``item[key]`` if present, not null and of type ``kind``; else :class:`ItemError`."""
    value = item.get(key)
    if value is None:
        raise ItemError("missing_field", f"{key} is missing or null")
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise ItemError("bad_type", f"{key} is {type(value).__name__}")
    return value


def count(item: Mapping[str, Any], key: str) -> int:
    """A non-negative engagement count; absent, null, negative or non-numeric counts as 0."""
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(int(value), 0)


class PollingConnector(Connector, abc.ABC):
    """A connector that polls: one sweep per ``poll_interval_s``, one :class:`Batch` per page fetched.

    ``http`` (a configured :class:`PoliteClient`), ``sleep`` (between polls) and ``clock`` are injectable so tests
    run against a loopback server without real waiting. Every sweep yields at least one batch, so the runner sees
    the connector alive (and the lag metric advance) even when nothing new was found.
    """

    def __init__(
        self,
        name: str,
        options: PollingOptions,
        *,
        http: PoliteClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(name, lookback=timedelta(seconds=options.lookback_s))
        self.options = options
        self._http = http
        self._sleep = sleep
        self.clock = clock

    @property
    def http(self) -> PoliteClient:
        if self._http is None:
            self._http = PoliteClient(
                headers=self.default_headers(), timeout_s=self.options.timeout_s, on_wait=self.report_wait
            )
        return self._http

    def default_headers(self) -> dict[str, str]:
        """Headers for the client this connector creates itself (not for an injected one)."""
        return {}

    @property
    def mention_source(self) -> str:
        return mention_source(self.source, self.name)

    async def batches(self, state: State) -> AsyncIterator[Batch]:
        current: dict[str, Any] = json.loads(json.dumps(dict(state)))
        while True:
            yielded = False
            async for batch in self.sweep(current):
                if batch.state is not None:
                    current = batch.state
                yielded = True
                yield batch
            if not yielded:
                yield Batch(state=current)
            await self._sleep(self.options.poll_interval_s)

    @abc.abstractmethod
    def sweep(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        """One poll from ``state``: a batch per page, each carrying the full state to resume from after it."""

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
