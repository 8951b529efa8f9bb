"""The wall page's data: run the wall's panel queries for one brand and time range, shape the results as JSON.

``wall_data(run, request, now)`` is what ``GET /wall/data`` answers::

    {"brand": "Veloxa", "brands": ["Veloxa", "Trekko"], "hours": 6, "interval_s": 300,
     "from": "...Z", "to": "...Z", "generated_at": "...Z",
     "panels": {"headline": {"title", "columns", "rows"},
                "volume_by_sentiment": {"title", "columns", "rows",
                                        "series": {"time": [epoch s, ...],
                                                   "series": [{"name": "negative", "values": [...]}, ...]}},
                ...},
     "incidents": [{"opened_at", "severity", "signal", "stage", "summary", "incident_id"}, ...],
     "errors": {"<panel>": "message"}}

Values are JSON-safe: times as ISO 8601 UTC strings in rows and as epoch seconds in series, NaN as null. A panel
whose query fails is left out of ``panels`` and named in ``errors``; the others still show. With no brand at all
(nothing written yet) ``brand`` is null and ``panels`` empty: the page says it waits for data.

``run`` is the worker's read-only SQL runner (``Services.sql``): one statement in, ``{"columns", "rows"}`` out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from dashboards.panels import SqlPanelQuery
from pipeline.wall.panels import (
    BRANDS,
    INCIDENTS,
    PANELS,
    WallRequest,
    brands_sql,
    interval_for,
    panel_key,
    render_panel,
    time_range,
)

QueryRunner = Callable[[str], Mapping[str, Any]]
"""Runs one read-only statement and returns at least ``{"columns": [...], "rows": [[...], ...]}``."""

JsonValue = None | bool | int | float | str | list[Any]


class PanelShapeError(RuntimeError):
    """A panel query returned other columns than its contract (``SqlPanelQuery.columns``) declares."""


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def run_panel(run: QueryRunner, query: SqlPanelQuery, sql: str) -> Table:
    """Run one rendered panel query; the columns are the query's declared ones.

    chDB reports no column names for an empty result, so the declared columns stand in for them; when rows come,
    the reported names must match the declaration.
    """
    result = run(sql)
    rows = [tuple(row) for row in result["rows"]]
    reported = tuple(result.get("columns") or ())
    if rows and reported != query.columns:
        raise PanelShapeError(f"{query.name}: expected columns {query.columns}, got {reported}")
    return Table(query.columns, rows)


def as_utc(at: datetime) -> datetime:
    # The engine hands back naive datetimes for UTC columns (its session time zone is UTC).
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def iso(at: datetime) -> str:
    return as_utc(at).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_value(value: Any) -> JsonValue:
    """One result cell as JSON: times as ISO 8601 UTC, NaN/∞ and missing as null, arrays element by element."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return json_value(float(value))
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)


def epoch_s(value: Any) -> float:
    if isinstance(value, datetime):
        return as_utc(value).timestamp()
    raise PanelShapeError(f"expected a time, got {value!r}")


def number(value: Any) -> float | None:
    converted = json_value(value)
    if converted is None or isinstance(converted, bool):
        return None
    if isinstance(converted, int | float):
        return float(converted)
    raise PanelShapeError(f"expected a number, got {value!r}")


def wide_series(table: Table, time: str = "time") -> dict[str, Any]:
    """A wide time-series result (``time``, then one numeric column per series) as chart series."""
    at = table.columns.index(time)
    return {
        "time": [epoch_s(row[at]) for row in table.rows],
        "series": [
            {"name": column, "values": [number(row[i]) for row in table.rows]}
            for i, column in enumerate(table.columns)
            if i != at
        ],
    }


def long_series(
    table: Table, *, time: str = "time", key: str, value: str, first: str | None = None, missing: float = 0.0
) -> dict[str, Any]:
    """A long result (``time``, ``key``, ``value`` rows) pivoted into one series per key, as Grafana splits it.

    Series are ordered ``first`` (when present), then by their total, largest first. A key absent from an interval
    that other keys have gets ``missing`` there (for shares: 0, the interval had mentions, none of this key's).
    """
    at, k, v = table.columns.index(time), table.columns.index(key), table.columns.index(value)
    times = sorted({epoch_s(row[at]) for row in table.rows})
    position = {t: i for i, t in enumerate(times)}
    values: dict[str, list[float | None]] = {}
    for row in table.rows:
        name = str(row[k])
        values.setdefault(name, [missing] * len(times))[position[epoch_s(row[at])]] = number(row[v])

    def order(name: str) -> tuple[bool, float, str]:
        return (name != first, -sum(x or 0.0 for x in values[name]), name)

    return {"time": times, "series": [{"name": name, "values": values[name]} for name in sorted(values, key=order)]}


def default_brand(brands: Sequence[str]) -> str | None:
    """The brand shown when none is asked for: the first of the selector's list, which puts own brands (those not
    flagged competitor) first, alphabetically; None when no brand has mentions."""
    return brands[0] if brands else None


def records(table: Table) -> list[dict[str, JsonValue]]:
    return [{c: json_value(v) for c, v in zip(table.columns, row, strict=True)} for row in table.rows]


def shape_panel(query: SqlPanelQuery, table: Table, brand: str) -> dict[str, Any]:
    """One panel's JSON: title, columns and rows; time-series panels also get chart series."""
    panel: dict[str, Any] = {
        "title": query.title,
        "columns": list(table.columns),
        "rows": [[json_value(v) for v in row] for row in table.rows],
    }
    if query.format == "time_series":
        if "brand" in table.columns:
            panel["series"] = long_series(table, key="brand", value="share", first=brand)
        else:
            panel["series"] = wide_series(table)
    return panel


def wall_data(run: QueryRunner, request: WallRequest, now: datetime) -> dict[str, Any]:
    """Everything the page shows for ``request`` at ``now`` (see the module doc for the shape)."""
    window = time_range(request.hours, now)
    brands = [str(row[0]) for row in run_panel(run, BRANDS, brands_sql(now)).rows]
    brand = request.brand or default_brand(brands)
    body: dict[str, Any] = {
        "brand": brand,
        "brands": brands,
        "hours": request.hours,
        "interval_s": interval_for(request.hours),
        "from": iso(window.start),
        "to": iso(window.end),
        "generated_at": iso(now),
        "panels": {},
        "incidents": [],
        "errors": {},
    }
    if brand is None:
        return body
    for query in PANELS:
        try:
            table = run_panel(run, query, render_panel(query, brand, request.hours, now))
            body["panels"][panel_key(query)] = shape_panel(query, table, brand)
        except Exception as exc:  # one broken panel must not blank the whole wall
            body["errors"][panel_key(query)] = str(exc)[:500]
    try:
        body["incidents"] = records(run_panel(run, INCIDENTS, render_panel(INCIDENTS, brand, request.hours, now)))
    except Exception as exc:
        body["errors"][panel_key(INCIDENTS)] = str(exc)[:500]
    return body
