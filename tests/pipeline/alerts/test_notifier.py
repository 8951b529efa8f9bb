"""The notifier against the loopback Slack: threads, routing, pacing, retries, pending alerts, restarts, crashes."""

from __future__ import annotations

import asyncio
import itertools
import logging
from pathlib import Path
from typing import Any

import pytest
from alert_helpers import CRISIS, GOOD_TOKEN, HOOK_ENV, TOKEN_ENV, WEBCARE, alert_settings, incident
from fake_platforms.slack import FakeSlack, Fault

from pipeline.alerts.ledger import LedgerEntry, MemoryLedger
from pipeline.alerts.metrics import AlertMetrics
from pipeline.alerts.notifier import Notifier
from pipeline.incidents import IncidentEvent
from pipeline.settings import AlertSettings


def notifier(settings: AlertSettings, ledger: MemoryLedger | None = None, **kw: Any) -> Notifier:
    return Notifier(settings, ledger if ledger is not None else MemoryLedger(), **kw)


def event_ids(messages: list[dict[str, Any]]) -> list[str]:
    return [m["metadata"]["event_payload"]["event_id"] for m in messages]


async def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def lifecycle() -> list[IncidentEvent]:
    return [
        incident(0, severity="high"),
        incident(1, stage="escalated", severity="critical"),
        incident(2, stage="updated", severity="critical"),
        incident(3, stage="resolved", severity="low", intents=()),
    ]


async def test_updates_go_in_the_opening_thread_and_resolution_marks_it(
    slack: FakeSlack, metrics: AlertMetrics
) -> None:
    n = notifier(alert_settings(slack, routes=[], default_channels=["crisis"]), metrics=metrics)
    entries = [await n.deliver(e) for e in lifecycle()]
    await n.aclose()
    [root] = slack.top_level(CRISIS)
    assert root["metadata"]["event_payload"]["event_id"] == lifecycle()[0].event_id
    replies = slack.replies(CRISIS, root["ts"])
    assert event_ids(replies) == [e.event_id for e in lifecycle()[1:]]
    assert "Escalated to CRITICAL" in replies[0]["blocks"][0]["text"]["text"]
    assert root["blocks"][0]["text"]["text"].startswith(":white_check_mark: RESOLVED"), "root edited"
    assert "Top posts by reach" in str(root["blocks"]), "the edit kept the posted content"
    assert [e[0].thread_ts for e in entries] == [None, root["ts"], root["ts"], root["ts"]]
    assert metrics.value("luister_alerts_sent_total", channel="crisis", kind="root") == 1
    assert metrics.value("luister_alerts_sent_total", channel="crisis", kind="reply") == 3
    assert metrics.value("luister_alerts_marked_resolved_total", channel="crisis", outcome="ok") == 1
    assert metrics.value("luister_alert_delivery_seconds_count", channel="crisis") == 4


async def test_webhook_channel_gets_standalone_messages(slack: FakeSlack) -> None:
    n = notifier(alert_settings(slack, routes=[], default_channels=["webcare"]))
    for event in lifecycle():
        await n.deliver(event)
    await n.aclose()
    messages = slack.top_level(WEBCARE)
    assert len(messages) == 4, "no threads over an incoming webhook: one message per step"
    assert "Top posts by reach" in str(messages[0]["blocks"])
    assert "veloxa: negative mentions" in messages[1]["blocks"][0]["text"]["text"], "a later step names its incident"
    assert messages[3]["text"].startswith("[RESOLVED]")


async def test_routes_and_channels_that_saw_the_opening(slack: FakeSlack) -> None:
    n = notifier(alert_settings(slack))
    quiet = incident(0, incident_id="quiet", severity="low", intents=(("praise", 3),))
    assert await n.deliver(quiet) == [], "no route, no default: not sent"
    await n.deliver(incident(0, severity="high"))  # crisis (severity) + webcare (complaint)
    await n.deliver(incident(1, stage="resolved", severity="low", intents=()))  # matches nothing by itself
    await n.aclose()
    assert len(slack.top_level(CRISIS)) == 1 and len(slack.replies(CRISIS, slack.top_level(CRISIS)[0]["ts"])) == 1
    assert len(slack.top_level(WEBCARE)) == 2
    assert n.metrics.value("luister_alerts_unrouted_total") == 1


async def test_escalation_into_a_new_channel_opens_a_thread_there(slack: FakeSlack) -> None:
    n = notifier(alert_settings(slack))
    await n.deliver(incident(0, severity="medium"))  # webcare only
    await n.deliver(incident(1, stage="escalated", severity="critical"))  # now crisis too: a full root there
    await n.deliver(incident(2, stage="updated", severity="critical"))
    await n.aclose()
    [root] = slack.top_level(CRISIS)
    assert root["metadata"]["event_payload"]["event_id"].endswith("/1") and "Top posts" in str(root["blocks"])
    assert event_ids(slack.replies(CRISIS, root["ts"])) == [incident(2).event_id]
    assert len(slack.top_level(WEBCARE)) == 3


async def test_429_retry_after_is_honoured(slack: FakeSlack, metrics: AlertMetrics) -> None:
    slack.fail("chat.postMessage", Fault(status=429, retry_after=1))
    slack.fail("webhook", Fault(status=429, retry_after=1))
    n = notifier(alert_settings(slack), metrics=metrics)
    await n.deliver(incident(0, severity="high"))
    await n.aclose()
    for method, channel in (("chat.postMessage", CRISIS), ("webhook", WEBCARE)):
        first, second = [r for r in slack.received if r.method == method]
        assert first.status == 429 and second.stored_ts is not None
        assert second.at - first.at >= 0.98, f"{method}: waited {second.at - first.at:.2f} s, Retry-After said 1"
        assert len(slack.top_level(channel)) == 1
    assert metrics.value("luister_alerts_retried_total", channel="crisis", reason="ratelimited") == 1
    assert metrics.value("luister_alerts_retried_total", channel="webcare", reason="rate_limited") == 1


async def test_5xx_is_retried_and_looked_up_before_reposting(slack: FakeSlack, metrics: AlertMetrics) -> None:
    slack.fail("chat.postMessage", Fault(status=500), Fault(status=503))
    slack.fail("webhook", Fault(status=500, error="rollup_error"))
    n = notifier(alert_settings(slack), metrics=metrics)
    await n.deliver(incident(0, severity="high"))
    await n.aclose()
    assert len(slack.top_level(CRISIS)) == 1 and len(slack.top_level(WEBCARE)) == 1
    posts = [r.method for r in slack.received if r.channel == CRISIS]
    assert posts == [
        "chat.postMessage",
        "conversations.history",
        "chat.postMessage",
        "conversations.history",
        "chat.postMessage",
    ], "a 5xx may hide a post Slack made: look before posting again"
    assert metrics.value("luister_alerts_retried_total", channel="crisis", reason="http_500") == 1
    assert metrics.value("luister_alerts_retried_total", channel="webcare", reason="rollup_error") == 1


async def test_accepted_but_answered_500_is_adopted_not_reposted(slack: FakeSlack, metrics: AlertMetrics) -> None:
    slack.fail("chat.postMessage", Fault(status=500, apply=True))
    n = notifier(alert_settings(slack, routes=[], default_channels=["crisis"]), metrics=metrics)
    [entry] = await n.deliver(incident(0))
    await n.aclose()
    [message] = slack.top_level(CRISIS)
    assert entry.ts == message["ts"] and entry.how == "adopted"
    assert metrics.value("luister_alerts_adopted_total", channel="crisis") == 1


async def test_slow_response_times_out_and_is_retried(slack: FakeSlack, metrics: AlertMetrics) -> None:
    """Slack posts, but answers after the client's timeout (0.5 s). The bot channel finds its post by metadata;
    the incoming webhook cannot ask and posts again (documented: at least once)."""
    slack.fail("chat.postMessage", Fault(delay_s=1.0))
    slack.fail("webhook", Fault(delay_s=1.0))
    n = notifier(alert_settings(slack), metrics=metrics)
    started = asyncio.get_running_loop().time()
    entries = await n.deliver(incident(0, severity="high"))
    assert asyncio.get_running_loop().time() - started < 3
    await n.aclose()
    assert len(slack.top_level(CRISIS)) == 1
    assert {e.channel: e.how for e in entries} == {"crisis": "adopted", "webcare": "posted"}
    assert len(slack.top_level(WEBCARE)) == 2
    assert metrics.value("luister_alerts_retried_total", channel="crisis", reason="timeout") == 1
    assert metrics.value("luister_alerts_retried_total", channel="webcare", reason="timeout") == 1


async def test_slow_failure_without_a_post_is_retried(slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", Fault(status=503, delay_s=1.0))
    n = notifier(alert_settings(slack, routes=[], default_channels=["crisis"]))
    [entry] = await n.deliver(incident(0))
    await n.aclose()
    assert entry.how == "posted" and len(slack.top_level(CRISIS)) == 1


async def test_invalid_token_keeps_the_alert_pending_until_the_token_is_fixed(
    slack: FakeSlack, metrics: AlertMetrics, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    secrets = tmp_path / "slack.env"
    secrets.write_text(f"{TOKEN_ENV}=xoxb-revoked-0000\n")
    settings = alert_settings(slack, routes=[], default_channels=["crisis"], secrets_file=secrets)
    n = notifier(settings, metrics=metrics)
    task = asyncio.create_task(n.deliver(incident(0)))
    await wait_for(lambda: metrics.value("luister_alerts_failed_total", channel="crisis", reason="invalid_auth") >= 3)
    assert sum(r.error == "invalid_auth" for r in slack.received) >= 3
    assert not task.done(), "an alert Slack refuses stays pending"
    assert metrics.value("luister_alerts_pending", channel="crisis") == 1
    assert metrics.value("luister_alerts_failed_total", channel="crisis", reason="invalid_auth") >= 3
    assert "invalid_auth" in caplog.text and "stays pending" in caplog.text
    secrets.write_text(f"{TOKEN_ENV}={GOOD_TOKEN}\n")  # the operator fixes the token
    [entry] = await asyncio.wait_for(task, 5)
    await n.aclose()
    assert entry.delivered and len(slack.top_level(CRISIS)) == 1
    assert metrics.value("luister_alerts_pending", channel="crisis") == 0
    assert "xoxb-revoked-0000" not in caplog.text and GOOD_TOKEN not in caplog.text


async def test_revoked_webhook_keeps_the_alert_until_a_new_url_is_set(
    slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, metrics: AlertMetrics, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    revoked = slack.url + "/services/T0000/B7777/revokedhook"
    monkeypatch.setenv(HOOK_ENV, revoked)
    n = notifier(alert_settings(slack, routes=[], default_channels=["webcare"]), metrics=metrics)
    task = asyncio.create_task(n.deliver(incident(0)))
    await wait_for(lambda: metrics.value("luister_alerts_failed_total", channel="webcare", reason="no_service") >= 2)
    assert not task.done()
    monkeypatch.setenv(HOOK_ENV, slack.add_webhook(WEBCARE))
    await asyncio.wait_for(task, 5)
    await n.aclose()
    assert len(slack.top_level(WEBCARE)) == 1
    assert "revokedhook" not in caplog.text, "a webhook URL is a secret"


async def test_refused_blocks_fall_back_to_plain_text(slack: FakeSlack, metrics: AlertMetrics) -> None:
    slack.fail("chat.postMessage", Fault(error="invalid_blocks"))
    n = notifier(alert_settings(slack, routes=[], default_channels=["crisis"]), metrics=metrics)
    await n.deliver(incident(0))
    await n.aclose()
    [message] = slack.top_level(CRISIS)
    assert message["blocks"] == [] and message["text"].startswith("[HIGH]")
    assert metrics.value("luister_alerts_failed_total", channel="crisis", reason="invalid_blocks") == 1


async def test_at_most_one_message_per_second_per_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Default pacing (1/s) against a Slack that answers 429 to anything faster than 0.8 s per channel."""
    async with FakeSlack(tokens={GOOD_TOKEN}, min_interval_s=0.8) as slack:
        slack.add_channel(CRISIS)
        monkeypatch.setenv(TOKEN_ENV, GOOD_TOKEN)
        monkeypatch.setenv(HOOK_ENV, slack.add_webhook(WEBCARE))
        n = notifier(alert_settings(slack, rate_per_channel=1.0))
        events = [incident(0, incident_id=f"inc{i}", severity="high") for i in range(3)]
        await asyncio.gather(*(n.deliver(e) for e in events))
        await n.aclose()
        for channel in (CRISIS, WEBCARE):
            times = [r.at for r in slack.stored(channel)]
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert len(times) == 3 and min(gaps) >= 0.9, f"{channel}: {gaps}"
        assert not [r for r in slack.received if r.status == 429], "never told off"
        both = sorted([slack.stored(CRISIS)[0].at, slack.stored(WEBCARE)[0].at])
        assert both[1] - both[0] < 0.5, "channels are paced separately"


async def test_faster_rate_keeps_its_spacing_under_concurrency(slack: FakeSlack) -> None:
    n = notifier(alert_settings(slack, routes=[], default_channels=["crisis"], rate_per_channel=5.0))
    await asyncio.gather(*(n.deliver(incident(0, incident_id=f"inc{i}")) for i in range(8)))
    await n.aclose()
    times = [r.at for r in slack.stored(CRISIS)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 8 and min(gaps) >= 0.15 and sum(gaps) >= 7 * 0.19, gaps  # arrival jitter on a busy host


async def test_restart_with_the_same_ledger_sends_nothing_twice(slack: FakeSlack, metrics: AlertMetrics) -> None:
    ledger = MemoryLedger()
    settings = alert_settings(slack)
    first = notifier(settings, ledger)
    await first.deliver(incident(0, severity="high"))
    await first.aclose()
    second = notifier(settings, ledger, metrics=metrics)  # a new process reading the same ledger
    await second.deliver(incident(0, severity="high"))  # redelivered: its offset was never committed
    await second.deliver(incident(1, severity="high"))
    await second.aclose()
    [root] = slack.top_level(CRISIS)
    assert event_ids(slack.replies(CRISIS, root["ts"])) == [incident(1).event_id], "the thread survives"
    assert len(slack.top_level(WEBCARE)) == 2
    assert metrics.value("luister_alerts_skipped_total", channel="crisis") == 1
    assert metrics.value("luister_alerts_skipped_total", channel="webcare") == 1


class CrashAfterPost(MemoryLedger):
    """A ledger whose delivery writes fail: the process 'dies' between Slack's ok and the ledger write."""

    async def put(self, entry: LedgerEntry) -> None:
        if entry.delivered:
            raise ConnectionError("database went away")
        await super().put(entry)


async def crash_during(settings: AlertSettings, ledger: MemoryLedger, event: IncidentEvent, slack: FakeSlack) -> None:
    n = notifier(settings, ledger)
    task = asyncio.create_task(n.deliver(event))
    await wait_for(lambda: any(e.event_id == event.event_id for e in ledger.entries.values()) and slack.stored(CRISIS))
    await asyncio.sleep(0.1)
    task.cancel()  # the worker dies before the delivery was recorded
    with pytest.raises(asyncio.CancelledError):
        await task
    await n.aclose()


async def test_crash_between_post_and_ledger_write_adopts_instead_of_reposting(
    slack: FakeSlack, metrics: AlertMetrics
) -> None:
    settings = alert_settings(slack, routes=[], default_channels=["crisis"])
    healthy = MemoryLedger()
    opened = incident(0)
    first = notifier(settings, healthy)
    await first.deliver(opened)
    await first.aclose()

    crashing = CrashAfterPost()
    crashing.entries = healthy.entries  # same ledger contents, but delivery writes fail from now on
    update = incident(1)
    await crash_during(settings, crashing, update, slack)
    root_ts = slack.top_level(CRISIS)[0]["ts"]
    assert len(slack.replies(CRISIS, root_ts)) == 1, "Slack has the reply; the ledger only has the attempt"
    assert not crashing.entries[(update.event_id, "crisis")].delivered

    restarted = notifier(settings, healthy, metrics=metrics)
    [entry] = await restarted.deliver(update)
    await restarted.aclose()
    assert entry.how == "adopted" and entry.thread_ts == root_ts
    assert len(slack.replies(CRISIS, root_ts)) == 1, "not posted twice"
    assert [r.method for r in slack.received][-1] == "conversations.replies"
    assert metrics.value("luister_alerts_adopted_total", channel="crisis") == 1


async def test_crash_after_a_root_post_adopts_it_by_history(slack: FakeSlack) -> None:
    settings = alert_settings(slack, routes=[], default_channels=["crisis"])
    ledger = CrashAfterPost()
    await crash_during(settings, ledger, incident(0), slack)
    healthy = MemoryLedger()
    healthy.entries = ledger.entries
    restarted = notifier(settings, healthy)
    [entry] = await restarted.deliver(incident(0))
    await restarted.deliver(incident(1))
    await restarted.aclose()
    [root] = slack.top_level(CRISIS)
    assert entry.how == "adopted" and entry.ts == root["ts"]
    assert event_ids(slack.replies(CRISIS, root["ts"])) == [incident(1).event_id]


async def test_webhook_crash_window_is_at_least_once(slack: FakeSlack) -> None:
    settings = alert_settings(slack, routes=[], default_channels=["webcare"])
    ledger = CrashAfterPost()
    n = notifier(settings, ledger)
    task = asyncio.create_task(n.deliver(incident(0)))
    await wait_for(lambda: bool(slack.stored(WEBCARE)))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    healthy = MemoryLedger()
    healthy.entries = ledger.entries
    await notifier(settings, healthy).deliver(incident(0))
    assert len(slack.top_level(WEBCARE)) == 2, "a webhook cannot be asked what it posted: sent again"


async def test_ledger_outage_delays_but_does_not_lose_or_duplicate(slack: FakeSlack) -> None:
    class Flaky(MemoryLedger):
        failures = 3

        async def put(self, entry: LedgerEntry) -> None:
            if entry.delivered and self.failures:
                self.failures -= 1
                raise ConnectionError("database briefly down")
            await super().put(entry)

    ledger = Flaky()
    n = notifier(alert_settings(slack, routes=[], default_channels=["crisis"]), ledger)
    [entry] = await n.deliver(incident(0))
    await n.aclose()
    assert entry.delivered and ledger.failures == 0
    assert len(slack.top_level(CRISIS)) == 1


async def test_resolved_marker_is_best_effort(slack: FakeSlack, metrics: AlertMetrics) -> None:
    n = notifier(alert_settings(slack, routes=[], default_channels=["crisis"]), metrics=metrics)
    await n.deliver(incident(0))
    slack.fail("conversations.history", Fault(error="missing_scope"))  # cannot read the root back: re-render it
    await n.deliver(incident(1, stage="resolved", severity="low"))
    [root] = slack.top_level(CRISIS)
    assert root["blocks"][0]["text"]["text"].startswith(":white_check_mark: RESOLVED") and "edited" in root

    await n.deliver(incident(0, incident_id="other"))
    slack.fail("chat.update", Fault(error="cant_update_message"))
    await n.deliver(incident(1, incident_id="other", stage="resolved", severity="low"))
    await n.aclose()
    assert len(slack.replies(CRISIS, slack.top_level(CRISIS)[1]["ts"])) == 1, "the resolution itself is delivered"
    assert metrics.value("luister_alerts_marked_resolved_total", channel="crisis", outcome="ok") == 1
    assert metrics.value("luister_alerts_marked_resolved_total", channel="crisis", outcome="failed") == 1


async def test_a_deleted_opening_message_gets_a_new_one(slack: FakeSlack, metrics: AlertMetrics) -> None:
    n = notifier(alert_settings(slack, routes=[], default_channels=["crisis"]), metrics=metrics)
    await n.deliver(incident(0))
    slack.channels[CRISIS].messages.clear()  # someone deleted the opening message
    await n.deliver(incident(1, stage="escalated", severity="critical"))
    await n.deliver(incident(2))
    await n.aclose()
    [root] = slack.top_level(CRISIS)
    assert root["metadata"]["event_payload"]["event_id"] == incident(1).event_id and "Top posts" in str(root)
    assert event_ids(slack.replies(CRISIS, root["ts"])) == [incident(2).event_id], "later steps follow the new root"
    assert metrics.value("luister_alerts_failed_total", channel="crisis", reason="thread_not_found") == 1
