"""The operations dashboard's PromQL: every metric and label it names exists in luister's registries (or is named
as external, with its exporter), and the expressions parse (with promtool, when Prometheus' tools are installed)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from promql_names import exported, groupings, selectors
from system_tools import require_tool

from dashboards.panels import PROM_QUERIES, PromPanelQuery

EXPORTED = exported()


@pytest.mark.parametrize("query", PROM_QUERIES, ids=lambda q: q.name)
def test_every_metric_exists_or_is_declared_external(query: PromPanelQuery) -> None:
    for target in query.targets:
        found = selectors(target.expr)
        assert found, target.expr
        for name, _ in found:
            assert name in EXPORTED or name in query.external, f"{query.name}: {name} is not exported by luister"
        assert set(query.external) <= {name for t in query.targets for name, _ in selectors(t.expr)}


@pytest.mark.parametrize("query", PROM_QUERIES, ids=lambda q: q.name)
def test_every_label_exists(query: PromPanelQuery) -> None:
    for target in query.targets:
        ours = [(name, labels) for name, labels in selectors(target.expr) if name in EXPORTED]
        for name, labels in ours:
            assert labels <= EXPORTED[name], f"{query.name}: {name} has no label {labels - EXPORTED[name]}"
        if ours:
            available = set().union(*(EXPORTED[name] for name, _ in ours))
            assert groupings(target.expr) <= available, f"{query.name}: grouping by a label none of its metrics has"
        legend_labels = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", target.legend))
        assert legend_labels <= groupings(target.expr), f"{query.name}: legend names a label the result lacks"


def test_selectors_parser_sees_names_labels_and_ignores_functions() -> None:
    expr = 'histogram_quantile(0.9, sum by (le, stage) (rate(luister_latency_seconds_bucket{stage="x", a!~"y"}[5m])))'
    assert selectors(expr) == [("luister_latency_seconds_bucket", {"stage", "a"})]
    assert groupings(expr) == {"le", "stage"}


def test_an_unknown_metric_would_be_caught() -> None:
    assert "luister_mentions_consumed_total" in EXPORTED
    assert "luister_mentions_consumed" not in EXPORTED  # counters are exposed with _total


def test_expressions_parse_with_promtool(tmp_path: Path) -> None:
    promtool = require_tool("promtool", "prometheus")
    rules = [
        {"record": f"luister:check_{n}", "expr": target.expr.replace("$__rate_interval", "1m")}
        for n, target in enumerate(t for q in PROM_QUERIES for t in q.targets)
    ]
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
