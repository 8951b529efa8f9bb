"""A loopback Slack: the Web API methods luister uses and incoming webhooks, in Slack's real shapes.

- ``POST /api/chat.postMessage`` / ``/api/chat.update`` (JSON body, ``Authorization: Bearer``), ``GET|POST
  /api/conversations.history`` / ``/api/conversations.replies`` (query or form): ``{"ok": true, ...}`` or HTTP 200
  ``{"ok": false, "error": "not_authed" | "invalid_auth" | "channel_not_found" | "is_archived" | "invalid_blocks"
  | "thread_not_found" | "message_not_found" | "invalid_json"}``. Messages carry ``metadata`` only when
  ``include_all_metadata`` is set; history holds top-level messages (newest first, ``oldest``/``latest``/
  ``inclusive``, cursor paging), replies a thread (parent first).
- ``POST /services/T…/B…/…`` (from :meth:`FakeSlack.add_webhook`): ``200 ok`` (text), ``400 invalid_payload`` /
  ``no_text`` / ``invalid_blocks``, ``404 no_service`` (unknown or revoked hook), ``410 channel_is_archived``.
- Block Kit limits are checked like Slack does (50 blocks, 3,000 per section text, 150 per header, 10 fields of
  2,000, 10 context elements, 75 per button label) so a message luister could not post fails here too.
- Scriptable faults per method (:meth:`FakeSlack.fail`): an HTTP status (429 with ``Retry-After``, 500, 503), a Web
  API error, a delay (longer than the client's timeout), each optionally *after* carrying out the request (Slack
  posted it, the answer was lost: the crash window). ``min_interval_s`` makes the fake answer 429 itself when a
  channel gets posts faster than that.
- ``received``: every request with its monotonic arrival time, channel and outcome.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

WEB_METHODS = ("chat.postMessage", "chat.update", "conversations.history", "conversations.replies")
WEBHOOK = "webhook"


@dataclass
class Fault:
    status: int | None = None
    """Answer this HTTP status (body ``error``/plain text) instead of the real answer."""
    error: str | None = None
    """Web API: answer HTTP 200 ``{"ok": false, "error": error}``; webhook: the plain-text body."""
    retry_after: float | None = None
    delay_s: float = 0.0
    """Wait this long before answering."""
    apply: bool = False
    """Carry out the request first (store the message), then answer as scripted: Slack did it, we never heard."""


@dataclass
class Received:
    at: float
    """time.monotonic() on arrival."""
    method: str
    channel: str | None
    body: dict[str, Any]
    stored_ts: str | None = None
    """ts of the message this request created, if it created one."""
    status: int = 200
    error: str | None = None


@dataclass
class Channel:
    id: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    archived: bool = False


class BlockKitError(ValueError):
    pass


def check_blocks(blocks: Any) -> None:
    """Raise ``BlockKitError`` where Slack would answer ``invalid_blocks``."""
    if not isinstance(blocks, list) or len(blocks) > 50:
        raise BlockKitError("more than 50 blocks" if isinstance(blocks, list) else "blocks is not a list")
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            text = block["text"]
            if text.get("type") != "plain_text" or not 0 < len(text["text"]) <= 150:
                raise BlockKitError("header text")
        elif kind == "section":
            text = block.get("text")
            fields = block.get("fields")
            if text is None and not fields:
                raise BlockKitError("section without text or fields")
            if text is not None and not 0 < len(text["text"]) <= 3000:
                raise BlockKitError("section text longer than 3000")
            if fields is not None and (len(fields) > 10 or any(len(f["text"]) > 2000 for f in fields)):
                raise BlockKitError("section fields")
        elif kind == "context":
            elements = block["elements"]
            if not 0 < len(elements) <= 10 or any(len(e.get("text", "")) > 3000 for e in elements):
                raise BlockKitError("context elements")
        elif kind == "actions":
            for element in block["elements"]:
                if element.get("type") == "button" and len(element["text"]["text"]) > 75:
                    raise BlockKitError("button text")
        elif kind != "divider":
            raise BlockKitError(f"unknown block type {kind!r}")


class FakeSlack:
    """``async with FakeSlack() as slack``: ``slack.api_url`` for ``alerts.web_api_url``."""

    def __init__(self, tokens: set[str] | None = None, min_interval_s: float | None = None) -> None:
        self.tokens: set[str] = set(tokens if tokens is not None else {"xoxb-good"})
        self.channels: dict[str, Channel] = {}
        self.webhooks: dict[str, str] = {}
        self.faults: dict[str, list[Fault]] = {}
        self.received: list[Received] = []
        self.min_interval_s = min_interval_s
        self._last_post: dict[str, float] = {}
        self._last_ts = 0.0
        self._hooks = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ---------------------------------------------------------------- setup and inspection

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def add_channel(self, channel_id: str) -> Channel:
        return self.channels.setdefault(channel_id, Channel(channel_id))

    def add_webhook(self, channel_id: str) -> str:
        """A new incoming-webhook URL posting into ``channel_id``."""
        self.add_channel(channel_id)
        n = next(self._hooks)
        path = f"/services/T0000/B{n:04d}/secret{n:04d}xyz"
        self.webhooks[path] = channel_id
        return self.url + path

    def fail(self, method: str, *faults: Fault) -> None:
        """The next requests to ``method`` (a Web API method or ``"webhook"``) meet ``faults`` in order."""
        self.faults.setdefault(method, []).extend(faults)

    def top_level(self, channel_id: str) -> list[dict[str, Any]]:
        """Top-level messages, oldest first."""
        return [m for m in self.channels[channel_id].messages if m.get("thread_ts") in (None, m["ts"])]

    def replies(self, channel_id: str, thread_ts: str) -> list[dict[str, Any]]:
        """Replies in a thread (without the parent), oldest first."""
        return [
            m for m in self.channels[channel_id].messages if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts
        ]

    def stored(self, channel_id: str) -> list[Received]:
        """The requests that created a message in ``channel_id``, in arrival order."""
        return [r for r in self.received if r.channel == channel_id and r.stored_ts is not None]

    # ---------------------------------------------------------------- server

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._web_api)
        app.router.add_route("POST", "/services/{tail:.*}", self._webhook)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _next_fault(self, method: str) -> Fault | None:
        queue = self.faults.get(method)
        return queue.pop(0) if queue else None

    def _new_ts(self) -> str:
        self._last_ts = max(round(time.time(), 6), round(self._last_ts + 0.000001, 6))
        return f"{self._last_ts:.6f}"

    async def _answer(self, fault: Fault | None, real: web.Response, seen: Received, *, web_api: bool) -> web.Response:
        if fault is not None and fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault is None or (fault.status is None and fault.error is None):
            return real
        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
        status = fault.status or 200
        seen.status, seen.error = status, fault.error
        if web_api and status == 200:
            return web.json_response({"ok": False, "error": fault.error}, headers=headers)
        if web_api and status == 429:
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
        return web.Response(status=status, text=fault.error or "error", headers=headers)

    # ---------------------------------------------------------------- Web API

    async def _web_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.read()
        args: dict[str, Any] = dict(request.query)
        content_type = request.headers.get("Content-Type", "")
        error: str | None = None
        if raw and content_type.startswith("application/json"):
            try:
                body = json.loads(raw)
                if not isinstance(body, dict):
                    raise ValueError("not an object")
                args.update(body)
            except ValueError:
                error = "invalid_json"
        elif raw:
            args.update((await request.post()).items())
        seen = Received(time.monotonic(), method, args.get("channel"), args)
        self.received.append(seen)
        if method not in WEB_METHODS:
            seen.status, seen.error = 404, "unknown_method"
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)

        fault = self._next_fault(method)
        if fault is not None and not fault.apply and (fault.status is not None or fault.error is not None):
            return await self._answer(fault, web.Response(), seen, web_api=True)

        auth = request.headers.get("Authorization", "")
        if error is None and not auth.startswith("Bearer "):
            error = "not_authed"
        elif error is None and auth.removeprefix("Bearer ") not in self.tokens:
            error = "invalid_auth"
        result: dict[str, Any] = {}
        if error is None:
            try:
                result = self._handle(method, args, seen)
            except _RateLimitError:
                seen.status, seen.error = 429, "ratelimited"
                limited = web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
                )
                return await self._answer(fault, limited, seen, web_api=True)
            except _RefusedError as refusal:
                error = refusal.code
        if error is not None:
            seen.error = error
            real = web.json_response({"ok": False, "error": error})
        else:
            real = web.json_response({"ok": True, **result})
        return await self._answer(fault, real, seen, web_api=True)

    def _channel(self, args: dict[str, Any]) -> Channel:
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None:
            raise _RefusedError("channel_not_found")
        return channel

    def _handle(self, method: str, args: dict[str, Any], seen: Received) -> dict[str, Any]:
        channel = self._channel(args)
        if method == "chat.postMessage":
            return self._post(channel, args, seen)
        if method == "chat.update":
            message = next((m for m in channel.messages if m["ts"] == args.get("ts")), None)
            if message is None:
                raise _RefusedError("message_not_found")
            _check_content(args)
            message.update(text=args.get("text", ""), blocks=args.get("blocks", []), edited={"ts": self._new_ts()})
            return {"channel": channel.id, "ts": message["ts"], "text": message["text"]}
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("true", "1")
        if method == "conversations.history":
            messages = list(reversed(self.top_level(channel.id)))
        else:
            parent = next((m for m in channel.messages if m["ts"] == args.get("ts")), None)
            if parent is None:
                raise _RefusedError("thread_not_found")
            messages = [parent, *self.replies(channel.id, parent["ts"])]
        messages = [m for m in messages if _in_range(m["ts"], args)]
        offset = int(base64.b64decode(args["cursor"]).decode().split(":")[1]) if args.get("cursor") else 0
        limit = int(args.get("limit", 100))
        page = messages[offset : offset + limit]
        more = offset + limit < len(messages)
        out = [{k: v for k, v in m.items() if with_metadata or k != "metadata"} for m in page]
        cursor = base64.b64encode(f"next:{offset + limit}".encode()).decode() if more else ""
        return {"messages": out, "has_more": more, "response_metadata": {"next_cursor": cursor}}

    def _post(self, channel: Channel, args: dict[str, Any], seen: Received) -> dict[str, Any]:
        if channel.archived:
            raise _RefusedError("is_archived")
        _check_content(args)
        metadata = args.get("metadata")
        if metadata is not None and (
            not isinstance(metadata, dict) or "event_type" not in metadata or "event_payload" not in metadata
        ):
            raise _RefusedError("invalid_metadata_format")
        thread_ts = args.get("thread_ts")
        parent = None
        if thread_ts is not None:
            parent = next((m for m in self.top_level(channel.id) if m["ts"] == thread_ts), None)
            if parent is None:
                raise _RefusedError("thread_not_found")
        self._pace(channel.id)
        message: dict[str, Any] = {
            "type": "message",
            "ts": self._new_ts(),
            "bot_id": "B0LUISTER",
            "text": args.get("text", ""),
            "blocks": args.get("blocks", []),
        }
        if metadata is not None:
            message["metadata"] = metadata
        if parent is not None:
            message["thread_ts"] = parent["ts"]
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
        channel.messages.append(message)
        seen.stored_ts = message["ts"]
        return {"channel": channel.id, "ts": message["ts"], "message": message}

    def _pace(self, channel_id: str) -> None:
        now = time.monotonic()
        last = self._last_post.get(channel_id)
        if self.min_interval_s is not None and last is not None and now - last < self.min_interval_s:
            raise _RateLimitError()
        self._last_post[channel_id] = now

    # ---------------------------------------------------------------- incoming webhooks

    async def _webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        channel_id = self.webhooks.get(request.path)
        seen = Received(time.monotonic(), WEBHOOK, channel_id, {})
        self.received.append(seen)
        fault = self._next_fault(WEBHOOK)
        if fault is not None and not fault.apply and (fault.status is not None or fault.error is not None):
            return await self._answer(fault, web.Response(), seen, web_api=False)
        status, text = 200, "ok"
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("not an object")
            seen.body = body
        except ValueError:
            body = None
        if channel_id is None:
            status, text = 404, "no_service"
        elif body is None:
            status, text = 400, "invalid_payload"
        elif self.channels[channel_id].archived:
            status, text = 410, "channel_is_archived"
        else:
            try:
                _check_content(body)
                self._pace(channel_id)
                message = {"type": "message", "ts": self._new_ts(), "text": body.get("text", "")}
                message["blocks"] = body.get("blocks", [])
                self.channels[channel_id].messages.append(message)
                seen.stored_ts = message["ts"]
            except _RateLimitError:
                status, text = 429, "rate_limited"
            except _RefusedError as refusal:
                status, text = 400, refusal.code
        seen.status, seen.error = status, None if status == 200 else text
        headers = {"Retry-After": "1"} if status == 429 else {}
        real = web.Response(status=status, text=text, headers=headers)
        return await self._answer(fault, real, seen, web_api=False)


class _RefusedError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class _RateLimitError(_RefusedError):
    def __init__(self) -> None:
        super().__init__("ratelimited")


def _check_content(args: dict[str, Any]) -> None:
    if not args.get("text") and not args.get("blocks"):
        raise _RefusedError("no_text")
    if "blocks" in args:
        try:
            check_blocks(args["blocks"])
        except (BlockKitError, KeyError, TypeError, AttributeError) as error:
            raise _RefusedError("invalid_blocks") from error


def _in_range(ts: str, args: dict[str, Any]) -> bool:
    inclusive = str(args.get("inclusive", "")).lower() in ("true", "1")
    value = float(ts)
    if "oldest" in args and args["oldest"] != "":
        oldest = float(args["oldest"])
        if value < oldest or (value == oldest and not inclusive):
            return False
    if "latest" in args and args["latest"] != "":
        latest = float(args["latest"])
        if value > latest or (value == latest and not inclusive):
            return False
    return True
