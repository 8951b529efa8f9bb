"""Alert delivery: incident events → Slack (Block Kit, routing, pacing, retries, threads) and ClickHouse.

API for the worker (see docs/alerts.md)::

    notifier = build_notifier(settings, client)      # client: the worker's ClickHouse client (ledger), or None
    entries = await notifier.deliver(event)          # returns when delivered to every routed channel
    await notifier.aclose()

    IncidentWriter(client, database).write(events)   # pipeline.storage.incidents: the incident_events table

Modules: ``render`` (Block Kit, pure), ``routing`` (pure), ``slack`` (HTTP transports), ``pacing``, ``ledger`` /
``ledger_clickhouse`` (what was delivered), ``notifier`` (all of it per event), ``metrics``.
"""

from __future__ import annotations

import logging

from clickhouse_connect.driver.client import Client

from pipeline.alerts.ledger import Ledger, LedgerEntry, MemoryLedger
from pipeline.alerts.ledger_clickhouse import ClickHouseLedger
from pipeline.alerts.metrics import AlertMetrics
from pipeline.alerts.notifier import Notifier
from pipeline.settings import Settings

log = logging.getLogger("luister.alerts")


def build_notifier(settings: Settings, client: Client | None, metrics: AlertMetrics | None = None) -> Notifier:
    """The notifier for ``settings.alerts``, with its ledger in ``settings.clickhouse.database`` on ``client``
    (already migrated), or in memory when ``client`` is None (then a restart may repeat notifications)."""
    ledger: Ledger
    if client is None:
        log.warning("alert ledger in memory: notifications may be sent again after a restart")
        ledger = MemoryLedger()
    else:
        ledger = ClickHouseLedger(client, settings.clickhouse.database)
    return Notifier(settings.alerts, ledger, metrics=metrics)


__all__ = [
    "AlertMetrics",
    "ClickHouseLedger",
    "Ledger",
    "LedgerEntry",
    "MemoryLedger",
    "Notifier",
    "build_notifier",
]
