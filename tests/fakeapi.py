"""A scripted fake platform API on 127.0.0.1 (aiohttp.web) for connector tests.

``api.route(method, path, *responses)`` answers successive requests to ``path`` with the given responses in order
(the last one repeats); a response is a :class:`Reply` or a callable ``(request) -> Reply`` (sync or async), so a
test can page by query parameters. Every request is logged in ``api.requests`` (method, path, query, headers,
body) for assertions on cursors and headers.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from connectors.http import PoliteClient


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay_s: float = 0.0
    """Sleep before answering (longer than the client timeout simulates a hung server)."""

    def response(self) -> web.Response:
        if isinstance(self.body, bytes):
            raw = self.body
        elif isinstance(self.body, str):
            raw = self.body.encode()
        else:
            raw = json.dumps(self.body).encode()
        return web.Response(status=self.status, body=raw, headers={"Content-Type": self.content_type, **self.headers})


def json_reply(data: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(status, json.dumps(data).encode(), {k.replace("_", "-"): v for k, v in headers.items()})


HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>The server is temporarily unable to service your request.</p></body></html>"
)

Handler = Reply | Callable[[web.Request], Reply | Awaitable[Reply]]


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class FakeAPI:
    def __init__(self) -> None:
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.routes: dict[tuple[str, str], list[Handler]] = {}
        self.requests: list[Seen] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> FakeAPI:
        self._runner = web.AppRunner(self.app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def route(self, method: str, path: str, *responses: Handler) -> None:
        self.routes[(method.upper(), path)] = list(responses)

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Seen(request.method, request.path, dict(request.query), dict(request.headers), body))
        queue = self.routes.get((request.method, request.path))
        if not queue:
            return web.Response(status=404, text=f"no route {request.method} {request.path}")
        handler = queue.pop(0) if len(queue) > 1 else queue[0]
        reply = handler(request) if callable(handler) else handler
        if inspect.isawaitable(reply):
            reply = await reply
        assert isinstance(reply, Reply)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        return reply.response()


class FakeSleep:
    """An injectable ``sleep`` that records what it was asked to wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


def polite(sleep: FakeSleep | None = None, *, timeout_s: float = 2.0, max_attempts: int = 4, **kw: Any) -> PoliteClient:
    """A PoliteClient for tests: short timeout, waits recorded by ``sleep`` instead of taken."""
    return PoliteClient(timeout_s=timeout_s, max_attempts=max_attempts, sleep=sleep or FakeSleep(), **kw)


async def take(batches: Any, n: int) -> list[Any]:
    """The first ``n`` batches of a connector's ``batches()`` iterator (closed afterwards)."""
    out = []
    async for batch in batches:
        out.append(batch)
        if len(out) >= n:
            break
    await batches.aclose()
    return out


__all__ = ["HTML_ERROR_PAGE", "FakeAPI", "FakeSleep", "Reply", "json_reply", "polite", "take"]
