"""Where connectors put their mentions: the raw topic (:class:`KafkaMentionSink`), or a list in tests.

Record format on the raw topic (what ``pipeline.steps.decode`` expects): key = ``Mention.id`` as UTF-8, value =
``Mention.model_dump_json()`` as UTF-8. Keying by id sends every copy of a mention to the same partition.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol, Self

from aiokafka import AIOKafkaProducer

from pipeline.schema import Mention

DEFAULT_TOPIC = "mentions.raw"


class MentionSink(Protocol):
    """Anything a connector can hand mentions to. ``send`` may wait (backpressure) but must not drop silently."""

    async def send(self, mention: Mention) -> None: ...


class ListSink:
    """Keeps every mention it is sent, in order (tests, dry runs)."""

    def __init__(self) -> None:
        self.mentions: list[Mention] = []

    async def send(self, mention: Mention) -> None:
        self.mentions.append(mention)


class DeliveryError(RuntimeError):
    """Some records sent since the previous flush were not acknowledged by the broker (after its retries)."""

    def __init__(self, failed: int, first: BaseException) -> None:
        super().__init__(f"{failed} record(s) not delivered; first error: {first!r}")
        self.failed = failed
        self.first = first


class KafkaMentionSink:
    """An aiokafka producer for mentions, with a bound on unacknowledged records.

    ``async with KafkaMentionSink(servers) as sink: await sink.send(mention)``. ``send`` returns once the record is
    handed to the producer; it waits first while ``max_in_flight`` records are unacknowledged, so a slow broker
    slows the connector instead of growing memory. Delivery is confirmed asynchronously: ``sent`` and ``failed``
    count acknowledgements and final failures, and :meth:`flush` waits for all of them and raises
    :class:`DeliveryError` if any record since the previous flush failed. A connector advances its cursor only after
    a successful flush. Leaving the ``async with`` block normally flushes (and may raise); leaving it with an
    exception only stops the producer, which still waits for records already handed over.

    Producer settings: ``acks='all'``; no idempotence (Tansu rejects InitProducerId, so retries after a lost
    acknowledgement can duplicate a record: the pipeline deduplicates by id); compression off unless asked for
    (``gzip``, ``lz4``, ``zstd``, ``snappy``). The topic should exist (``pipeline.topics.ensure_topics``); a broker
    that auto-creates topics would otherwise create it with its default partition count.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str = DEFAULT_TOPIC,
        *,
        max_in_flight: int = 5_000,
        linger_ms: int = 5,
        compression_type: str | None = None,
        client_id: str = "luister-connector",
        request_timeout_ms: int = 30_000,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.topic = topic
        self.max_in_flight = max_in_flight
        self._producer_options: dict[str, Any] = {
            "bootstrap_servers": bootstrap_servers,
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": False,
            "linger_ms": linger_ms,
            "compression_type": compression_type,
            "request_timeout_ms": request_timeout_ms,
        }
        self._producer: AIOKafkaProducer | None = None
        self._slots: asyncio.Semaphore | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        self.sent = 0
        """Records the broker acknowledged."""
        self.failed = 0
        """Records that failed for good (refused at hand-over, or the producer's retries exhausted)."""
        self._failed_since_flush = 0
        self._first_error: BaseException | None = None

    @property
    def in_flight(self) -> int:
        """Records handed to the producer and not yet acknowledged or failed."""
        return len(self._pending)

    async def start(self) -> None:
        """Connect to the broker. Raises aiokafka's ``KafkaConnectionError`` when it cannot be reached."""
        if self._producer is not None:
            return
        producer = AIOKafkaProducer(**self._producer_options)
        await producer.start()
        self._producer = producer
        self._slots = asyncio.Semaphore(self.max_in_flight)

    async def stop(self) -> None:
        """Stop the producer; it waits for records already handed to it. Idempotent."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()
            # stop() delivered or failed every batch; let the futures' callbacks run before anyone reads counters.
            if self._pending:
                await asyncio.gather(*self._pending, return_exceptions=True)

    async def send(self, mention: Mention) -> None:
        """Hand one mention to the producer, keyed by its id; waits while ``max_in_flight`` are unacknowledged."""
        await self.send_raw(mention.id.encode("utf-8"), mention.model_dump_json().encode("utf-8"))

    async def send_raw(
        self, key: bytes | None, value: bytes, *, headers: Sequence[tuple[str, bytes]] | None = None
    ) -> None:
        """Send arbitrary bytes (and record headers) to the topic: dead letters, and malformed records in tests.
        Same contract as ``send``.

        An error raised while handing over (record too large, producer closed) is counted in ``failed`` and
        re-raised here; it does not make the next :meth:`flush` raise, since the caller has already seen it.
        """
        if self._producer is None or self._slots is None:
            raise RuntimeError("KafkaMentionSink is not started: use 'async with' or call start()")
        await self._slots.acquire()
        try:
            future: asyncio.Future[Any] = await self._producer.send(
                self.topic, value=value, key=key, headers=list(headers) if headers else None
            )
        except BaseException as error:
            self._slots.release()
            if not isinstance(error, asyncio.CancelledError):
                self.failed += 1
            raise
        self._pending.add(future)
        future.add_done_callback(self._on_done)

    async def flush(self) -> None:
        """Wait until every record handed over so far is acknowledged or failed; raise :class:`DeliveryError` if
        any record since the previous flush failed (the failure count then starts again from zero)."""
        if self._producer is not None:
            await self._producer.flush()
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._failed_since_flush:
            failed, first = self._failed_since_flush, self._first_error
            self._failed_since_flush, self._first_error = 0, None
            assert first is not None
            raise DeliveryError(failed, first)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                await self.flush()
        finally:
            await self.stop()

    def _on_done(self, future: asyncio.Future[Any]) -> None:
        self._pending.discard(future)
        if self._slots is not None:
            self._slots.release()
        if future.cancelled():
            self._record_failure(asyncio.CancelledError("send cancelled"))
        elif (error := future.exception()) is not None:
            self._record_failure(error)
        else:
            self.sent += 1

    def _record_failure(self, error: BaseException) -> None:
        self.failed += 1
        self._failed_since_flush += 1
        if self._first_error is None:
            self._first_error = error
