"""The webhook receiver over real loopback HTTP: handshake, signatures, size limit, replays, durable replies."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_platforms import webhook as meta

from connectors.base import Batch
from connectors.sources import webhook

SECRET = "app-secret-for-tests"
TOKEN = "verify-token-for-tests"


def sign(body: bytes, secret: str = SECRET) -> str:
    return meta.sign(body, secret)


@pytest.fixture(autouse=True)
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUISTER_WEBHOOK_APP_SECRET", SECRET)
    monkeypatch.setenv("LUISTER_WEBHOOK_VERIFY_TOKEN", TOKEN)


class Receiver:
    """A started receiver, an HTTP client to it, and a stand-in runner that collects batches."""

    def __init__(self, connector: webhook.WebhookConnector, http: httpx.AsyncClient) -> None:
        self.connector = connector
        self.http = http
        self.batches: asyncio.Queue[Batch] = asyncio.Queue()
        self._stream = connector.batches({})
        self._task: asyncio.Task[None] | None = None

    def run(self) -> None:
        async def collect() -> None:
            async for batch in self._stream:
                await self.batches.put(batch)

        self._task = asyncio.create_task(collect())

    async def next_batch(self, timeout: float = 5) -> Batch:
        return await asyncio.wait_for(self.batches.get(), timeout)

    async def post(self, payload: Any, *, signature: str | None = "auto", **headers: str) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if signature == "auto":
            signature = sign(body)
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return await self.http.post("/webhook", content=body, headers={"Content-Type": "application/json", **headers})

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.connector.aclose()


async def _receiver(options: dict[str, Any]) -> Receiver:
    connector = webhook.build("owned", {"port": 0, **options})
    await connector.start()
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{connector.port}", timeout=10)
    return Receiver(connector, http)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await _receiver({"durable_timeout_s": 3, "brand_ids": ["veloxa_official"]})
    try:
        yield r
    finally:
        await r.http.aclose()
        await r.close()


def meta_payload(now: float, page_id: str = "1001") -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [
            {
                "id": page_id,
                "time": int(now),
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": "555_777",
                            "post_id": "1001_555",
                            "parent_id": "1001_555",
                            "from": {"id": "42", "name": "Anna de Vries"},
                            "message": "Mijn Veloxa accu is na 2 weken leeg",
                            "created_time": int(now) - 3,
                        },
                    },
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": "555_778",
                            "post_id": "1001_555",
                            "parent_id": "555_777",
                            "from": {"id": page_id, "name": "Veloxa"},
                            "message": "Sorry Anna, we sturen je een DM.",
                            "created_time": int(now) - 1,
                        },
                    },
                    {"field": "feed", "value": {"item": "reaction", "verb": "add", "reaction_type": "like"}},
                    {"field": "feed", "value": {"item": "comment", "verb": "remove", "comment_id": "555_700"}},
                    {"field": "feed", "value": "not an object"},
                    {
                        "field": "feed",
                        "value": {
                            "item": "status",
                            "verb": "add",
                            "post_id": "1001_556",
                            "from": {"id": "43", "name": "Ben"},
                            "created_time": int(now) - 2,
                        },
                    },
                ],
                "messaging": [
                    {
                        "sender": {"id": "77"},
                        "recipient": {"id": page_id},
                        "timestamp": int(now * 1000) - 500,
                        "message": {"mid": "m_abc", "text": "Waar is mijn bestelling?"},
                    },
                    {
                        "sender": {"id": page_id},
                        "recipient": {"id": "77"},
                        "timestamp": int(now * 1000),
                        "message": {"mid": "m_abd", "text": "We kijken het na!", "is_echo": True},
                    },
                    {"sender": {"id": "77"}, "delivery": {"mids": ["m_abd"]}},
                ],
            }
        ],
    }


async def test_verification_challenge(receiver: Receiver) -> None:
    ok = await receiver.http.get(
        "/webhook", params={"hub.mode": "subscribe", "hub.verify_token": TOKEN, "hub.challenge": "1158201444"}
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
    ):
        refused = await receiver.http.get("/webhook", params=params)
        assert refused.status_code == 403
        assert "1" not in refused.text


async def test_signature_missing_or_bad_is_401_and_nothing_is_queued(receiver: Receiver) -> None:
    receiver.run()
    payload = meta_payload(time.time())
    body = json.dumps(payload).encode()
    assert (await receiver.post(body, signature=None)).status_code == 401
    assert (await receiver.post(body, signature=sign(body, "other-secret"))).status_code == 401
    assert (await receiver.post(body, signature="sha256=zz")).status_code == 401
    assert (await receiver.post(body, signature=sign(body).replace("sha256=", "sha1="))).status_code == 401
    # Signed over different bytes than were sent.
    assert (await receiver.post(body + b" ", signature=sign(body))).status_code == 401
    await asyncio.sleep(0.05)
    assert receiver.batches.empty()


async def test_body_over_the_limit_is_413_declared_or_chunked() -> None:
    r = await _receiver({"max_body_bytes": 2_000})
    try:
        r.run()
        big = b"x" * 5_000
        declared = await r.post(big)
        assert declared.status_code == 413

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(50):
                yield b"y" * 1_000

        chunked = await r.http.post("/webhook", content=chunks(), headers={"X-Hub-Signature-256": "sha256=00"})
        assert chunked.status_code == 413
        small = {"platform": "shop", "id": "1", "text": "ok", "author": "a", "created_at": _iso(time.time())}
        accepted = asyncio.create_task(r.post(small))
        batch = await r.next_batch()
        assert batch.on_durable is not None
        batch.on_durable()
        assert (await accepted).status_code == 200
    finally:
        await r.http.aclose()
        await r.close()


async def test_meta_delivery_becomes_mentions_and_200_only_after_durable(receiver: Receiver) -> None:
    receiver.run()
    now = time.time()
    reply = asyncio.create_task(receiver.post(meta_payload(now)))
    batch = await receiver.next_batch()
    await asyncio.sleep(0.3)
    assert not reply.done(), "answered before the batch was durable"

    by_id = {m.id: m for m in batch.mentions}
    assert set(by_id) == {"facebook:555_777", "facebook:555_778", "facebook:m_abc", "facebook:m_abd"}
    anna = by_id["facebook:555_777"]
    assert (anna.author.handle, anna.author.display_name) == ("42", "Anna de Vries")
    assert anna.text == "Mijn Veloxa accu is na 2 weken leeg"
    assert anna.kind == "comment" and anna.in_reply_to == "facebook:1001_555"
    assert not anna.author_is_brand and anna.source == "webhook:owned" and anna.platform == "facebook"
    assert int(anna.created_at.timestamp()) == int(now) - 3 and anna.created_at.utcoffset() is not None
    webcare = by_id["facebook:555_778"]
    assert webcare.author_is_brand and webcare.in_reply_to == "facebook:555_777"
    assert by_id["facebook:m_abc"].kind == "message" and not by_id["facebook:m_abc"].author_is_brand
    assert by_id["facebook:m_abd"].author_is_brand
    # The 'not an object' change and the status without text are dead-lettered; reaction/remove/receipt skipped.
    assert [r.reason for r in batch.rejected] == ["missing_field", "missing_field"]
    assert batch.fetched == 6
    assert batch.state is None
    assert batch.newest == max(m.created_at for m in batch.mentions)

    assert batch.on_durable is not None
    batch.on_durable()
    response = await asyncio.wait_for(reply, 5)
    assert response.status_code == 200


async def test_not_durable_in_time_is_503() -> None:
    r = await _receiver({"durable_timeout_s": 0.3})
    try:
        r.run()
        reply = await r.post(meta_payload(time.time()))
        assert reply.status_code == 503
        batch = await r.next_batch()
        assert len(batch.mentions) == 4  # handed over all the same: the platform's retry is deduplicated by id
    finally:
        await r.http.aclose()
        await r.close()


async def test_full_queue_is_503_with_retry_after() -> None:
    r = await _receiver({"queue_size": 1, "durable_timeout_s": 2})
    try:
        first = asyncio.create_task(r.post(meta_payload(time.time())))
        await asyncio.sleep(0.2)  # nobody consumes: the first delivery occupies the queue
        second = await r.post(meta_payload(time.time(), page_id="2002"))
        assert second.status_code == 503 and second.headers["Retry-After"] == "1"
        assert (await first).status_code == 503
    finally:
        await r.http.aclose()
        await r.close()


async def test_stale_events_are_refused_and_dead_lettered_as_replay(receiver: Receiver) -> None:
    receiver.run()
    old = time.time() - 600
    reply = await receiver.post(meta_payload(old))
    assert reply.status_code == 409
    batch = await receiver.next_batch()
    assert batch.mentions == []
    # The five events that would have been mentions (or, for the status without text, a reject) are replays;
    # the change that is not an object is malformed whatever its age.
    assert sorted(r.reason for r in batch.rejected) == ["missing_field"] + ["replay"] * 5

    fresh = {"platform": "shop", "id": "9", "text": "hi", "author": "a", "created_at": _iso(time.time())}
    stale_header = await receiver.post(fresh, **{"X-Webhook-Timestamp": str(int(time.time()) - 3600)})
    assert stale_header.status_code == 409
    header_batch = await receiver.next_batch()
    assert [r.reason for r in header_batch.rejected] == ["replay"] and header_batch.mentions == []


async def test_mixed_fresh_and_stale_keeps_the_fresh(receiver: Receiver) -> None:
    receiver.run()
    now = time.time()
    items = [
        {"platform": "shop", "id": "1", "text": "fresh", "author": "a", "created_at": _iso(now)},
        {"platform": "shop", "id": "2", "text": "stale", "author": "b", "created_at": _iso(now - 3600)},
    ]
    reply = asyncio.create_task(receiver.post(items))
    batch = await receiver.next_batch()
    assert [m.id for m in batch.mentions] == ["shop:1"]
    assert [r.reason for r in batch.rejected] == ["replay"]
    assert json.loads(batch.rejected[0].payload)["id"] == "2"
    assert batch.on_durable is not None
    batch.on_durable()
    assert (await reply).status_code == 200


async def test_generic_shape_and_its_rejects(receiver: Receiver) -> None:
    receiver.run()
    now = time.time()
    items: list[Any] = [
        {
            "platform": "trustpilot",
            "id": "r-1",
            "text": "Great bike",
            "author": {"handle": "jan", "display_name": "Jan", "followers": 3},
            "created_at": _iso(now),
            "kind": "review",
            "url": "https://example.org/r-1",
            "lang": "en",
            "engagement": {"likes": 2},
        },
        {"platform": "shop", "id": "2", "text": "we replied", "author": "veloxa_official", "created_at": _iso(now)},
        {"platform": "shop", "id": "3", "author": "c", "created_at": _iso(now)},
        {"platform": "shop", "id": "4", "text": "x", "author": "c", "created_at": "yesterday-ish"},
        {"platform": "shop", "text": "no id", "author": "c", "created_at": _iso(now)},
        {"platform": "shop", "id": "5", "text": "x", "author": "c", "created_at": _iso(now), "kind": "tweet"},
        "just a string",
    ]
    reply = asyncio.create_task(receiver.post(items))
    batch = await receiver.next_batch()
    assert [m.id for m in batch.mentions] == ["trustpilot:r-1", "shop:2"]
    review = batch.mentions[0]
    assert (review.kind, review.lang_hint, review.engagement.likes, review.author.followers) == ("review", "en", 2, 3)
    assert batch.mentions[1].author_is_brand
    reasons = [
        (r.reason, json.loads(r.payload).get("id") if r.payload.startswith(b"{") else None) for r in batch.rejected
    ]
    assert reasons == [
        ("missing_field", "3"),
        ("bad_type", "4"),
        ("missing_field", None),
        ("bad_type", "5"),
        ("bad_type", None),
    ]
    assert batch.fetched == len(items)
    assert batch.on_durable is not None
    batch.on_durable()
    assert (await reply).status_code == 200


async def test_signed_non_json_is_400_and_dead_lettered(receiver: Receiver) -> None:
    receiver.run()
    reply = await receiver.post(b"<html><body>oops</body></html>", **{"Content-Type": "text/html"})
    assert reply.status_code == 400
    batch = await receiver.next_batch()
    assert [r.reason for r in batch.rejected] == ["html_error_page"]
    reply = await receiver.post(b'{"platform": "shop", "id": ')
    assert reply.status_code == 400
    assert [r.reason for r in (await receiver.next_batch()).rejected] == ["not_json"]


def test_build_validates_options_and_needs_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="app_secret"):
        webhook.build("w", {"app_secret": "in-options-is-not-allowed"})
    with pytest.raises(ValueError, match="max_body_bytes"):
        webhook.build("w", {"max_body_bytes": 0})
    monkeypatch.delenv("LUISTER_WEBHOOK_APP_SECRET")
    with pytest.raises(ValueError, match="LUISTER_WEBHOOK_APP_SECRET"):
        webhook.build("w", {})
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text("LUISTER_WEBHOOK_APP_SECRET=from-a-file\nLUISTER_WEBHOOK_VERIFY_TOKEN=t\n")
    connector = webhook.build("w", {"secrets_file": str(secrets_file)})
    assert connector._signature_ok(sign(b"{}", "from-a-file"), b"{}")
    assert "from-a-file" not in repr(vars(connector))
    with pytest.raises(ValueError, match="secrets_file"):
        webhook.build("w", {"secrets_file": str(tmp_path / "missing")})


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


async def test_instagram_comments(receiver: Receiver) -> None:
    receiver.run()
    now = int(time.time())
    payload = {
        "object": "instagram",
        "entry": [
            {
                "id": "17841400000000000",
                "time": now,
                "changes": [
                    {
                        "field": "comments",
                        "value": {
                            "from": {"id": "9001", "username": "fietsfan"},
                            "media": {"id": "17900000000000001", "media_product_type": "FEED"},
                            "id": "17865799348089039",
                            "text": "Wanneer komt de Cargo Max terug?",
                        },
                    },
                    {
                        "field": "comments",
                        "value": {
                            "from": {"id": "17841400000000000", "username": "veloxa"},
                            "media": {"id": "17900000000000001"},
                            "id": "17865799348089040",
                            "parent_id": "17865799348089039",
                            "text": "Volgende maand!",
                        },
                    },
                ],
            }
        ],
    }
    reply = asyncio.create_task(receiver.post(payload))
    batch = await receiver.next_batch()
    fan, brand = batch.mentions
    assert (fan.id, fan.platform, fan.author.handle, fan.kind) == (
        "instagram:17865799348089039",
        "instagram",
        "fietsfan",
        "comment",
    )
    assert fan.in_reply_to == "instagram:17900000000000001" and not fan.author_is_brand
    assert fan.created_at.timestamp() == now  # no created_time: the entry's time
    assert brand.author_is_brand and brand.in_reply_to == "instagram:17865799348089039"
    assert batch.rejected == []
    assert batch.on_durable is not None
    batch.on_durable()
    assert (await reply).status_code == 200
