"""The generated Grafana dashboards: byte-identical regeneration, every panel query used, valid references."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from dashboards.generate import GENERATED, generate, render_all
from dashboards.grafana.boards import DASHBOARDS
from dashboards.panels import PROM_QUERIES, SQL_QUERIES
from pipeline.cli import main

PROVISIONING = Path(__file__).resolve().parents[2] / "dashboards" / "provisioning"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GENERATED / name).read_text(encoding="utf-8"))
    return data


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def targets(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in panels(board):
        yield from panel.get("targets", [])
    for annotation in board["annotations"].get("list", []):
        if "rawSql" in annotation.get("target", {}):
            yield annotation["target"]


def test_committed_json_is_what_the_code_generates() -> None:
    """Regenerating gives byte-identical files: run `make dashboards` after changing dashboards/."""
    for name, text in render_all().items():
        assert (GENERATED / name).read_bytes() == text.encode("utf-8"), f"{name} is stale: run `make dashboards`"
    assert sorted(p.name for p in GENERATED.glob("*.json")) == sorted(render_all())


def test_generation_is_deterministic() -> None:
    assert render_all() == render_all()


def test_generate_writes_checks_and_removes_strays(tmp_path: Path) -> None:
    assert generate(tmp_path, check=True, alerting=None).stale == [tmp_path / name for name in render_all()]
    written = generate(tmp_path, alerting=None)
    assert sorted(p.name for p in written.written) == sorted(render_all())
    assert generate(tmp_path, alerting=None).written == []
    assert generate(tmp_path, check=True, alerting=None).stale == []
    (tmp_path / "luister-wall.json").write_text("{}")
    (tmp_path / "old.json").write_text("{}")
    assert sorted(p.name for p in generate(tmp_path, check=True, alerting=None).stale) == [
        "luister-wall.json",
        "old.json",
    ]
    generate(tmp_path, alerting=None)
    assert not (tmp_path / "old.json").exists()
    assert generate(tmp_path, check=True, alerting=None).stale == []


def test_cli_generate_and_check(tmp_path: Path) -> None:
    runner = CliRunner()
    stale = runner.invoke(main, ["dashboards", "generate", "--check", "--out", str(tmp_path)])
    assert stale.exit_code == 1
    assert "out of date" in stale.output
    done = runner.invoke(main, ["dashboards", "generate", "--out", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "luister-wall.json").is_file()
    assert (tmp_path / "luister-alerting.yaml").is_file()  # with --out, the alert rules land there too
    current = runner.invoke(main, ["dashboards", "generate", "--check", "--out", str(tmp_path)])
    assert current.exit_code == 0
    assert "current" in current.output


def test_every_panel_query_is_on_a_dashboard_verbatim() -> None:
    """No query is written twice: the dashboards embed the panel SQL and PromQL from dashboards/panels as is."""
    sql = {t["rawSql"] for name in render_all() for t in targets(load(name)) if "rawSql" in t}
    variables = {v["query"] for name in render_all() for v in load(name).get("templating", {}).get("list", [])}
    for query in SQL_QUERIES:
        assert query.sql.strip() in sql | variables, f"{query.name} is on no dashboard"
    assert sql <= {q.sql.strip() for q in SQL_QUERIES}
    exprs = {t["expr"] for t in targets(load("luister-operations.json"))}
    assert exprs == {t.expr for q in PROM_QUERIES for t in q.targets}


def test_dashboards_have_unique_uids_titles_ids_and_a_sane_grid() -> None:
    uids = [load(name)["uid"] for name in render_all()]
    assert sorted(uids) == sorted(DASHBOARDS)
    for name in render_all():
        board = load(name)
        ids = [p["id"] for p in panels(board)]
        assert ids == list(range(1, len(ids) + 1))
        for panel in panels(board):
            grid = panel["gridPos"]
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0


def test_wall_and_webcare_have_the_brand_selector_and_refresh() -> None:
    for name in ("luister-wall.json", "luister-webcare.json"):
        board = load(name)
        (brand,) = board["templating"]["list"]
        assert brand["name"] == "brand" and brand["type"] == "query" and not brand.get("multi")
        assert brand["datasource"]["uid"] == "luister-clickhouse"
        assert board["refresh"]
    wall = load("luister-wall.json")
    assert wall["annotations"]["list"][0]["target"]["rawSql"].count("incidents_v") == 1
    big = [p for p in panels(wall) if p["type"] == "stat"]
    assert big and big[0]["options"]["text"]["valueSize"] >= 60


def test_every_target_uses_a_provisioned_data_source() -> None:
    provisioned = yaml.safe_load((PROVISIONING / "datasources" / "luister.yaml").read_text())["datasources"]
    by_uid = {d["uid"]: d["type"] for d in provisioned}
    assert by_uid == {"luister-clickhouse": "grafana-clickhouse-datasource", "luister-prometheus": "prometheus"}
    for name in render_all():
        board = load(name)
        for target in targets(board):
            ref = target["datasource"]
            assert by_uid[ref["uid"]] == ref["type"]
            if ref["type"] == "grafana-clickhouse-datasource":
                assert target["editorType"] == "sql"
                assert (target["format"], target["queryType"]) in ((0, "timeSeries"), (1, "table"))


def test_dashboard_provider_points_at_one_folder() -> None:
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "luister.yaml").read_text())
    (only,) = provider["providers"]
    assert only["type"] == "file" and only["options"]["path"].startswith("/")
    assert provider["apiVersion"] == 1


@pytest.mark.parametrize("name", sorted(render_all()))
def test_time_series_queries_return_time_first(name: str) -> None:
    for target in targets(load(name)):
        if target.get("format") == 0:
            query = next(q for q in SQL_QUERIES if q.sql.strip() == target["rawSql"])
            assert query.columns[0] == "time", query.name


def test_provisioning_environment_is_documented() -> None:
    used = set(re.findall(r"\$\{(\w+)\}", (PROVISIONING / "datasources" / "luister.yaml").read_text()))
    doc = (Path(__file__).resolve().parents[2] / "docs" / "dashboards.md").read_text()
    assert used and all(f"`{name}`" in doc for name in used), sorted(used)
