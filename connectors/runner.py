"""Runs one :class:`~connectors.base.Connector`: cursor in, mentions and dead letters out, cursor saved after both.

Per batch, in this order (the order is the guarantee)::

    select each mention (brand queries) ─► send kept mentions ─► dead-letter rejects ─► flush both
        ─► save batch.state ─► batch.on_durable()

The cursor never advances before the broker acknowledged everything the batch produced, so a crash or Ctrl-C
re-sends at most the one batch in progress (the pipeline deduplicates by mention id). Backpressure comes from the
sinks: ``send`` waits while the producer has its bound of unacknowledged records.

A failing batch (a :class:`~connectors.http.FetchError` after the client's own retries, a broker error, a bug in
the connector) is counted by kind, logged, and followed by a backoff; then ``batches()`` starts again from the last
saved cursor. Nothing but cancellation stops the runner; a connector whose ``batches()`` ends (a file replay)
ends it normally.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any, Protocol

from connectors.base import Batch, Connector, Rejected
from connectors.http import FetchError
from connectors.metrics import ConnectorMetrics
from connectors.sink import DeliveryError
from connectors.state import StateStore
from pipeline.deadletter import deadletter_headers
from pipeline.schema import Mention

log = logging.getLogger("luister.connectors.runner")

Select = Callable[[Mention], Mention | None]
"""A brand filter such as ``connectors.query.QuerySet.apply``: the mention (with its brands) to keep, or None."""

MAX_DEADLETTER_BYTES = 1_000_000
"""Rejected payloads are cut to this size (the worker's decoder refuses raw records above 1 MB as well)."""


class MentionOutlet(Protocol):
    """Where kept mentions go (``KafkaMentionSink`` on the raw topic)."""

    async def send(self, mention: Mention) -> None: ...

    async def flush(self) -> None: ...


class DeadLetterOutlet(Protocol):
    """Where rejects go (``KafkaMentionSink`` on the dead-letter topic, used through ``send_raw``)."""

    async def send_raw(
        self, key: bytes | None, value: bytes, *, headers: Sequence[tuple[str, bytes]] | None = None
    ) -> None: ...

    async def flush(self) -> None: ...


class _StepError(Exception):
    """Wraps an error of one step so it is counted under that step's kind."""

    def __init__(self, kind: str, cause: BaseException) -> None:
        super().__init__(f"{kind}: {cause!r}")
        self.kind = kind


def error_kind(error: BaseException) -> str:
    """The ``kind`` label of the errors metric: the fetch error's kind (``network``, ``rate_limited``,
    ``http_5xx``), ``delivery`` / ``state`` for broker-side steps, else ``connector`` (a bug or an unexpected
    answer in the connector's own code)."""
    if isinstance(error, _StepError):
        return error.kind
    if isinstance(error, FetchError):
        return error.kind
    if isinstance(error, DeliveryError):
        return "delivery"
    return "connector"


async def run_connector(
    connector: Connector,
    *,
    sink: MentionOutlet,
    deadletters: DeadLetterOutlet,
    store: StateStore,
    select: Select | None = None,
    metrics: ConnectorMetrics,
    backoff_base_s: float = 1.0,
    backoff_max_s: float = 60.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run ``connector`` until cancelled (or until its ``batches()`` ends); see the module docstring.

    The sinks and the store belong to the caller (started before, stopped after); the connector is closed here
    (``aclose``), also on error or cancellation. On cancellation what was already handed to the sinks is flushed,
    but the cursor of the unfinished batch is not saved.
    """
    name = connector.name
    connector.attach(metrics.on_wait(name))
    failures = 0
    try:
        state = await _load(store, name, metrics, backoff_base_s, backoff_max_s, sleep)
        while True:
            batches = connector.batches(state)
            try:
                async for batch in batches:
                    await _publish(batch, name, sink, deadletters, store, select, metrics)
                    if batch.state is not None:
                        state = batch.state
                    failures = 0
                log.info("connector %s: no more batches", name)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                kind = error_kind(error)
                metrics.errors.labels(name, kind).inc()
                delay = _backoff(failures, backoff_base_s, backoff_max_s)
                failures += 1
                log.warning(
                    "connector %s: %s error (%s); restarting from the saved state in %.1fs",
                    name,
                    kind,
                    error,
                    delay,
                    exc_info=kind == "connector",
                )
            finally:
                await _close(batches)
            await sleep(delay)
    except asyncio.CancelledError:
        # What was handed over still goes out; the unfinished batch's cursor is not saved, so it is re-sent.
        for outlet in (sink, deadletters):
            with suppress(Exception):
                await outlet.flush()
        raise
    finally:
        await connector.aclose()


async def _publish(
    batch: Batch,
    name: str,
    sink: MentionOutlet,
    deadletters: DeadLetterOutlet,
    store: StateStore,
    select: Select | None,
    metrics: ConnectorMetrics,
) -> None:
    metrics.fetched.labels(name).inc(batch.fetched or len(batch.mentions) + len(batch.rejected))
    rejected = list(batch.rejected)
    kept = 0
    for mention in batch.mentions:
        chosen: Mention | None = mention
        if select is not None:
            try:
                chosen = select(mention)
            except Exception as error:  # a filter bug must not stall the connector on this mention forever
                rejected.append(_filter_failure(mention, error))
                continue
        if chosen is None:
            metrics.unmatched.labels(name).inc()
            continue
        await sink.send(chosen)
        kept += 1
    origin = f"connector/{name}"
    for reject in rejected:
        await deadletters.send_raw(
            name.encode("utf-8"),
            reject.payload[:MAX_DEADLETTER_BYTES],
            headers=deadletter_headers(reject.reason, reject.detail, origin),
        )
    try:
        await sink.flush()
        await deadletters.flush()
    except Exception as error:
        raise _StepError("delivery", error) from error
    if batch.state is not None:
        try:
            await store.save(name, batch.state)
        except Exception as error:
            raise _StepError("state", error) from error
    metrics.published.labels(name).inc(kept)
    for reject in rejected:
        metrics.rejected.labels(name, reject.reason).inc()
    newest = batch.newest
    if batch.mentions:
        newest_mention = max(m.created_at for m in batch.mentions)
        newest = newest_mention if newest is None else max(newest, newest_mention)
    metrics.saw(name, newest)
    if batch.on_durable is not None:
        batch.on_durable()


async def _load(
    store: StateStore,
    name: str,
    metrics: ConnectorMetrics,
    base_s: float,
    max_s: float,
    sleep: Callable[[float], Awaitable[None]],
) -> Mapping[str, Any]:
    """The saved cursor; retried until it can be read (starting from scratch instead would re-fetch ``lookback``)."""
    attempt = 0
    while True:
        try:
            return await store.load(name)
        except Exception as error:
            metrics.errors.labels(name, "state").inc()
            delay = _backoff(attempt, base_s, max_s)
            attempt += 1
            log.warning("connector %s: cannot load its state (%r); retrying in %.1fs", name, error, delay)
            await sleep(delay)


def _filter_failure(mention: Mention, error: Exception) -> Rejected:
    return Rejected.of("filter_error", f"brand filter raised {error!r}"[:500], mention.model_dump_json())


def _backoff(failures: int, base_s: float, max_s: float) -> float:
    """Full jitter, at least a tenth of the base so a connector failing at once cannot spin."""
    ceiling = min(max_s, base_s * 2**failures)
    return max(random.uniform(0, ceiling), base_s / 10)


async def _close(batches: AsyncIterator[Batch]) -> None:
    aclose = getattr(batches, "aclose", None)
    if aclose is not None:
        with suppress(Exception):
            await aclose()
