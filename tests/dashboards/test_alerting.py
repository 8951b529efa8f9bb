"""Grafana-managed alert rules: the provisioning file's shape, and every rule's query and threshold on real engines.

The SQL rules run (rendered with ``render``, as Grafana's ClickHouse plugin expands them) on the embedded engine
over the demo data set (``tests/demo_dataset.py``: quiet history, then a crisis for the brand Veloxa with luister
incidents); the threshold logic is applied in Python to each returned row, which is what Grafana's reduce and
threshold expressions do with "numeric data". The Prometheus rule's expressions run in promtool over synthetic
counters. Not tested here: Grafana itself (none is installable on this machine).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from clickhouse_connect.driver.client import Client
from demo_dataset import DemoDataset, demo_database
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase
from system_tools import require_tool

from connectors.metrics import ConnectorMetrics
from dashboards.generate import ALERTING, alerting_yaml, generate
from dashboards.grafana.alerting import CONTACT_POINT, SLACK_WEBHOOK_ENV, rule_refs
from dashboards.panels import ALERT_RULES, AlertRule, PromAlertQuery, SqlPanelQuery, TimeRange, render
from dashboards.panels import alerting as queries
from pipeline.metrics import PipelineMetrics
from pipeline.storage import run_readonly

REPO = Path(__file__).resolve().parents[2]
PROVISIONING = REPO / "dashboards" / "provisioning"
NO_DATA_STATES = {"OK", "NoData", "Alerting", "KeepLast"}
EXEC_ERR_STATES = {"OK", "Error", "Alerting", "KeepLast"}
DB = "luister"


def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ALERTING.read_text(encoding="utf-8"))
    return loaded


def rules() -> list[dict[str, Any]]:
    (group,) = document()["groups"]
    found: list[dict[str, Any]] = group["rules"]
    return found


# ------------------------------------------------------------------------------------------------- the file
def test_committed_file_is_what_the_code_generates_and_is_deterministic() -> None:
    assert ALERTING.read_text(encoding="utf-8") == alerting_yaml(), "stale: run `make dashboards`"
    assert alerting_yaml() == alerting_yaml()


def test_generate_writes_and_checks_the_alerting_file(tmp_path: Path) -> None:
    target = tmp_path / "alerting" / "rules.yaml"
    assert target in generate(tmp_path, check=True, alerting=target).stale
    assert target in generate(tmp_path, alerting=target).written
    assert generate(tmp_path, check=True, alerting=target).stale == []
    target.write_text(alerting_yaml().replace("for: 5m", "for: 1m", 1))
    assert generate(tmp_path, check=True, alerting=target).stale == [target]


def test_group_and_rules_have_the_fields_grafana_requires() -> None:
    doc = document()
    assert doc["apiVersion"] == 1
    (group,) = doc["groups"]
    assert group["name"] and group["folder"] and re.fullmatch(r"\d+[smh]", group["interval"])
    uids = [r["uid"] for r in rules()]
    assert len(uids) == len(set(uids)) == len(ALERT_RULES) and all(re.fullmatch(r"[\w-]{1,40}", u) for u in uids)
    for rule in rules():
        assert rule["title"] and rule["noDataState"] in NO_DATA_STATES and rule["execErrState"] in EXEC_ERR_STATES
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["for"]
        assert rule["annotations"]["summary"] and rule["labels"]["team"] == "luister"
        # Grafana interpolates $VARS in labels (and ${VARS} in annotations) from its environment at provisioning.
        assert not any("$" in v for v in rule["labels"].values())
        assert not any("${" in v for v in rule["annotations"].values())


def test_every_reference_resolves() -> None:
    datasources = yaml.safe_load((PROVISIONING / "datasources" / "luister.yaml").read_text())["datasources"]
    by_uid = {d["uid"]: d["type"] for d in datasources}
    for rule in rules():
        refs = [d["refId"] for d in rule["data"]]
        assert len(refs) == len(set(refs)) and rule["condition"] in refs
        for entry in rule["data"]:
            model = entry["model"]
            assert model["refId"] == entry["refId"]
            if entry["datasourceUid"] == "__expr__":
                assert model["datasource"] == {"type": "__expr__", "uid": "__expr__"}
                assert model["type"] in {"reduce", "threshold", "math"}
                used = (
                    set(re.findall(r"\$\{?(\w+)", model["expression"]))
                    if model["type"] == "math"
                    else {model["expression"]}
                )
                assert used and used <= set(refs) - {entry["refId"]}, (rule["uid"], used)
            else:
                assert by_uid[entry["datasourceUid"]] == model["datasource"]["type"]
                assert model["datasource"]["uid"] == entry["datasourceUid"]
                assert entry["relativeTimeRange"]["from"] > 0
                if model["datasource"]["type"] == "grafana-clickhouse-datasource":
                    assert (model["format"], model["queryType"], model["editorType"]) == (1, "table", "sql")


def test_the_file_carries_the_panel_queries_and_thresholds_verbatim() -> None:
    """No query is written twice: the rules embed dashboards/panels/alerting.py's text and thresholds."""
    for rule, generated in zip(ALERT_RULES, rules(), strict=True):
        assert generated["uid"] == rule.uid and generated["noDataState"] == rule.no_data
        data = {d["refId"]: d["model"] for d in generated["data"]}
        query_refs, reduce_refs, threshold_refs, condition = rule_refs(rule)
        assert generated["condition"] == condition
        for query, ref in zip(rule.queries, query_refs, strict=True):
            text = data[ref]["rawSql"] if isinstance(query, SqlPanelQuery) else data[ref]["expr"]
            assert text == (query.sql.strip() if isinstance(query, SqlPanelQuery) else query.expr)
        for threshold, reduce_ref, ref in zip(rule.thresholds, reduce_refs, threshold_refs, strict=True):
            assert data[reduce_ref]["reducer"] == "last"
            assert data[ref]["expression"] == reduce_ref
            assert data[ref]["conditions"] == [
                {"evaluator": {"type": threshold.comparison, "params": [threshold.limit]}}
            ]
        for value_ref in re.findall(r"\$values\.(\w+)", rule.summary):
            assert value_ref in reduce_refs, f"{rule.uid}: the summary shows {value_ref}, not a reduced value"


def test_slack_contact_point_takes_its_secret_from_the_environment_and_policies_route_to_it() -> None:
    doc = document()
    (contact,) = doc["contactPoints"]
    (receiver,) = contact["receivers"]
    assert contact["name"] == CONTACT_POINT and receiver["type"] == "slack"
    assert receiver["settings"] == {"url": f"${{{SLACK_WEBHOOK_ENV}}}"}
    assert "hooks.slack.com/services/T" not in ALERTING.read_text()
    (policy,) = doc["policies"]
    assert policy["receiver"] == CONTACT_POINT
    (route,) = policy["routes"]
    assert route["receiver"] == CONTACT_POINT
    for rule in rules():
        assert all(op == "=" and rule["labels"].get(k) == v for k, op, v in route["object_matchers"])
    doc_text = (REPO / "docs" / "dashboards.md").read_text()
    assert f"`{SLACK_WEBHOOK_ENV}`" in doc_text


# ------------------------------------------------------------------------------- the SQL rules on the engine
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, DemoDataset]]:
    with demo_database(tmp_path_factory.mktemp("alerting")) as opened:
        yield opened


def evaluate(client: Client, rule: AlertRule, end: datetime) -> dict[str, float]:
    """The rule's query over the ``window_s`` before ``end``: label (brand) → value, columns checked."""
    (query,) = rule.queries
    assert isinstance(query, SqlPanelQuery)
    window = TimeRange(end - timedelta(seconds=rule.window_s), end)
    result = run_readonly(client, render(query.sql, window, {}), database=DB)
    assert result.columns == query.columns or not result.rows, query.name
    values = {}
    for brand, value in result.rows:
        assert isinstance(brand, str) and isinstance(value, int | float), (brand, value)
        values[brand] = float(value)
    return values


def firing(rule: AlertRule, values: dict[str, float]) -> set[str]:
    """What Grafana would fire: instances whose value passes the threshold; none on no data when it says OK."""
    if not values:
        assert rule.no_data == "OK", f"{rule.uid} would raise a no-data alert"
        return set()
    return {label for label, value in values.items() if rule.fires((value,))}


SQL_RULES = [r for r in ALERT_RULES if all(isinstance(q, SqlPanelQuery) for q in r.queries)]


def pending_s(rule: AlertRule) -> int:
    number, unit = int(rule.pending[:-1]), rule.pending[-1]
    return number * {"s": 1, "m": 60, "h": 3600}[unit]


@pytest.mark.slow
@pytest.mark.parametrize("rule", SQL_RULES, ids=lambda r: r.uid)
def test_rule_fires_on_the_crisis_and_not_on_calm_data(demo: tuple[Client, DemoDataset], rule: AlertRule) -> None:
    """Firing: every minute-by-minute evaluation over the rule's pending period (Grafana's ``for``) ending on the
    crisis's plateau (ramp 10 min, hold 30 min). Calm: the live stream's normal traffic before the crisis."""
    client, data = demo
    crisis_end = data.crisis_start + timedelta(minutes=30)
    for back in range(0, pending_s(rule) + 1, 60):
        crisis = evaluate(client, rule, crisis_end - timedelta(seconds=back))
        assert firing(rule, crisis) == {data.brand}, (rule.uid, back, crisis)
    for before in (15, 30, 45):
        calm = evaluate(client, rule, data.crisis_start - timedelta(minutes=before))
        assert firing(rule, calm) == set(), (rule.uid, before, calm)
        assert set(calm) <= {data.brand}, "only own brands alert (the demo's competitors must not)"


@pytest.mark.slow
def test_the_negative_share_ratio_is_what_the_mentions_say(demo: tuple[Client, DemoDataset]) -> None:
    """The crisis value recomputed from the written mentions' sentiments (the demo's ground truth)."""
    client, data = demo
    end = data.crisis_start + timedelta(minutes=30)
    start = end - timedelta(seconds=queries.WINDOW_S)
    value = evaluate(client, ALERT_RULES[0], end)[data.brand]

    def share(since: datetime, until: datetime, inclusive: bool) -> float:
        def inside(at: datetime) -> bool:
            at = at.replace(second=0, microsecond=0)
            return since <= at <= until if inclusive else since <= at < until

        picked = [
            m
            for m in data.mentions
            if inside(m.created_at) and any(b.brand == data.brand and not b.competitor for b in m.brands)
        ]
        return sum(data.truth[m.id].sentiment == "negative" for m in picked) / len(picked)

    expected = share(start, end, True) / max(share(start - timedelta(days=7), start, False), queries.SHARE_FLOOR)
    assert value == pytest.approx(expected, rel=1e-9)


# -------------------------------------------------------------------------------- the Prometheus rule
def exported_metrics() -> set[str]:
    """Sample names luister's processes expose (each labelled metric touched once so it shows)."""
    registry = CollectorRegistry()
    for holder in (PipelineMetrics(registry), ConnectorMetrics(registry)):
        for metric in vars(holder).values():
            if isinstance(metric, MetricWrapperBase) and metric._labelnames:
                metric.labels(*["x"] * len(metric._labelnames))
    return {sample.name for family in registry.collect() for sample in family.samples}


PROM_RULES = [r for r in ALERT_RULES if all(isinstance(q, PromAlertQuery) for q in r.queries)]


def test_prometheus_rules_use_exported_counters() -> None:
    names = exported_metrics()
    assert PROM_RULES
    for rule in PROM_RULES:
        for query in rule.queries:
            assert isinstance(query, PromAlertQuery)
            for metric in re.findall(r"\b(luister_\w+)", query.expr):
                assert metric in names, f"{rule.uid}: {metric} is not exported"


@pytest.mark.parametrize(
    ("published", "written", "fires"),
    [("0+60x20", "100+0x20", True), ("0+60x20", "100+60x20", False), ("5+0x20", "100+0x20", False)],
    ids=["stalled", "flowing", "idle"],
)
def test_pipeline_rule_on_promtool(tmp_path: Path, published: str, written: str, fires: bool) -> None:
    """Synthetic counters (one sample a minute) evaluated by promtool at 15 min; Python applies the thresholds."""
    promtool = require_tool("promtool", "prometheus")
    (rule,) = PROM_RULES
    increases = {"0+60x20": 600.0, "100+0x20": 0.0, "100+60x20": 600.0, "5+0x20": 0.0}
    values = tuple(increases[s] for s in (published, written))
    tests = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'luister_connector_published_total{connector="demo"}', "values": published},
                    {"series": 'luister_mentions_written_total{instance="w1"}', "values": written},
                ],
                "promql_expr_test": [
                    {"expr": query.expr, "eval_time": "15m", "exp_samples": [{"labels": "{}", "value": value}]}
                    for query, value in zip(rule.queries, values, strict=True)
                    if isinstance(query, PromAlertQuery)
                ],
            }
        ],
    }
    path = tmp_path / "test.yml"
    path.write_text(yaml.safe_dump(tests))
    done = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert rule.fires(values) is fires


def test_sql_reads_what_it_declares_and_needs_no_dashboard_variable() -> None:
    """A rule has no dashboard variables, and ``now()`` would break evaluating a past window (as the tests do)."""
    for query in queries.SQL_QUERIES:
        assert "now()" not in query.sql and "${" not in query.sql, query.name
        read = set(re.findall(r"\bFROM\s+(\w+)", query.sql)) - {"recent", "baseline", "before"}
        assert read == set(query.reads), query.name
