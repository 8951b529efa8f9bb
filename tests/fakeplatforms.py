"""Loopback fakes of the platforms' HTTP APIs (aiohttp.web on 127.0.0.1:0) and helpers to drive connectors.

``FakePlatform`` answers each path from a script of :class:`Reply` objects (or callables that build one from the
request), then from a per-path fallback; it records every request so tests can assert what was asked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from fakeapi import FakeSleep

from connectors.base import Batch, Connector
from connectors.http import PoliteClient
from connectors.sources.common import PollingConnector


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay_s: float = 0.0
    """Wait this long before answering (client timeouts)."""
    cut_after: int | None = None
    """Declare the full Content-Length, send only this many bytes, then drop the connection."""
    chunks: list[str] | None = None
    """A streaming reply: each chunk written and flushed in turn, ``chunk_gap_s`` apart."""
    chunk_gap_s: float = 0.01
    hold_s: float = 0.0
    """After the chunks, keep the stream open this long before closing it."""

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body.encode() if isinstance(self.body, str) else self.body
        return json.dumps(self.json).encode()


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    url: str


Responder = Reply | Callable[[web.Request], Reply]


class FakePlatform:
    def __init__(self) -> None:
        self.scripts: dict[str, list[Responder]] = {}
        self.fallbacks: dict[str, Responder] = {}
        self.seen: list[Seen] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def script(self, path: str, *replies: Responder) -> FakePlatform:
        self.scripts.setdefault(path, []).extend(replies)
        return self

    def fallback(self, path: str, reply: Responder) -> FakePlatform:
        self.fallbacks[path] = reply
        return self

    def hits(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    async def __aenter__(self) -> FakePlatform:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            Seen(request.method, request.path, dict(request.query), dict(request.headers), str(request.rel_url))
        )
        script = self.scripts.get(request.path)
        responder = script.pop(0) if script else self.fallbacks.get(request.path)
        if responder is None:
            return web.Response(status=404, text="<html><body>Not Found</body></html>", content_type="text/html")
        reply = responder(request) if callable(responder) else responder
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.chunks is not None:
            stream = web.StreamResponse(status=reply.status, headers=reply.headers)
            stream.content_type = reply.content_type
            await stream.prepare(request)
            for chunk in reply.chunks:
                await stream.write(chunk.encode())
                await asyncio.sleep(reply.chunk_gap_s)
            await asyncio.sleep(reply.hold_s)
            return stream
        payload = reply.payload()
        if reply.cut_after is not None:
            cut = web.StreamResponse(status=reply.status, headers=reply.headers)
            cut.content_type = reply.content_type
            cut.content_length = len(payload)
            await cut.prepare(request)
            await cut.write(payload[: reply.cut_after])
            assert request.transport is not None
            request.transport.close()
            return cut
        return web.Response(status=reply.status, body=payload, headers=reply.headers, content_type=reply.content_type)


async def take(connector: Connector, state: dict[str, Any], n: int, timeout: float = 15) -> list[Batch]:
    """The first ``n`` batches ``connector.batches(state)`` yields (then the generator is closed)."""
    batches: list[Batch] = []
    stream: AsyncIterator[Batch] = connector.batches(state)

    async def collect() -> None:
        async for batch in stream:
            batches.append(batch)
            if len(batches) == n:
                return

    try:
        await asyncio.wait_for(collect(), timeout)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return batches


def wait_free(connector: PollingConnector, sleep: FakeSleep) -> PollingConnector:
    """Give ``connector`` the HTTP client it would make itself (its headers, timeout, wait reports), but with
    ``sleep`` instead of real waiting, so Retry-After, rate-limit and backoff waits are recorded, not slept."""
    connector._http = PoliteClient(
        headers=connector.default_headers(),
        timeout_s=connector.options.timeout_s,
        on_wait=connector.report_wait,
        sleep=sleep,
    )
    return connector
