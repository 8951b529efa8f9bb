"""The Grafana alerting provisioning file: luister's alert rules, a Slack contact point and the routing to it.

Grafana's file provisioning format (apiVersion 1; ``/etc/grafana/provisioning/alerting``). Each rule is the
layout Grafana's own editor builds: the data queries (A, B, ...), a ``reduce`` (last value, non-numbers dropped)
of each, a ``threshold`` on each reduction, and, for more than one query, a ``math`` expression that requires
every threshold. The query model is the same JSON the dashboards carry (:class:`ClickHouseQuery`), with the SQL
from ``dashboards/panels/alerting.py``. Grafana does not interpolate environment variables in a query's model, so
``$__timeFilter`` is safe there; labels *are* interpolated, so no label value may contain ``$``.
"""

from __future__ import annotations

from typing import Any

from dashboards.grafana.common import CLICKHOUSE_UID, PROMETHEUS, PROMETHEUS_UID, ClickHouseQuery
from dashboards.panels import ALERT_RULES, AlertRule, PromAlertQuery, SqlPanelQuery

FOLDER = "luister"
GROUP = "luister"
EVALUATION_INTERVAL = "1m"
CONTACT_POINT = "luister-slack"
SLACK_WEBHOOK_ENV = "LUISTER_GRAFANA_SLACK_WEBHOOK_URL"
TEAM_LABEL = ("team", "luister")
EXPRESSIONS = {"type": "__expr__", "uid": "__expr__"}
_MODEL_DEFAULTS = {"intervalMs": 1000, "maxDataPoints": 43200}


def _letters(count: int, start: int = 0) -> list[str]:
    return [chr(ord("A") + start + i) for i in range(count)]


def _query(query: SqlPanelQuery | PromAlertQuery, ref_id: str, window_s: int) -> dict[str, Any]:
    if isinstance(query, SqlPanelQuery):
        if query.format != "table":
            raise ValueError(f"{query.name}: alert queries must use table format (Grafana's numeric data)")
        uid, model = CLICKHOUSE_UID, ClickHouseQuery(query, ref_id).to_json()
    else:
        uid = PROMETHEUS_UID
        model = {"datasource": PROMETHEUS.to_json(), "expr": query.expr, "instant": True, "range": False}
        model["refId"] = ref_id
    return {
        "refId": ref_id,
        "relativeTimeRange": {"from": window_s, "to": 0},
        "datasourceUid": uid,
        "model": {**model, **_MODEL_DEFAULTS},
    }


def _expression(ref_id: str, model: dict[str, Any]) -> dict[str, Any]:
    return {
        "refId": ref_id,
        "relativeTimeRange": {"from": 0, "to": 0},
        "datasourceUid": EXPRESSIONS["uid"],
        "model": {"datasource": dict(EXPRESSIONS), "refId": ref_id, **model, **_MODEL_DEFAULTS},
    }


def rule_refs(rule: AlertRule) -> tuple[list[str], list[str], list[str], str]:
    """(query refIds, reduce refIds, threshold refIds, the condition's refId) of ``rule``."""
    n = len(rule.queries)
    queries, reduces, thresholds = _letters(n), _letters(n, n), _letters(n, 2 * n)
    condition = thresholds[0] if n == 1 else _letters(1, 3 * n)[0]
    return queries, reduces, thresholds, condition


def rule_json(rule: AlertRule) -> dict[str, Any]:
    if len(rule.thresholds) != len(rule.queries) or not rule.queries:
        raise ValueError(f"{rule.uid}: one threshold per query")
    queries, reduces, thresholds, condition = rule_refs(rule)
    data = [_query(q, ref, rule.window_s) for q, ref in zip(rule.queries, queries, strict=True)]
    for query_ref, reduce_ref in zip(queries, reduces, strict=True):
        data.append(
            _expression(
                reduce_ref,
                {"type": "reduce", "expression": query_ref, "reducer": "last", "settings": {"mode": "dropNN"}},
            )
        )
    for reduce_ref, threshold_ref, threshold in zip(reduces, thresholds, rule.thresholds, strict=True):
        evaluator = {"type": threshold.comparison, "params": [threshold.limit]}
        data.append(
            _expression(
                threshold_ref, {"type": "threshold", "expression": reduce_ref, "conditions": [{"evaluator": evaluator}]}
            )
        )
    if len(thresholds) > 1:
        data.append(_expression(condition, {"type": "math", "expression": " && ".join(f"${t}" for t in thresholds)}))
    return {
        "uid": rule.uid,
        "title": rule.title,
        "condition": condition,
        "data": data,
        "noDataState": rule.no_data,
        "execErrState": "Error",
        "for": rule.pending,
        "annotations": {"summary": rule.summary, "description": rule.description},
        "labels": {TEAM_LABEL[0]: TEAM_LABEL[1], "severity": rule.severity},
        "isPaused": False,
    }


def alerting_provisioning() -> dict[str, Any]:
    """The whole provisioning document (rules, contact point, notification policy)."""
    return {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": 1,
                "name": GROUP,
                "folder": FOLDER,
                "interval": EVALUATION_INTERVAL,
                "rules": [rule_json(rule) for rule in ALERT_RULES],
            }
        ],
        "contactPoints": [
            {
                "orgId": 1,
                "name": CONTACT_POINT,
                "receivers": [
                    {
                        "uid": CONTACT_POINT,
                        "type": "slack",
                        "disableResolveMessage": False,
                        # Grafana interpolates contact point settings from its environment: no secret in this file.
                        "settings": {"url": f"${{{SLACK_WEBHOOK_ENV}}}"},
                    }
                ],
            }
        ],
        # Provisioning a policy tree replaces the organisation's whole tree: this Grafana is luister's.
        "policies": [
            {
                "orgId": 1,
                "receiver": CONTACT_POINT,
                "group_by": ["grafana_folder", "alertname"],
                "routes": [
                    {
                        "receiver": CONTACT_POINT,
                        "object_matchers": [[TEAM_LABEL[0], "=", TEAM_LABEL[1]]],
                        "group_by": ["alertname", "brand"],
                        "group_wait": "30s",
                        "group_interval": "5m",
                        "repeat_interval": "4h",
                    }
                ],
            }
        ],
    }
