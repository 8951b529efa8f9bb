"""Every query a dashboard panel (Grafana, or the built-in wall page) runs, written once.

- ``wall.py``, ``webcare.py``: ClickHouse SQL in Grafana's form (the ClickHouse plugin's macros and
  ``${brand:singlequote}``); :func:`render` turns one into plain ClickHouse SQL for a concrete time range and
  brand, exactly as the plugin would expand it, for luister's own read-only SQL endpoint.
- ``operations.py``: PromQL against the metrics luister exports.
- ``alerting.py``: the queries and thresholds of the Grafana-managed alert rules (no dashboard shows them).

Why Python modules and not ``.sql`` files: each query travels with its contract (result columns, Grafana
format, what it reads), which the dashboard generator and the tests use; queries share fragments (the webcare
definitions) without a template language; and mypy checks the lot. The SQL text itself stays plain SQL that can
be copied into Grafana or ``luister sql``.
"""

from __future__ import annotations

from dashboards.panels import alerting, operations, wall, webcare
from dashboards.panels.macros import MacroError, TimeRange, render, variables_used
from dashboards.panels.model import AlertRule, PromAlertQuery, PromPanelQuery, PromTarget, SqlPanelQuery, Threshold

SQL_QUERIES: tuple[SqlPanelQuery, ...] = (*wall.QUERIES, *webcare.QUERIES)
PROM_QUERIES: tuple[PromPanelQuery, ...] = operations.QUERIES
ALERT_RULES: tuple[AlertRule, ...] = alerting.RULES


def sql_query(name: str) -> SqlPanelQuery:
    """The SQL panel query called ``name`` (e.g. ``"wall.share_of_voice"``); KeyError if there is none."""
    for query in SQL_QUERIES:
        if query.name == name:
            return query
    raise KeyError(name)


__all__ = [
    "ALERT_RULES",
    "PROM_QUERIES",
    "SQL_QUERIES",
    "AlertRule",
    "MacroError",
    "PromAlertQuery",
    "PromPanelQuery",
    "PromTarget",
    "SqlPanelQuery",
    "Threshold",
    "TimeRange",
    "render",
    "sql_query",
    "variables_used",
]
