"""incident_events, incidents_v, alert_deliveries and the ClickHouse ledger on the real embedded engine (chDB).

chDB allows one engine path per process, so the engine is module-scoped and closed when this module ends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alert_helpers import CRISIS, T0, alert_settings, incident, post
from clickhouse_connect.driver.client import Client
from fake_platforms.slack import FakeSlack

from pipeline.alerts import ClickHouseLedger, build_notifier
from pipeline.alerts.ledger import Ledger, LedgerEntry, MemoryLedger
from pipeline.alerts.notifier import Notifier
from pipeline.settings import ClickHouseSettings, Settings
from pipeline.storage.incidents import COLUMN_NAMES, COLUMNS, IncidentWriter, dedup_token, incident_row
from pipeline.storage.migrate import load_migrations


def test_the_migration_is_idempotent(engine: Client, engine_db: str) -> None:
    [alerts] = [m for m in load_migrations() if m.name == "alerts"]
    IncidentWriter(engine, engine_db).write([incident(0)])
    for statement in alerts.statements(engine_db):  # re-run whole, as after an interruption
        engine.command(statement)
    assert engine.query(f"SELECT count() FROM {engine_db}.incidents_v").result_rows[0][0] == 1


def test_column_types_match_the_table(engine: Client, engine_db: str) -> None:
    described = engine.query(f"DESCRIBE TABLE {engine_db}.incident_events").result_rows
    table = {row[0]: row[1] for row in described}
    assert dict(COLUMNS) == {name: table[name] for name in COLUMN_NAMES}
    assert set(table) - set(COLUMN_NAMES) == {"written_at"}
    assert len(incident_row(incident())) == len(COLUMNS)


def test_events_round_trip_and_reemits_are_stored_once(engine: Client, engine_db: str) -> None:
    writer = IncidentWriter(engine, engine_db)
    steps = [
        incident(0),
        incident(1, stage="escalated", severity="critical"),
        incident(2, stage="resolved", severity="low", top_posts=[], top_intents=[]),
    ]
    assert writer.write(steps) == 3
    assert writer.write(steps) == 3  # a retried batch: dropped by its dedup token
    assert writer.write([steps[1]]) == 1  # the detector re-emits one event after a restart (another token)
    rows = engine.query(
        f"SELECT event_id, stage, severity, top_posts.author_handle, top_posts.reach, top_topics.name, terms,"
        f" opened_at, platform, upper FROM {engine_db}.incident_events FINAL ORDER BY seq"
    ).result_rows
    assert [r[0] for r in rows] == [s.event_id for s in steps]
    assert rows[0][1:3] == ("opened", "high")
    assert rows[0][3] == ["user1", "user2", "user3"] and rows[0][4] == [12_000, 90_000, 450]
    assert rows[0][5] == ["battery", "customer service"] and rows[0][6] == []
    assert rows[0][7] == T0 and rows[0][8] is None and rows[0][9] == 22.0
    assert rows[2][3] == []
    raw = engine.query(f"SELECT count() FROM {engine_db}.incident_events").result_rows[0][0]
    assert raw <= 4, "the token dropped the retried batch (the single re-emit may still be unmerged)"
    assert writer.write([]) == 0


def test_incidents_view_has_one_row_per_incident_without_final(engine: Client, engine_db: str) -> None:
    writer = IncidentWriter(engine, engine_db)
    other = "rival/volume/1"
    writer.write([incident(0), incident(0, incident_id=other, brand="rival", signal="volume", severity="medium")])
    escalated = incident(1, stage="escalated", severity="critical", summary="negative mentions 40x baseline")
    writer.write([escalated])
    writer.write([incident(0), escalated])  # re-emitted under another token: unmerged copies in the table
    writer.write([incident(2, stage="resolved", severity="low", minutes=47, observed=12.0)])
    copies = engine.query(f"SELECT count() FROM {engine_db}.incident_events").result_rows[0][0]
    assert copies >= 5 or engine.query(f"SELECT count() FROM {engine_db}.incident_events FINAL").result_rows[0][0] == 4
    rows = engine.query(
        f"SELECT incident_id, brand, signal, stage, is_open, severity, peak_severity, opened_at, resolved_at,"
        f" summary, events, peak_observed FROM {engine_db}.incidents_v ORDER BY incident_id"
    ).result_rows
    assert len(rows) == 2
    rival, veloxa = rows
    assert veloxa[1:7] == ("veloxa", "negative_volume", "resolved", False, "low", "critical")
    assert veloxa[7] == T0 and veloxa[8] == T0 + timedelta(minutes=47)
    assert veloxa[9] == "negative mentions 14x baseline", "the latest step's summary"
    assert veloxa[10] == 3 and veloxa[11] == 140.0
    assert rival[3:6] == ("opened", True, "medium") and rival[8] is None


def test_dedup_token_identifies_the_batch() -> None:
    a, b = incident(0), incident(1)
    assert dedup_token([a, b]) == dedup_token([a, b]) != dedup_token([b, a]) != dedup_token([a])


@pytest.mark.parametrize("kind", ["memory", "clickhouse"])
async def test_ledger_contract(engine: Client, engine_db: str, kind: str) -> None:
    ledger: Ledger = MemoryLedger() if kind == "memory" else ClickHouseLedger(engine, engine_db)
    at = datetime(2026, 11, 3, 14, 1, tzinfo=UTC)
    attempt = LedgerEntry("inc", "inc/0", "crisis", attempted_at=at)
    assert await ledger.get("inc/0", "crisis") is None
    await ledger.put(attempt)
    assert await ledger.get("inc/0", "crisis") == attempt
    assert await ledger.roots("inc") == {}
    root = attempt.delivered_as("111.000001", None, at + timedelta(seconds=1), "posted")
    await ledger.put(root)
    await ledger.put(attempt)  # a late attempt row never hides the delivery
    assert await ledger.get("inc/0", "crisis") == root
    reply = LedgerEntry("inc", "inc/1", "crisis", at).delivered_as("111.000002", "111.000001", at, "adopted")
    hook = LedgerEntry("inc", "inc/0", "webcare", at).delivered_as(None, None, at + timedelta(seconds=2), "posted")
    hook_later = LedgerEntry("inc", "inc/1", "webcare", at).delivered_as(
        None, None, at + timedelta(seconds=9), "posted"
    )
    for entry in (reply, hook_later, hook):
        await ledger.put(entry)
    assert await ledger.roots("inc") == {"crisis": root, "webcare": hook_later}, "the latest root per channel"
    assert await ledger.get("inc/1", "crisis") == reply
    assert await ledger.roots("other") == {}


async def test_restart_with_the_clickhouse_ledger_sends_nothing_twice(
    engine: Client, engine_db: str, slack: FakeSlack
) -> None:
    settings = Settings(clickhouse=ClickHouseSettings(database=engine_db))
    settings.alerts = alert_settings(slack, routes=[], default_channels=["crisis", "webcare"])
    first = build_notifier(settings, engine)
    await first.deliver(incident(0, top_posts=[post(1, 10)]))
    await first.aclose()

    second = build_notifier(settings, engine)  # a new process: only ClickHouse remembers
    assert isinstance(second, Notifier) and isinstance(second.ledger, ClickHouseLedger)
    await second.deliver(incident(0, top_posts=[post(1, 10)]))
    await second.deliver(incident(1))
    await second.deliver(incident(2, stage="resolved", severity="low"))
    await second.aclose()
    [root] = slack.top_level(CRISIS)
    assert len(slack.replies(CRISIS, root["ts"])) == 2
    assert root["blocks"][0]["text"]["text"].startswith(":white_check_mark: RESOLVED")
    rows = engine.query(
        f"SELECT event_id, channel, state, ts != '', thread_ts = {{root:String}}"
        f" FROM {engine_db}.alert_deliveries FINAL ORDER BY event_id, channel",
        parameters={"root": root["ts"]},
    ).result_rows
    assert [tuple(r) for r in rows] == [
        (incident(0).event_id, "crisis", 2, True, False),
        (incident(0).event_id, "webcare", 2, False, False),
        (incident(1).event_id, "crisis", 2, True, True),
        (incident(1).event_id, "webcare", 2, False, False),
        (incident(2).event_id, "crisis", 2, True, True),
        (incident(2).event_id, "webcare", 2, False, False),
    ]
