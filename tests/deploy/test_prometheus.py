"""deploy/prometheus and deploy/alertmanager: promtool checks the config and the rules and runs the rules' unit tests;
every metric and label the rules name is exported by luister's processes; the Kubernetes adapter's queries too."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from promql_names import exported, groupings, selectors
from system_tools import require_tool

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
RULES = PROMETHEUS / "rules" / "luister.yml"
EXTERNAL = {"up": {"job", "instance"}}
"""Series Prometheus makes itself."""


EXPORTED = exported()


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def recorded() -> dict[str, set[str]]:
    """Recording rules' names → the labels their result keeps (their ``by`` grouping, minus ``le``)."""
    return {r["record"]: groupings(r["expr"]) - {"le"} for r in rules() if "record" in r}


def test_the_rules_have_the_alerts_the_deployment_promises() -> None:
    alerts = {r["alert"] for r in rules() if "alert" in r}
    assert {
        "LuisterWorkerDown",
        "LuisterConsumerLagGrowing",
        "LuisterDeadLettersHigh",
        "LuisterWriteErrors",
        "LuisterEndToEndLatencyHigh",
        "LuisterConnectorFailing",
    } <= alerts
    for rule in rules():
        if "alert" in rule:
            assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
            assert rule["annotations"]["summary"], rule["alert"]


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.get("alert") or r["record"])
def test_every_metric_and_label_in_the_rules_exists(rule: dict[str, Any]) -> None:
    known = {**EXPORTED, **EXTERNAL, **recorded()}
    found = selectors(rule["expr"])
    assert found, rule["expr"]
    for name, labels in found:
        assert name in known, f"{name} is not exported by luister (nor recorded, nor Prometheus' own)"
        assert labels <= known[name], f"{name} has no label {labels - known[name]}"
    available = set().union(*(known[name] for name, _ in found)) | {"le"}
    assert groupings(rule["expr"]) <= available


def test_an_unknown_metric_name_would_be_caught() -> None:
    assert "luister_consumer_lag" in EXPORTED and EXPORTED["luister_consumer_lag"] == {"topic", "partition"}
    assert "luister_connector_errors_total" in EXPORTED
    assert "luister_connector_errors" not in EXPORTED


def test_promtool_checks_the_config_and_its_rules() -> None:
    promtool = require_tool("promtool", "prometheus")
    done = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS / "prometheus.yml")], capture_output=True, text=True, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "SUCCESS: 1 rule files found" in output  # the relative rule_files glob found the rules
    assert f"SUCCESS: {len(rules())} rules found" in output


def test_promtool_unit_tests_of_the_alerts_pass() -> None:
    promtool = require_tool("promtool", "prometheus")
    tests = sorted((PROMETHEUS / "tests").glob("*.yml"))
    assert tests
    cases = [case for path in tests for case in yaml.safe_load(path.read_text())["tests"]]
    tested = {check["alertname"] for case in cases for check in case.get("alert_rule_test", [])}
    assert len(tested) >= 2
    done = subprocess.run(
        [promtool, "test", "rules", *map(str, tests)], capture_output=True, text=True, check=False, cwd=PROMETHEUS
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_unit_tests_can_fail(tmp_path: Path) -> None:
    """The same test file against rules whose worker-down delay was changed: promtool must report the failure."""
    promtool = require_tool("promtool", "prometheus")
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "rules" / "luister.yml").write_text(RULES.read_text().replace("for: 2m", "for: 10m", 1))
    test_file = tmp_path / "tests" / "luister_test.yml"
    test_file.write_text((PROMETHEUS / "tests" / "luister_test.yml").read_text())
    done = subprocess.run([promtool, "test", "rules", str(test_file)], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "LuisterWorkerDown" in done.stdout + done.stderr


def test_alertmanager_routes_to_receivers_it_defines() -> None:
    config = yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text())
    receivers = {r["name"] for r in config["receivers"]}

    def routed(route: dict[str, Any]) -> set[str]:
        children = {name for child in route.get("routes", []) for name in routed(child)}
        return children | ({route["receiver"]} if "receiver" in route else set())

    assert routed(config["route"]) <= receivers
    [slack] = next(r for r in config["receivers"] if r["name"] == config["route"]["receiver"])["slack_configs"]
    assert slack["api_url_file"] == "/tmp/slack_ops_webhook_url"
    compose = (DEPLOY / "docker-compose.yml").read_text()
    assert "> /tmp/slack_ops_webhook_url" in compose
    alerts = {r["alert"] for r in rules() if "alert" in r}
    for inhibit in config.get("inhibit_rules", []):
        for matcher in inhibit["source_matchers"] + inhibit["target_matchers"]:
            assert matcher.split("=", 1)[1].strip('"') in alerts
