"""The connector contract: what every source (API poller, stream, webhook, file) gives the runner.

A connector turns one platform's payloads into :class:`~pipeline.schema.Mention` records. It does no Kafka and
keeps no state of its own between runs: the runner (``connectors.runner``) hands it the last saved cursor, publishes
each :class:`Batch` it yields, waits until the broker has acknowledged every record, and only then saves
``Batch.state``. A crash between publish and save re-sends at most one batch, which the pipeline's id-based dedup
absorbs; a crash before publish loses nothing because the cursor was not advanced.

Rules for implementers:

- ``batches(state)`` runs until cancelled. It polls at its own configured interval (or reads a stream) and yields
  one :class:`Batch` per page / per small group of stream events; it never sleeps forever without yielding.
- ``state`` is a JSON-serialisable mapping (cursor, since-id, newest created_at, ETag …); an empty mapping means
  "first run": start from ``lookback`` ago, not from the beginning of time.
- A payload item that cannot be turned into a Mention (missing field, wrong type, HTML where JSON was expected) is
  not an exception: put it in ``Batch.rejected`` with a short machine-readable reason; the runner dead-letters it.
  Only transport problems raise (and :mod:`connectors.http` already retries those politely).
- Mention ids are ``<platform>:<native id>`` so re-fetches of the same post collapse.
"""

from __future__ import annotations

import abc
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.schema import Mention

State = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Rejected:
    """One payload item a connector could not turn into a Mention."""

    reason: str
    """Machine-readable: ``not_json``, ``html_error_page``, ``missing_field``, ``bad_type``, ``bad_signature`` …"""
    detail: str
    """Human-readable: which field, what was found (no secrets)."""
    payload: bytes
    """The original bytes (truncated by the runner to the dead-letter size limit)."""

    @classmethod
    def of(cls, reason: str, detail: str, payload: Any) -> Rejected:
        if isinstance(payload, bytes):
            raw = payload
        elif isinstance(payload, str):
            raw = payload.encode("utf-8", "replace")
        else:
            raw = json.dumps(payload, default=str, ensure_ascii=False).encode("utf-8")
        return cls(reason, detail, raw)


@dataclass(slots=True)
class Batch:
    """What a connector yields: mentions to publish, rejects to dead-letter, and the cursor to save after both."""

    mentions: list[Mention] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    state: dict[str, Any] | None = None
    """The cursor once this batch is durable; ``None`` leaves the saved cursor as it is."""
    fetched: int = 0
    """Payload items read from the platform for this batch (mentions + rejects + items skipped as irrelevant)."""
    on_durable: Callable[[], None] | None = None
    """Called by the runner once the batch is acknowledged by the broker and its state saved (a webhook receiver
    answers 200 only then, so the platform re-delivers what we did not keep)."""
    newest: datetime | None = None
    """Newest ``created_at`` the platform showed in this batch (for the lag metric), also when nothing matched."""


class Connector(abc.ABC):
    """Base class of every source. Subclasses set :attr:`source` and implement :meth:`batches`."""

    source: str = ""
    """The source type as used on the command line: ``hackernews``, ``mastodon``, ``rss`` …"""

    def __init__(self, name: str | None = None, *, lookback: timedelta = timedelta(hours=1)) -> None:
        self.name = name or self.source
        """This instance's name: the key its cursor is saved under and its metrics label (unique per process)."""
        self.lookback = lookback

    @abc.abstractmethod
    def batches(self, state: State) -> AsyncIterator[Batch]:
        """Yield batches from the saved cursor ``state`` on, until cancelled."""

    def attach(self, on_wait: Callable[[str, float], None] | None) -> None:
        """Called by the runner before :meth:`batches`: waits of this connector's HTTP client (``rate_limit`` or
        ``backoff``, in seconds) are reported to ``on_wait`` from now on (metrics)."""
        self._wait_listener = on_wait

    def report_wait(self, kind: str, seconds: float) -> None:
        """Pass as ``PoliteClient(on_wait=self.report_wait)``: forwards to whatever the runner attached, if anything."""
        listener: Callable[[str, float], None] | None = getattr(self, "_wait_listener", None)
        if listener is not None:
            listener(kind, seconds)

    async def aclose(self) -> None:
        """Release clients and sockets. Called once by the runner, also after an error or Ctrl-C."""
        return None

    def start_time(self, now: datetime | None = None) -> datetime:
        """Where a first run starts: ``lookback`` before now."""
        return (now or datetime.now(UTC)) - self.lookback
