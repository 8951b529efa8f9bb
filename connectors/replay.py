"""Replay a recorded stream: a JSONL file of :class:`~pipeline.schema.Mention` records (``.gz`` accepted).

One JSON object per line; blank lines are skipped. A line that is not a valid mention is reported (logged and kept
in :attr:`JsonlReplay.bad`) and skipped, never fatal: a recording with a few broken lines still replays.
:func:`write_jsonl` makes such a file (e.g. from :class:`connectors.demo.DemoStream`).
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from connectors.pacing import Pacer, send_paced
from connectors.sink import MentionSink
from pipeline.schema import Mention

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    """1-based line number in the file."""
    reason: str


class JsonlReplay:
    """Mentions from a JSONL file, in file order.

    ``rebase_to``: shift every record's ``created_at`` and ``fetched_at`` by the same amount so that the first
    valid record was created at ``rebase_to`` (a recording then looks live on "last 15 minutes" dashboards).
    Each iteration reads the file again and resets :attr:`bad`, :attr:`bad_count` and :attr:`valid_count`;
    :attr:`bad` keeps the first ``keep_bad`` bad lines, :attr:`bad_count` counts all of them.
    """

    def __init__(self, path: Path | str, *, rebase_to: datetime | None = None, keep_bad: int = 100) -> None:
        if rebase_to is not None and rebase_to.utcoffset() is None:
            raise ValueError("rebase_to must be timezone-aware")
        self.path = Path(path)
        self.rebase_to = rebase_to
        self.keep_bad = keep_bad
        self.bad: list[BadLine] = []
        self.bad_count = 0
        self.valid_count = 0

    def __iter__(self) -> Iterator[Mention]:
        self.bad, self.bad_count, self.valid_count = [], 0, 0
        shift: timedelta | None = None
        with _open(self.path, "rb") as lines:
            for number, raw in enumerate(lines, 1):
                if not raw.strip():
                    continue
                try:
                    mention = Mention.model_validate_json(raw)
                except ValidationError as error:
                    self._report(number, _summary(error))
                    continue
                self.valid_count += 1
                if self.rebase_to is not None:
                    if shift is None:
                        shift = self.rebase_to - mention.created_at
                    mention = mention.model_copy(
                        update={"created_at": mention.created_at + shift, "fetched_at": mention.fetched_at + shift}
                    )
                yield mention

    async def run(
        self, sink: MentionSink, *, realtime: bool = True, speed: float = 1.0, limit: int | None = None
    ) -> int:
        """Send the file's valid mentions to ``sink`` in file order, at most ``limit``; returns how many were sent.

        ``realtime``: keep the recording's rhythm, each mention held until its ``fetched_at`` comes round on a
        clock that starts at the first mention's ``fetched_at`` and runs ``speed`` times faster than real time
        (records out of order go out at once). Without it, as fast as the sink accepts them.
        """
        sent = await send_paced(self, sink, Pacer(speed) if realtime else None, limit)
        if self.bad_count:
            log.warning("replay of %s skipped %d bad line(s)", self.path, self.bad_count)
        return sent

    def _report(self, number: int, reason: str) -> None:
        self.bad_count += 1
        if len(self.bad) < self.keep_bad:
            self.bad.append(BadLine(number, reason))
            log.warning("%s:%d: skipped, not a valid mention: %s", self.path, number, reason)


def write_jsonl(mentions: Iterable[Mention], path: Path | str) -> int:
    """Write mentions one JSON object per line (gzip-compressed when ``path`` ends in ``.gz``); returns the count."""
    count = 0
    with _open(Path(path), "wb") as out:
        for mention in mentions:
            out.write(mention.model_dump_json().encode("utf-8") + b"\n")
            count += 1
    return count


def _open(path: Path, mode: str) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, mode)  # type: ignore[return-value]
    return path.open(mode)


def _summary(error: ValidationError, limit: int = 3) -> str:
    parts = []
    for detail in error.errors()[:limit]:
        where = ".".join(str(part) for part in detail["loc"]) or "(record)"
        parts.append(f"{where}: {detail['msg']}")
    more = error.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def open_recording(path: Path | str) -> IO[bytes]:
    """The recording for reading in binary (transparently gunzipped when it ends in ``.gz``)."""
    return _open(Path(path), "rb")


def describe_invalid(error: ValidationError) -> str:
    """A one-line summary of why a record is not a valid mention (its first few field errors)."""
    return _summary(error)
