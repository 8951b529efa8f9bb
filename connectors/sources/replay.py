"""``replay``: publish a recorded stream from a file, JSONL of mentions (``.gz`` too) or CSV, then stop.

Options: ``path`` (required); ``format`` ``auto`` (by suffix: ``.csv`` → CSV, else JSONL), ``jsonl`` or ``csv``;
``speed`` 0 (default: as fast as the broker takes it) or a factor of real time, records held until their
``fetched_at`` comes round as in :class:`connectors.pacing.Pacer`; ``rebase`` shifts every timestamp so the first
record looks created now; ``batch_size`` records per batch; ``platform`` for CSV rows without a platform column.

CSV: a header row naming the columns; ``id, platform, created_at, text, author`` are needed (``platform`` may come
from the option), ``url, fetched_at, lang, kind, in_reply_to, display_name, followers, likes, shares, replies,
views, author_is_brand`` are used when present, other columns ignored. ``id`` is the platform's native id
(``<platform>:`` is prefixed unless already there); timestamps are ISO 8601, naive ones taken as UTC; a missing
``fetched_at`` is ``created_at``.

State: ``{"lines": records done, "shift_s": the rebase shift}``; a restart skips the records done. A line that is
not a valid mention is dead-lettered (``not_json`` / ``schema`` / ``bad_row``) with its bytes.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.base import Batch, Connector, Rejected, State
from connectors.pacing import Pacer
from connectors.replay import describe_invalid, open_recording
from pipeline.schema import Author, Engagement, Mention, mention_id, utcnow

SOURCE = "replay"


class ReplayOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path
    format: Literal["auto", "jsonl", "csv"] = "auto"
    speed: float = Field(0.0, ge=0, description="0: as fast as possible; else times real time")
    rebase: bool = False
    batch_size: int = Field(500, ge=1)
    platform: str | None = None


class ReplayConnector(Connector):
    """Reads :attr:`options.path <ReplayOptions.path>` once, from the saved line on; ``batches`` ends at its end."""

    source = SOURCE

    def __init__(self, name: str, options: ReplayOptions) -> None:
        super().__init__(name)
        self.options = options
        fmt = options.format
        if fmt == "auto":
            fmt = "csv" if options.path.name.lower().removesuffix(".gz").endswith(".csv") else "jsonl"
        self.format = fmt

    async def batches(self, state: State) -> AsyncIterator[Batch]:
        done = int(state.get("lines", 0))
        shift_s: float | None = state.get("shift_s")
        pacer = Pacer(self.options.speed) if self.options.speed > 0 else None
        batch = Batch()
        for number, item in enumerate(self._records(), 1):
            if number <= done:
                continue
            if isinstance(item, Rejected):
                batch.rejected.append(item)
            else:
                if self.options.rebase:
                    if shift_s is None:
                        shift_s = (utcnow() - item.created_at).total_seconds()
                    item = _shifted(item, timedelta(seconds=shift_s))
                # Hand over what is ready before sleeping, so a slow recording is not held back by its batch size.
                if pacer is not None and pacer.delay(item.fetched_at) > 0:
                    if batch.mentions or batch.rejected:
                        yield self._close(batch, number - 1, shift_s)
                        batch = Batch()
                    await asyncio.sleep(pacer.delay(item.fetched_at))
                batch.mentions.append(item)
            if len(batch.mentions) + len(batch.rejected) >= self.options.batch_size:
                yield self._close(batch, number, shift_s)
                batch = Batch()
            elif number % 256 == 0:
                await asyncio.sleep(0)  # reading a large file must not starve the event loop
            done = number
        if batch.mentions or batch.rejected:
            yield self._close(batch, done, shift_s)

    def _close(self, batch: Batch, lines: int, shift_s: float | None) -> Batch:
        batch.fetched = len(batch.mentions) + len(batch.rejected)
        batch.state = {"lines": lines} if shift_s is None else {"lines": lines, "shift_s": shift_s}
        return batch

    def _records(self) -> Iterator[Mention | Rejected]:
        if self.format == "csv":
            yield from self._csv_records()
            return
        with open_recording(self.options.path) as lines:
            for raw in lines:
                if not raw.strip():
                    continue
                try:
                    yield Mention.model_validate_json(raw)
                except ValidationError as error:
                    reason = "not_json" if error.errors()[0]["type"] == "json_invalid" else "schema"
                    yield Rejected(reason, describe_invalid(error), raw.rstrip(b"\r\n"))

    def _csv_records(self) -> Iterator[Mention | Rejected]:
        with open_recording(self.options.path) as binary, io.TextIOWrapper(binary, "utf-8", newline="") as text:
            reader = csv.DictReader(text)
            missing = {"id", "created_at", "text", "author"} - set(reader.fieldnames or [])
            if "platform" not in (reader.fieldnames or []) and not self.options.platform:
                missing.add("platform")
            if missing:
                raise ValueError(f"{self.options.path}: CSV header lacks {', '.join(sorted(missing))}")
            for row in reader:
                try:
                    yield self._row_mention(row)
                except (ValueError, KeyError, TypeError) as error:
                    detail = describe_invalid(error) if isinstance(error, ValidationError) else str(error)
                    yield Rejected.of("bad_row", detail[:500], json.dumps(row, ensure_ascii=False))

    def _row_mention(self, row: Mapping[str, str | None]) -> Mention:
        def get(column: str) -> str | None:
            value = row.get(column)
            return value.strip() if value and value.strip() else None

        def count(column: str) -> int | None:
            value = get(column)
            return None if value is None else int(value)

        platform = get("platform") or self.options.platform
        native = get("id")
        if not platform or not native:
            raise ValueError("id and platform must not be empty")
        created = _timestamp(get("created_at"))
        fetched = _timestamp(get("fetched_at")) if get("fetched_at") else created
        return Mention(
            id=native if native.startswith(f"{platform}:") else mention_id(platform, native),
            source=f"{SOURCE}:{self.name}",
            platform=platform,
            url=get("url"),
            author=Author(handle=get("author") or "", display_name=get("display_name"), followers=count("followers")),
            text=row.get("text") or "",
            created_at=created,
            fetched_at=fetched,
            kind=get("kind") or "post",
            in_reply_to=get("in_reply_to"),
            author_is_brand=(get("author_is_brand") or "").lower() in {"1", "true", "yes"},
            engagement=Engagement(
                likes=count("likes") or 0,
                shares=count("shares") or 0,
                replies=count("replies") or 0,
                views=count("views"),
            ),
            lang_hint=get("lang"),
        )


def _timestamp(value: str | None) -> datetime:
    if value is None:
        raise ValueError("created_at is empty")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.utcoffset() is not None else parsed.replace(tzinfo=UTC)


def _shifted(mention: Mention, shift: timedelta) -> Mention:
    return mention.model_copy(
        update={"created_at": mention.created_at + shift, "fetched_at": mention.fetched_at + shift}
    )


def build(name: str, options: Mapping[str, Any]) -> ReplayConnector:
    config = ReplayOptions.model_validate(dict(options))
    if not config.path.is_file():
        raise ValueError(f"replay: no such file: {config.path}")
    return ReplayConnector(name, config)
