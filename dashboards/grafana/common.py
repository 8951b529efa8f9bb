"""Shared pieces of the generated dashboards: data sources, the ClickHouse query type, the brand variable.

The foundation SDK has no model for the ClickHouse plugin's query, so :class:`ClickHouseQuery` is ours: the JSON
the plugin stores for a raw-SQL query (``editorType: sql``, ``rawSql``, ``queryType``, and the backend's ``format``:
0 = time series, 1 = table, per grafana-plugin-sdk-go's ``sqlutil.FormatQueryOption``).
"""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders.dashboard import QueryVariable
from grafana_foundation_sdk.builders.prometheus import Dataquery as PrometheusQuery
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard as model

from dashboards.panels import PromPanelQuery, SqlPanelQuery
from dashboards.panels.wall import brands

CLICKHOUSE_TYPE = "grafana-clickhouse-datasource"
CLICKHOUSE_UID = "luister-clickhouse"
PROMETHEUS_UID = "luister-prometheus"
CLICKHOUSE = model.DataSourceRef(type_val=CLICKHOUSE_TYPE, uid=CLICKHOUSE_UID)
PROMETHEUS = model.DataSourceRef(type_val="prometheus", uid=PROMETHEUS_UID)
TAGS = ["luister"]

_FORMAT = {"time_series": 0, "table": 1}
_QUERY_TYPE = {"time_series": "timeSeries", "table": "table"}


class ClickHouseQuery(cogvariants.Dataquery):
    """A raw-SQL query of Grafana's ClickHouse plugin (v4)."""

    def __init__(self, query: SqlPanelQuery, ref_id: str = "A") -> None:
        self.query = query
        self.ref_id = ref_id

    def to_json(self) -> dict[str, Any]:
        return {
            "datasource": CLICKHOUSE.to_json(),
            "editorType": "sql",
            "format": _FORMAT[self.query.format],
            "queryType": _QUERY_TYPE[self.query.format],
            "rawSql": self.query.sql.strip(),
            "refId": self.ref_id,
        }


class ClickHouseTarget(cogbuilder.Builder[cogvariants.Dataquery]):
    def __init__(self, query: SqlPanelQuery, ref_id: str = "A") -> None:
        self._query = ClickHouseQuery(query, ref_id)

    def build(self) -> cogvariants.Dataquery:
        return self._query


class ClickHouseAnnotationTarget(model.AnnotationTarget):
    """An annotation's target in the ClickHouse plugin's query shape (the SDK's is Grafana's built-in one)."""

    def __init__(self, query: SqlPanelQuery) -> None:
        super().__init__()
        self.query = query

    def to_json(self) -> dict[str, object]:
        return ClickHouseQuery(self.query, ref_id="Anno").to_json()


class ClickHouseAnnotation(cogbuilder.Builder[model.AnnotationTarget]):
    def __init__(self, query: SqlPanelQuery) -> None:
        self._target = ClickHouseAnnotationTarget(query)

    def build(self) -> model.AnnotationTarget:
        return self._target


def prometheus_targets(query: PromPanelQuery) -> list[cogbuilder.Builder[cogvariants.Dataquery]]:
    return [
        PrometheusQuery()
        .expr(target.expr)
        .legend_format(target.legend or "__auto")
        .ref_id(chr(ord("A") + number))
        .datasource(PROMETHEUS)
        .range()
        for number, target in enumerate(query.targets)
    ]


def brand_variable() -> QueryVariable:
    """The brand selector: one brand at a time, from the brands seen recently, own brands first."""
    return (
        QueryVariable("brand")
        .label("Brand")
        .description(brands.description)
        .datasource(CLICKHOUSE)
        .query(brands.sql.strip())
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(model.VariableSort.DISABLED)
        .multi(False)
        .include_all(False)
    )
