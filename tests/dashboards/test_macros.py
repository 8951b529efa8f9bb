"""Rendering Grafana-form panel SQL: the ClickHouse plugin's macro expansions, variables, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dashboards.panels import SQL_QUERIES, MacroError, TimeRange, render, variables_used
from dashboards.panels.macros import quote

# The plugin's own test vectors (pkg/macros/macros_test.go): from 1415792726.123 s to 1447328726.456 s.
FROM = datetime.fromtimestamp(1415792726.123, UTC)
TO = datetime.fromtimestamp(1447328726.456, UTC)
RANGE = TimeRange(FROM, TO)


@pytest.mark.parametrize(
    ("sql", "expanded"),
    [
        ("$__timeFilter(t)", "t >= toDateTime(1415792726) AND t <= toDateTime(1447328726)"),
        (
            "$__timeFilter_ms(t)",
            "t >= fromUnixTimestamp64Milli(1415792726123) AND t <= fromUnixTimestamp64Milli(1447328726456)",
        ),
        ("$__dateFilter(d)", "d >= toDate('2014-11-12') AND d <= toDate('2015-11-12')"),
        ("$__fromTime, $__toTime", "toDateTime(1415792726), toDateTime(1447328726)"),
        ("$__fromTime_ms", "fromUnixTimestamp64Milli(1415792726123)"),
        ("$__toTime_ms", "fromUnixTimestamp64Milli(1447328726456)"),
        ("$__timeInterval(t)", "toStartOfInterval(toDateTime(t), INTERVAL 300 second)"),
        ("$__timeInterval_ms(t)", "toStartOfInterval(toDateTime64(t, 3), INTERVAL 300000 millisecond)"),
        ("$__interval_s", "300"),
    ],
)
def test_macros_expand_like_the_plugin(sql: str, expanded: str) -> None:
    assert render(sql, RANGE, {}, interval_s=300) == expanded


def test_time_range_in_another_zone_is_the_same_instant() -> None:
    cet = timezone(timedelta(hours=1))
    shifted = TimeRange(FROM.astimezone(cet), TO.astimezone(cet))
    assert render("$__timeFilter_ms(t)", shifted, {}) == render("$__timeFilter_ms(t)", RANGE, {})


def test_interval_is_at_least_one_second() -> None:
    assert render("$__interval_s", RANGE, {}, interval_s=0) == "1"


def test_variables_become_escaped_string_literals() -> None:
    sql = "SELECT 1 WHERE brand = ${brand:singlequote}"
    assert render(sql, RANGE, {"brand": "Veloxa"}) == "SELECT 1 WHERE brand = 'Veloxa'"
    assert render(sql, RANGE, {"brand": "O'Neil \\ Co"}) == "SELECT 1 WHERE brand = 'O\\'Neil \\\\ Co'"


@pytest.mark.parametrize("value", ["O'Neil", "a\\", "x' OR 1=1 --", "\\'; DROP TABLE t; --", "émoji 🚲"])
def test_a_quoted_value_is_one_literal_in_clickhouse(value: str) -> None:
    from pipeline.storage.sqltext import tokens

    literal = quote(value)
    assert [t.kind for t in tokens(literal)] == ["string"]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("brand = ${brand}", "singlequote"),
        ("brand = $brand", "singlequote"),
        ("brand = ${brand:csv}", "singlequote"),
        ("brand = ${other:singlequote}", "no value"),
        ("$__timeGroup(t, 1h)", "unsupported"),
        ("$__timeFilter(a, b)", "exactly one"),
        ("$__timeFilter", "exactly one"),
        ("$__interval_s(3)", "no argument"),
        ("SELECT '$__fromTime'", "inside a string"),
        ("SELECT 1 -- ${brand:singlequote}", "inside a string or comment"),
    ],
)
def test_unsupported_forms_are_refused(sql: str, message: str) -> None:
    with pytest.raises(MacroError, match=message):
        render(sql, RANGE, {"brand": "Veloxa"})


def test_dollars_inside_strings_without_macros_are_left_alone() -> None:
    assert render("SELECT 'costs $5' AS s", RANGE, {}) == "SELECT 'costs $5' AS s"


def test_variables_used() -> None:
    assert variables_used("a = ${brand:singlequote} AND b = $other AND $__timeFilter(t) AND c = '$x'") == {
        "brand",
        "other",
    }


@pytest.mark.parametrize("query", SQL_QUERIES, ids=lambda q: q.name)
def test_panel_queries_need_only_the_brand(query: object) -> None:
    from dashboards.panels import SqlPanelQuery

    assert isinstance(query, SqlPanelQuery)
    assert variables_used(query.sql) <= {"brand"}
    rendered = render(query.sql, RANGE, {"brand": "Veloxa"})
    assert "$" not in rendered


def test_time_range_must_be_aware_and_ordered() -> None:
    with pytest.raises(ValueError, match="aware"):
        TimeRange(datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="before"):
        TimeRange(TO, FROM)
