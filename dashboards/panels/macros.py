"""Grafana-form panel SQL → plain ClickHouse SQL, expanded exactly as Grafana's ClickHouse plugin does.

The panel SQL is written once, with the plugin's macros and Grafana variables, and runs in two places: in Grafana
(the plugin expands it) and through luister's own read-only SQL endpoint (the wall page, the tests: :func:`render`
expands it). The expansions below are those of the plugin's backend (``pkg/macros/macros.go`` in
grafana/clickhouse-datasource, v4):

=================================  =====================================================================
``$__timeFilter(c)``               ``c >= toDateTime(FROM_S) AND c <= toDateTime(TO_S)``
``$__timeFilter_ms(c)``            ``c >= fromUnixTimestamp64Milli(FROM_MS) AND c <= fromUnixTimestamp64Milli(TO_MS)``
``$__fromTime`` / ``$__toTime``    ``toDateTime(FROM_S)`` / ``toDateTime(TO_S)``
``$__fromTime_ms`` / ``_ms``       ``fromUnixTimestamp64Milli(FROM_MS)`` / ``(TO_MS)``
``$__timeInterval(c)``             ``toStartOfInterval(toDateTime(c), INTERVAL N second)``
``$__interval_s``                  ``N`` (Grafana's interval in seconds, at least 1)
=================================  =====================================================================

Variables are accepted only as ``${name:singlequote}`` (Grafana quotes the value and escapes ``'``): without a
format the plugin pastes a value raw into the SQL. :func:`render` writes a ClickHouse string literal that also
escapes backslashes, so a value renders safely here even where Grafana's ``singlequote`` would not (a brand name
with a backslash). Grafana also expands inside string literals and comments; panel SQL must not put a macro or
variable there (``render`` refuses it), so both expansions agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipeline.storage.sqltext import tokens

_MACRO = re.compile(r"\$__(\w+)(?:\(([^()]*)\))?")
_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")
_WITH_ARGUMENT = frozenset({"timeFilter", "timeFilter_ms", "timeInterval", "timeInterval_ms", "dateFilter"})
_WITHOUT_ARGUMENT = frozenset({"fromTime", "toTime", "fromTime_ms", "toTime_ms", "interval_s"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MacroError(ValueError):
    """The SQL uses a macro or variable form that :func:`render` (and this project) does not support."""


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Grafana's time range: both ends included, as the plugin's filters include them."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.utcoffset() is None or self.end.utcoffset() is None:
            raise ValueError("time range ends must be timezone-aware")
        if self.end < self.start:
            raise ValueError("time range ends before it starts")


def render(sql: str, time_range: TimeRange, variables: Mapping[str, str], interval_s: int = 60) -> str:
    """``sql`` with every macro and ``${name:singlequote}`` variable replaced; ``MacroError`` for anything else."""
    out: list[str] = []
    code: list[str] = []
    for token in tokens(sql):
        if token.kind in ("string", "comment"):
            if "$__" in token.text or "${" in token.text:
                raise MacroError(f"macro or variable inside a string or comment: {token.text[:60]!r}")
            out.append(_expand("".join(code), time_range, variables, interval_s))
            code = []
            out.append(token.text)
        else:
            code.append(token.text)
    out.append(_expand("".join(code), time_range, variables, interval_s))
    return "".join(out)


def variables_used(sql: str) -> set[str]:
    """Names of the dashboard variables ``sql`` refers to (outside strings and comments)."""
    code = "".join(t.text for t in tokens(sql) if t.kind not in ("string", "comment"))
    names = {match.group(1) or match.group(3) for match in _VARIABLE.finditer(code)}
    return {name for name in names if not name.startswith("__")}


def quote(value: str) -> str:
    """A ClickHouse string literal holding ``value``."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _expand(code: str, time_range: TimeRange, variables: Mapping[str, str], interval_s: int) -> str:
    if "$" not in code:
        return code
    start, end = time_range.start.astimezone(UTC), time_range.end.astimezone(UTC)
    seconds = max(int(interval_s), 1)

    def macro(match: re.Match[str]) -> str:
        name, argument = match.group(1), match.group(2)
        if name in _WITH_ARGUMENT:
            if argument is None or not argument.strip() or "," in argument:
                raise MacroError(f"$__{name} takes exactly one column")
            column = argument.strip()
            if name == "timeFilter":
                return f"{column} >= {_seconds(start)} AND {column} <= {_seconds(end)}"
            if name == "timeFilter_ms":
                return f"{column} >= {_millis(start)} AND {column} <= {_millis(end)}"
            if name == "dateFilter":
                return f"{column} >= {_date(start)} AND {column} <= {_date(end)}"
            if name == "timeInterval":
                return f"toStartOfInterval(toDateTime({column}), INTERVAL {seconds} second)"
            return f"toStartOfInterval(toDateTime64({column}, 3), INTERVAL {seconds * 1000} millisecond)"
        if name in _WITHOUT_ARGUMENT:
            if argument is not None:
                raise MacroError(f"$__{name} takes no argument")
            return {
                "fromTime": _seconds(start),
                "toTime": _seconds(end),
                "fromTime_ms": _millis(start),
                "toTime_ms": _millis(end),
                "interval_s": str(seconds),
            }[name]
        raise MacroError(f"unsupported macro $__{name}")

    expanded = _MACRO.sub(macro, code)

    def variable(match: re.Match[str]) -> str:
        name, fmt = match.group(1) or match.group(3), match.group(2)
        if fmt != "singlequote":
            raise MacroError(
                f"variable {match.group(0)}: write ${{{name}:singlequote}} (a raw value is pasted unquoted)"
            )
        if name not in variables:
            raise MacroError(f"no value for variable {name!r}")
        return quote(variables[name])

    return _VARIABLE.sub(variable, expanded)


def _seconds(at: datetime) -> str:
    return f"toDateTime({(at - _EPOCH) // timedelta(seconds=1)})"


def _millis(at: datetime) -> str:
    return f"fromUnixTimestamp64Milli({(at - _EPOCH) // timedelta(milliseconds=1)})"


def _date(at: datetime) -> str:
    return f"toDate('{at:%Y-%m-%d}')"
