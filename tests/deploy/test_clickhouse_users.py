"""deploy/clickhouse/users.d/luister.xml: the analyst role is read-only and bounded, on paper (the XML) and for real
(its settings applied to queries on the embedded engine, which is the same ClickHouse code as the server)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver._chdbclient import ChdbClient
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

USERS = Path(__file__).resolve().parents[2] / "deploy" / "clickhouse" / "users.d" / "luister.xml"
LIMITS = (
    "max_threads",
    "max_memory_usage",
    "max_execution_time",
    "max_result_rows",
    "max_result_bytes",
    "max_rows_to_read",
)


def config() -> ET.Element:
    return ET.parse(USERS).getroot()


def profile_settings(name: str) -> dict[str, str]:
    """A profile's settings (constraints excluded), ``readonly`` last: applied in order on a chDB handle, nothing
    can change after it."""
    profile = config().find(f"profiles/{name}")
    assert profile is not None, name
    settings = {child.tag: (child.text or "").strip() for child in profile if child.tag != "constraints"}
    readonly = settings.pop("readonly")
    return {**settings, "readonly": readonly}


def test_users_have_profiles_quotas_and_passwords_from_the_environment() -> None:
    root = config()
    assert root.tag == "clickhouse"
    profiles = {p.tag for p in root.findall("profiles/*")}
    quotas = {q.tag for q in root.findall("quotas/*")} | {"default"}
    users = {u.tag: u for u in root.findall("users/*")}
    assert {"luister", "analyst", "grafana"} <= set(users)
    for name in ("luister", "analyst", "grafana"):
        user = users[name]
        assert user.findtext("profile") in profiles, name
        assert user.findtext("quota") in quotas, name
        password = user.find("password")
        assert password is not None and password.get("from_env") and not (password.text or "").strip(), name
    assert users["luister"].findtext("profile") == "luister_writer"
    assert users["analyst"].findtext("profile") == "analyst"
    default_networks = [ip.text for ip in users["default"].findall("networks/ip")]
    assert set(default_networks) == {"::1", "127.0.0.1"}, "the passwordless default user stays inside the container"


def test_only_the_writer_may_write() -> None:
    users = {u.tag: u for u in config().findall("users/*")}
    grants = {name: [q.text for q in user.findall("grants/query")] for name, user in users.items()}
    assert grants["analyst"] == ["GRANT SELECT ON luister.*"]
    assert grants["grafana"] == ["GRANT SELECT ON luister.*"]
    assert "GRANT ALL ON luister.*" in grants["luister"]
    assert profile_settings("luister_writer")["readonly"] == "0"


def test_the_analyst_profile_is_read_only_with_limits_it_cannot_raise() -> None:
    settings = profile_settings("analyst")
    assert settings["readonly"] in {"1", "2"}
    for limit in LIMITS:
        assert int(settings[limit]) > 0, limit
    assert settings["result_overflow_mode"] == "throw"
    constraints = config().find("profiles/analyst/constraints")
    assert constraints is not None
    for limit in LIMITS:
        bound = constraints.find(limit)
        assert bound is not None, f"{limit} has no constraint: readonly=2 would let the analyst raise it"
        assert bound.findtext("max") == settings[limit], limit
    assert constraints.find("result_overflow_mode/const") is not None
    quota = config().find("quotas/analyst/interval")
    assert quota is not None and int(quota.findtext("duration") or 0) > 0
    assert int(quota.findtext("queries") or 0) > 0 and int(quota.findtext("result_rows") or 0) > 0


def test_the_dashboards_profile_is_read_only_but_grafana_may_set_its_timeout() -> None:
    settings = profile_settings("dashboards")
    assert settings["readonly"] == "1"
    timeout = config().find("profiles/dashboards/constraints/max_execution_time")
    assert timeout is not None and timeout.find("changeable_in_readonly") is not None


# ------------------------------------------------------------------------------ the profile on a real engine
@pytest.fixture
def analyst(engine: Client) -> Iterator[ChdbClient]:
    """A handle on the embedded engine with the analyst profile's settings, on a small ``luister`` database."""
    engine.command("CREATE DATABASE IF NOT EXISTS luister")
    engine.command("CREATE TABLE IF NOT EXISTS luister.notes (id UInt64, text String) ENGINE = MergeTree ORDER BY id")
    engine.command("TRUNCATE TABLE luister.notes")
    engine.command("INSERT INTO luister.notes SELECT number, toString(number) FROM numbers(100)")
    assert isinstance(engine, ChdbClient)
    handle = ChdbClient(path=engine.path, database="luister", settings=profile_settings("analyst"))
    yield handle
    handle.close()
    engine.command("DROP DATABASE IF EXISTS luister")


def test_the_analyst_reads_but_cannot_write_or_change_the_schema(analyst: ChdbClient, engine: Client) -> None:
    assert analyst.query("SELECT count() FROM notes").result_rows == [(100,)]
    refused = [
        "INSERT INTO notes VALUES (1000, 'x')",
        "ALTER TABLE notes DELETE WHERE id < 10",
        "CREATE TABLE scratch (x UInt8) ENGINE = Memory",
        "DROP TABLE notes",
        "TRUNCATE TABLE notes",
        "SET readonly = 0",
    ]
    for statement in refused:
        with pytest.raises(ClickHouseError, match=r"readonly mode|READONLY"):
            analyst.command(statement)
    assert engine.query("SELECT count(), sum(id) FROM luister.notes").result_rows == [(100, 4950)]


def test_an_oversize_result_is_refused(analyst: ChdbClient) -> None:
    limit = int(profile_settings("analyst")["max_result_rows"])
    assert analyst.query(f"SELECT number FROM numbers({limit})").row_count == limit
    with pytest.raises(ClickHouseError, match=r"TOO_MANY_ROWS_OR_BYTES|Limit for result exceeded"):
        analyst.query(f"SELECT number FROM numbers({limit + 1})")


def test_the_settings_in_force_are_the_profiles(analyst: ChdbClient) -> None:
    wanted = profile_settings("analyst")
    names = ", ".join(f"toString(getSetting('{name}'))" for name in wanted)
    [row] = analyst.query(f"SELECT {names}").result_rows
    in_force = dict(zip(wanted, row, strict=True))
    assert in_force["readonly"] == wanted["readonly"]
    for limit in LIMITS:
        assert in_force[limit] == wanted[limit], limit
