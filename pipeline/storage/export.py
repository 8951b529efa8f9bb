"""Query results → Parquet, typed from ClickHouse's own column types (``luister sql --format parquet``).

Why pyarrow from the result rows, and not ClickHouse's ``FORMAT Parquet``: the result is already bounded and
read-only-checked by ``run_readonly`` (a raw ``FORMAT`` query would need its own guard), it works the same through
the running worker's SQL endpoint, and ClickHouse writes ``Enum8`` columns (``sentiment``) as untyped byte arrays
where we want strings; pyarrow is a dependency already. Every type maps to its Arrow
counterpart (``DateTime64(3, 'UTC')`` → ``timestamp[ms, tz=UTC]``, ``Array(LowCardinality(String))`` →
``list<string>``, ``Nullable(X)`` → nullable X); a type without a mapping (``Map``, ``Tuple``, ``JSON``) is left to
pyarrow's inference, and written as text if even that fails.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"

_SIMPLE: dict[str, pa.DataType] = {
    "String": pa.string(),
    "UUID": pa.string(),
    "IPv4": pa.string(),
    "IPv6": pa.string(),
    "Bool": pa.bool_(),
    "Int8": pa.int8(),
    "Int16": pa.int16(),
    "Int32": pa.int32(),
    "Int64": pa.int64(),
    "UInt8": pa.uint8(),
    "UInt16": pa.uint16(),
    "UInt32": pa.uint32(),
    "UInt64": pa.uint64(),
    "Float32": pa.float32(),
    "Float64": pa.float64(),
    "Date": pa.date32(),
    "Date32": pa.date32(),
}
_WRAPPER = re.compile(r"^(\w+)\((.*)\)$", re.DOTALL)
_TIMEZONE = re.compile(r"'([^']*)'")


def arrow_type(clickhouse_type: str) -> pa.DataType | None:
    """The Arrow type for a ClickHouse type name, or None when pyarrow should infer it."""
    name = clickhouse_type.strip()
    if name in _SIMPLE:
        return _SIMPLE[name]
    wrapped = _WRAPPER.match(name)
    outer, inner = (wrapped.group(1), wrapped.group(2)) if wrapped else (name, "")
    if outer in ("Nullable", "LowCardinality"):
        return arrow_type(inner)
    if outer in ("Enum8", "Enum16", "FixedString"):
        return pa.string()
    if outer == "Array":
        item = arrow_type(inner)
        return None if item is None else pa.list_(item)
    if outer == "DateTime":
        zone = _TIMEZONE.search(inner)
        return pa.timestamp("s", tz=zone.group(1) if zone else "UTC")
    if outer == "DateTime64":
        precision = int(inner.split(",")[0])
        zone = _TIMEZONE.search(inner)
        unit = "s" if precision == 0 else "ms" if precision <= 3 else "us" if precision <= 6 else "ns"
        return pa.timestamp(unit, tz=zone.group(1) if zone else "UTC")
    if outer == "Decimal":
        precision, scale = (int(part) for part in inner.split(","))
        return pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)
    if name == "DateTime":
        return pa.timestamp("s", tz="UTC")
    return None


def arrow_table(columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]) -> pa.Table:
    """The result as an Arrow table, one column per result column, typed by ``types`` (ClickHouse names)."""
    if len(columns) != len(types):
        raise ValueError(f"{len(columns)} columns but {len(types)} types")
    arrays = []
    for index, type_name in enumerate(types):
        values = [row[index] for row in rows]
        arrays.append(_array(values, arrow_type(type_name)))
    return pa.table(arrays, names=list(columns))


def parquet_bytes(columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """The result as a Parquet file (zstd-compressed), ready to write to disk or send."""
    sink = io.BytesIO()
    pq.write_table(arrow_table(columns, types, rows), sink, compression="zstd")
    return sink.getvalue()


def _array(values: list[Any], type_: pa.DataType | None) -> pa.Array:
    if type_ is not None:
        return pa.array(values, type=type_)
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())
