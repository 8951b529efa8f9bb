"""Server-sent events (``text/event-stream``) from an async iterator of lines. Pure parsing, no I/O."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator


async def sse_events(lines: AsyncIterable[str]) -> AsyncIterator[tuple[str, str]]:
    """``(event, data)`` per dispatched event; ``event`` defaults to ``message``; comment lines (heartbeats) skipped.

    Multi-line ``data:`` fields are joined with newlines, as the HTML standard's parsing rules say.
    An event the stream ends in the middle of is not dispatched.
    """
    event, data = "", list[str]()
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield event or "message", "\n".join(data)
            event, data = "", list[str]()
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    # An event not ended by a blank line was cut off: dropped, as the standard says.
