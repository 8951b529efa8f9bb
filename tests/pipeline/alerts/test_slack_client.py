"""The Slack transports, one call at a time, against the loopback Slack: shapes and error classification."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from alert_helpers import CRISIS, GOOD_TOKEN, HOOK_ENV, TOKEN_ENV, WEBCARE, incident
from fake_platforms.slack import FakeSlack, Fault

from pipeline.alerts.errors import PermanentError, RateLimitedError, TransientError
from pipeline.alerts.render import Message, incident_metadata
from pipeline.alerts.slack import BotTransport, WebhookTransport, new_http_client

HELLO = Message("hello", [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}])
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
META = incident_metadata(incident())


@pytest.fixture
async def http() -> httpx.AsyncClient:
    async with new_http_client(0.5) as client:
        yield client  # type: ignore[misc]


def bot(slack: FakeSlack, http: httpx.AsyncClient, **kw: object) -> BotTransport:
    return BotTransport("crisis", http, CRISIS, TOKEN_ENV, slack.api_url, **kw)  # type: ignore[arg-type]


async def test_bot_posts_with_bearer_token_metadata_and_threads(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    transport = bot(slack, http)
    event = incident()
    ts = await transport.post(HELLO, thread_ts=None, metadata=incident_metadata(event))
    reply = await transport.post(HELLO, thread_ts=ts, metadata=incident_metadata(incident(1)))
    assert ts is not None and reply is not None and reply != ts
    [root] = slack.top_level(CRISIS)
    assert root["ts"] == ts and root["metadata"]["event_payload"]["event_id"] == event.event_id
    assert [m["ts"] for m in slack.replies(CRISIS, ts)] == [reply]
    request = slack.received[0]
    assert request.body["unfurl_links"] is False and request.body["channel"] == CRISIS
    assert await transport.find(event.event_id, thread_ts=None, oldest=LONG_AGO) == ts
    assert await transport.find(incident(1).event_id, thread_ts=ts, oldest=LONG_AGO) == reply
    assert await transport.find(incident(2).event_id, thread_ts=None, oldest=LONG_AGO) is None
    future = datetime.now(UTC) + timedelta(hours=1)
    assert await transport.find(event.event_id, thread_ts=None, oldest=future) is None
    assert await transport.read_blocks(ts) == HELLO.blocks
    await transport.update(ts, Message("edited"))
    assert slack.top_level(CRISIS)[0]["text"] == "edited"


async def test_bot_lookup_pages_through_history(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    transport = bot(slack, http, lookup_pages=3)
    target = incident()
    await transport.post(HELLO, thread_ts=None, metadata=incident_metadata(target))
    for n in range(1, 450):  # newer messages push the target to the third page of 200
        await transport.post(HELLO, thread_ts=None, metadata=incident_metadata(incident(n, incident_id=f"other{n}")))
    assert await transport.find(target.event_id, thread_ts=None, oldest=LONG_AGO) is not None
    pages = [r for r in slack.received if r.method == "conversations.history"]
    assert len(pages) == 3 and pages[-1].body.get("cursor")
    short = bot(slack, http, lookup_pages=2)
    assert await short.find(target.event_id, thread_ts=None, oldest=LONG_AGO) is None


@pytest.mark.parametrize(("env_value", "reason"), [("xoxb-wrong", "invalid_auth"), (None, "token_missing")])
async def test_bot_auth_errors_are_permanent(
    slack: FakeSlack,
    http: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    env_value: str | None,
    reason: str,
) -> None:
    if env_value is None:
        monkeypatch.delenv(TOKEN_ENV)
    else:
        monkeypatch.setenv(TOKEN_ENV, env_value)
    with pytest.raises(PermanentError) as caught:
        await bot(slack, http).post(HELLO, thread_ts=None, metadata=META)
    assert caught.value.reason.startswith(reason) and not caught.value.payload_problem
    assert "xoxb-wrong" not in str(caught.value)


async def test_bot_errors_are_classified(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    transport = bot(slack, http)
    invalid = Message("x", [{"type": "section", "text": {"type": "mrkdwn", "text": "y"}}])
    with pytest.raises(PermanentError, match="invalid_metadata_format"):
        await transport.post(invalid, thread_ts=None, metadata={"no": "event_type"})
    with pytest.raises(PermanentError, match="channel_not_found"):
        await BotTransport("x", http, "C0NOPE", TOKEN_ENV, slack.api_url).post(HELLO, thread_ts=None, metadata=META)
    slack.fail("chat.postMessage", Fault(status=429, retry_after=7))
    with pytest.raises(RateLimitedError) as limited:
        await transport.post(HELLO, thread_ts=None, metadata=META)
    assert limited.value.retry_after_s == 7
    slack.fail("chat.postMessage", Fault(status=503))
    with pytest.raises(TransientError) as unavailable:
        await transport.post(HELLO, thread_ts=None, metadata=META)
    assert unavailable.value.reason == "http_503" and unavailable.value.outcome_unknown
    slack.fail("chat.postMessage", Fault(error="internal_error"))
    with pytest.raises(TransientError) as internal:
        await transport.post(HELLO, thread_ts=None, metadata=META)
    assert internal.value.outcome_unknown
    slack.fail("chat.postMessage", Fault(delay_s=1.0))
    with pytest.raises(TransientError) as slow:
        await transport.post(HELLO, thread_ts=None, metadata=META)
    assert slow.value.reason == "timeout" and slow.value.outcome_unknown
    too_big = Message("x", [{"type": "divider"}] * 51)
    with pytest.raises(PermanentError) as refused:
        await transport.post(too_big, thread_ts=None, metadata=META)
    assert refused.value.reason == "invalid_blocks" and refused.value.payload_problem
    assert slack.top_level(CRISIS) and len(slack.top_level(CRISIS)) == 1, "only the slow post was carried out"


async def test_connection_refused_is_transient_and_known_not_sent(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, GOOD_TOKEN)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    transport = BotTransport("crisis", http, CRISIS, TOKEN_ENV, f"http://127.0.0.1:{port}/api")
    with pytest.raises(TransientError) as caught:
        await transport.post(HELLO, thread_ts=None, metadata=META)
    assert caught.value.reason == "network" and not caught.value.outcome_unknown


async def test_webhook_shapes(slack: FakeSlack, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = WebhookTransport("webcare", http, HOOK_ENV)
    assert await hook.post(HELLO, thread_ts=None, metadata=META) is None
    assert slack.top_level(WEBCARE)[0]["text"] == "hello"
    for fault, kind, reason in [
        (Fault(status=429, retry_after=2), RateLimitedError, "rate_limited"),
        (Fault(status=500, error="rollup_error"), TransientError, "rollup_error"),
        (Fault(status=400, error="invalid_payload"), PermanentError, "invalid_payload"),
        (Fault(status=403, error="action_prohibited"), PermanentError, "action_prohibited"),
        (Fault(status=404, error="channel_not_found"), PermanentError, "channel_not_found"),
    ]:
        slack.fail("webhook", fault)
        with pytest.raises(kind) as caught:
            await hook.post(HELLO, thread_ts=None, metadata=META)
        assert caught.value.reason == reason
    slack.channels[WEBCARE].archived = True
    with pytest.raises(PermanentError, match="channel_is_archived"):
        await hook.post(HELLO, thread_ts=None, metadata=META)
    monkeypatch.setenv(HOOK_ENV, slack.url + "/services/T0000/B9999/revoked")
    with pytest.raises(PermanentError, match="no_service") as revoked:
        await hook.post(HELLO, thread_ts=None, metadata=META)
    assert "revoked" not in str(revoked.value), "the webhook URL is a secret"


async def test_secrets_come_from_the_secrets_file_and_never_reach_the_logs(
    slack: FakeSlack, http: httpx.AsyncClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hook_url = slack.add_webhook(WEBCARE)
    secrets = tmp_path / "slack.env"
    secrets.write_text(f"{TOKEN_ENV}={GOOD_TOKEN}\nWEBCARE_URL='{hook_url}'\n")
    transport = BotTransport("crisis", http, CRISIS, TOKEN_ENV, slack.api_url, secrets_file=secrets)
    assert await transport.post(HELLO, thread_ts=None, metadata=META)
    hook = WebhookTransport("webcare", http, "WEBCARE_URL", secrets_file=secrets)
    assert await hook.post(HELLO, thread_ts=None, metadata=META) is None
    assert "HTTP Request" in caplog.text, "httpx logged the requests"
    assert GOOD_TOKEN not in caplog.text and "secret" not in caplog.text.replace("secrets", "")
