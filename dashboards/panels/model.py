"""What a panel query is: its SQL (or PromQL) text plus the contract the dashboards and tests rely on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SqlFormat = Literal["time_series", "table"]
"""How Grafana's ClickHouse plugin shapes the result: ``time_series`` (first column ``time``, ascending; a string
column splits the values into one series per distinct value) or ``table`` (rows as they come)."""


@dataclass(frozen=True, slots=True)
class SqlPanelQuery:
    """One ClickHouse query a panel runs, written once in Grafana's form.

    ``sql`` uses only what Grafana's ClickHouse plugin expands (``$__timeFilter(col)``, ``$__timeFilter_ms(col)``,
    ``$__fromTime``/``$__toTime`` and their ``_ms`` forms, ``$__timeInterval(col)``, ``$__interval_s``) and dashboard
    variables in the ``${name:singlequote}`` form. :func:`dashboards.panels.macros.render` turns it into plain
    ClickHouse SQL for a concrete time range and variables, exactly as the plugin would.
    Tables are unqualified: Grafana's data source and luister's SQL endpoint both default to luister's database.
    """

    name: str
    """Stable id, ``<dashboard>.<query>``: the wall page and the tests look queries up by it."""
    title: str
    sql: str
    columns: tuple[str, ...]
    """The result's column names, in order."""
    format: SqlFormat
    description: str
    reads: tuple[str, ...]
    """Tables and views the query reads (a test checks this against the SQL)."""


@dataclass(frozen=True, slots=True)
class PromTarget:
    expr: str
    legend: str = ""


@dataclass(frozen=True, slots=True)
class PromPanelQuery:
    """The PromQL targets of one operations panel.

    ``external`` names metrics that luister does not export itself, with who does (``{"DCGM_FI_DEV_GPU_UTIL":
    "dcgm-exporter"}``); every other metric in the expressions must exist in luister's registries (tested).
    """

    name: str
    title: str
    targets: tuple[PromTarget, ...]
    description: str
    external: dict[str, str] = field(default_factory=dict)


NoDataState = Literal["OK", "NoData", "Alerting", "KeepLast"]
"""What a Grafana-managed rule does when its query returns nothing (Grafana's accepted values)."""


@dataclass(frozen=True, slots=True)
class PromAlertQuery:
    """One PromQL expression an alert rule evaluates (an instant query: one number per series)."""

    name: str
    expr: str
    description: str


@dataclass(frozen=True, slots=True)
class Threshold:
    """``value > limit`` (``gt``) or ``value < limit`` (``lt``): Grafana's threshold expression, and ours in tests."""

    comparison: Literal["gt", "lt"]
    limit: float

    def fires(self, value: float) -> bool:
        return value > self.limit if self.comparison == "gt" else value < self.limit


@dataclass(frozen=True, slots=True)
class AlertRule:
    """A Grafana-managed alert rule: queries, each reduced to its last value and compared with its threshold.

    A SQL query returns Grafana's "numeric data": table format, one numeric column and string columns that become
    the alert's labels (one alert instance per row, e.g. per brand). The rule fires for an instance when *every*
    query's value passes its threshold (one threshold per query, in order).
    """

    uid: str
    title: str
    queries: tuple[SqlPanelQuery | PromAlertQuery, ...]
    thresholds: tuple[Threshold, ...]
    window_s: int
    """The time range each query sees: the last ``window_s`` seconds (``$__timeFilter`` in SQL)."""
    pending: str
    """How long the condition must hold before the alert fires (Grafana's ``for``)."""
    no_data: NoDataState
    severity: str
    summary: str
    """One line for Slack; may use Grafana's template fields (``{{ $labels.brand }}``, ``{{ $values.B }}``)."""
    description: str

    def fires(self, values: tuple[float, ...]) -> bool:
        """Whether the rule's condition holds for one instance whose queries returned ``values``."""
        if len(values) != len(self.thresholds):
            raise ValueError(f"{self.uid}: {len(self.thresholds)} values expected, got {len(values)}")
        return all(t.fires(v) for t, v in zip(self.thresholds, values, strict=True))
