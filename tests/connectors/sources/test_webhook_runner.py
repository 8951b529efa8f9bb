"""The webhook receiver under the real runner: the platform gets its 200 only after the runner's flush."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from fake_platforms.webhook import sign

from connectors.metrics import ConnectorMetrics
from connectors.runner import run_connector
from connectors.sources import webhook
from connectors.state import MemoryStateStore
from pipeline.deadletter import DLQ_REASON
from pipeline.schema import Mention

SECRET = "runner-secret"


class GatedSink:
    """Keeps mentions; ``flush`` waits until the test opens the gate (a slow broker)."""

    def __init__(self) -> None:
        self.mentions: list[Mention] = []
        self.raw: list[tuple[bytes | None, bytes, Any]] = []
        self.gate = asyncio.Event()
        self.flushing = asyncio.Event()

    async def send(self, mention: Mention) -> None:
        self.mentions.append(mention)

    async def send_raw(self, key: bytes | None, value: bytes, *, headers: Any = None) -> None:
        self.raw.append((key, value, headers))

    async def flush(self) -> None:
        self.flushing.set()
        await self.gate.wait()


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUISTER_WEBHOOK_APP_SECRET", SECRET)
    monkeypatch.setenv("LUISTER_WEBHOOK_VERIFY_TOKEN", "t")


def signed(payload: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {"X-Hub-Signature-256": sign(body, SECRET), "Content-Type": "application/json"}


async def test_reply_waits_for_the_runners_flush_and_replays_are_dead_lettered() -> None:
    connector = webhook.build("owned", {"port": 0, "durable_timeout_s": 5})
    await connector.start()
    sink, dead = GatedSink(), GatedSink()
    dead.gate.set()
    runner = asyncio.create_task(
        run_connector(connector, sink=sink, deadletters=dead, store=MemoryStateStore(), metrics=ConnectorMetrics())
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{connector.port}", timeout=10) as http:
            now = time.time()
            item = {
                "platform": "shop",
                "id": "42",
                "text": "Waar blijft mijn fiets?",
                "author": "klant",
                "created_at": now,
            }
            body, headers = signed(item)
            reply = asyncio.create_task(http.post("/webhook", content=body, headers=headers))
            await asyncio.wait_for(sink.flushing.wait(), 5)
            await asyncio.sleep(0.2)
            assert not reply.done(), "answered before the broker acknowledged"
            assert [m.id for m in sink.mentions] == ["shop:42"]
            sink.gate.set()
            assert (await asyncio.wait_for(reply, 5)).status_code == 200

            stale, headers = signed({**item, "id": "43", "created_at": now - 3600})
            assert (await http.post("/webhook", content=stale, headers=headers)).status_code == 409
            for _ in range(50):
                if dead.raw:
                    break
                await asyncio.sleep(0.05)
            assert len(dead.raw) == 1 and json.loads(dead.raw[0][1])["id"] == "43"
            assert dict(dead.raw[0][2])[DLQ_REASON] == b"replay"
            assert [m.id for m in sink.mentions] == ["shop:42"]
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
