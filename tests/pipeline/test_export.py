"""Parquet export (``luister sql --format parquet``): ClickHouse types → Arrow types, and the file written from
the embedded engine over the demo data set, compared with the same query's rows."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from clickhouse_connect.driver.client import Client
from demo_dataset import DemoDataset, demo_database

from pipeline.cli import main
from pipeline.storage import run_readonly
from pipeline.storage.export import arrow_table, arrow_type, parquet_bytes


@pytest.mark.parametrize(
    ("clickhouse", "arrow"),
    [
        ("String", pa.string()),
        ("LowCardinality(String)", pa.string()),
        ("LowCardinality(Nullable(String))", pa.string()),
        ("Nullable(UInt64)", pa.uint64()),
        ("Enum8('negative' = -1, 'neutral' = 0, 'positive' = 1)", pa.string()),
        ("Bool", pa.bool_()),
        ("Float32", pa.float32()),
        ("DateTime('UTC')", pa.timestamp("s", tz="UTC")),
        ("DateTime", pa.timestamp("s", tz="UTC")),
        ("DateTime64(3, 'UTC')", pa.timestamp("ms", tz="UTC")),
        ("DateTime64(6, 'Europe/Amsterdam')", pa.timestamp("us", tz="Europe/Amsterdam")),
        ("DateTime64(9)", pa.timestamp("ns", tz="UTC")),
        ("Date", pa.date32()),
        ("Array(LowCardinality(String))", pa.list_(pa.string())),
        ("Array(Array(Float32))", pa.list_(pa.list_(pa.float32()))),
        ("Decimal(10, 2)", pa.decimal128(10, 2)),
        ("FixedString(4)", pa.string()),
        ("Map(String, UInt64)", None),
        ("Tuple(a String, b UInt8)", None),
        ("Array(Map(String, String))", None),
    ],
)
def test_clickhouse_types_map_to_arrow(clickhouse: str, arrow: pa.DataType | None) -> None:
    assert arrow_type(clickhouse) == arrow


def test_unmapped_types_are_inferred_or_written_as_text() -> None:
    table = arrow_table(
        ["m", "odd", "d", "money"],
        ["Map(String, UInt64)", "Variant(String, UInt8)", "Date", "Decimal(10, 2)"],
        [[{"a": 1}, "x", date(2026, 1, 2), Decimal("1.25")], [{"b": 2}, 3, None, None]],
    )
    assert table.column("odd").to_pylist() == ["x", "3"]
    assert table.column("d").to_pylist() == [date(2026, 1, 2), None]
    assert table.column("money").type == pa.decimal128(10, 2)


def test_parquet_bytes_round_trip() -> None:
    at = datetime(2026, 11, 1, 12, 0, 0, 123000, tzinfo=UTC)
    data = parquet_bytes(
        ["created_at", "sentiment", "topics", "followers"],
        [
            "DateTime64(3, 'UTC')",
            "Enum8('negative' = -1, 'neutral' = 0, 'positive' = 1)",
            "Array(String)",
            "Nullable(UInt64)",
        ],
        [[at, "negative", ["delivery"], None], [at, "positive", [], 7]],
    )
    table = pq.read_table(io.BytesIO(data))
    assert table.to_pylist() == [
        {"created_at": at, "sentiment": "negative", "topics": ["delivery"], "followers": None},
        {"created_at": at, "sentiment": "positive", "topics": [], "followers": 7},
    ]


def test_mismatched_types_are_refused() -> None:
    with pytest.raises(ValueError, match="2 columns but 1 types"):
        arrow_table(["a", "b"], ["String"], [])


# ---------------------------------------------------------------- the command, on the embedded engine

QUERY = """
SELECT id, created_at, platform, sentiment, topics, author_followers, brands.brand, p_negative, author_is_brand
FROM mentions_v
WHERE created_at >= now() - INTERVAL 1 DAY
ORDER BY created_at, id
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Client, DemoDataset]]:
    data_dir = tmp_path_factory.mktemp("export-data")
    with demo_database(data_dir) as (client, data):
        yield data_dir, client, data


def test_sql_parquet_writes_the_query_result_with_its_types(
    demo: tuple[Path, Client, DemoDataset], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, client, _ = demo
    monkeypatch.delenv("CLICKHOUSE_URL", raising=False)
    out = tmp_path / "day.parquet"
    result = CliRunner().invoke(
        main, ["sql", "--data-dir", str(data_dir), "--format", "parquet", "--output", str(out), QUERY]
    )
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    expected = run_readonly(client, QUERY, database="luister")
    assert not expected.truncated
    assert table.column_names == list(expected.columns)
    assert table.num_rows == len(expected.rows) > 1000
    schema = {field.name: field.type for field in table.schema}
    assert schema["created_at"] == pa.timestamp("ms", tz="UTC")
    assert schema["sentiment"] == pa.string()
    assert schema["topics"] == pa.list_(pa.string())
    assert schema["brands.brand"] == pa.list_(pa.string())
    assert schema["author_followers"] == pa.uint64()
    assert schema["author_is_brand"] == pa.bool_()
    assert [tuple(row.values()) for row in table.to_pylist()] == [
        tuple(pytest.approx(v) if isinstance(v, float) else v for v in row) for row in expected.rows
    ]
    assert table.column("author_followers").null_count > 0  # review sites report no followers: NULL, not 0
    assert set(table.column("sentiment").to_pylist()) == {"negative", "neutral", "positive"}


def test_sql_parquet_needs_an_output_file(demo: tuple[Path, Client, DemoDataset]) -> None:
    result = CliRunner().invoke(main, ["sql", "--data-dir", str(demo[0]), "--format", "parquet", "SELECT 1"])
    assert result.exit_code == 2
    assert "--output" in result.output


def test_sql_csv_to_a_file_and_the_row_limit_note(
    demo: tuple[Path, Client, DemoDataset], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLICKHOUSE_URL", raising=False)
    out = tmp_path / "all.csv"
    result = CliRunner().invoke(
        main, ["sql", "--data-dir", str(demo[0]), "--format", "csv", "-o", str(out), "SELECT id FROM mentions_v"]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "id" and len(lines) == 10_001
    assert "cut at the row limit" in result.output
