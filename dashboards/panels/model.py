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
