"""`luister sql --format parquet` through a running worker's SQL endpoint (the embedded engine belongs to it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from harness import make_mentions, produce_mentions, wait_for

from pipeline.broker import EmbeddedBroker
from pipeline.cli import main

QUERY = "SELECT id, created_at, sentiment, topics, author_followers FROM mentions_v ORDER BY id"


def test_parquet_export_through_the_running_worker(
    broker: EmbeddedBroker, new_worker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = new_worker()
    produce_mentions(broker.bootstrap_servers, make_mentions(50))
    wait_for(lambda: int(worker.sql("SELECT count() FROM mentions_v")[0][0]) == 50, 90, "50 mentions queryable")

    monkeypatch.delenv("CLICKHOUSE_URL", raising=False)
    data = ["--data-dir", worker.env["LUISTER_DATA_DIR"]]  # where the worker announces its address
    out = tmp_path / "mentions.parquet"
    result = CliRunner().invoke(main, ["sql", *data, "--format", "parquet", "--output", str(out), QUERY])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.num_rows == 50
    assert table.schema.field("created_at").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.field("sentiment").type == pa.string()
    assert table.schema.field("topics").type == pa.list_(pa.string())
    assert table.column("id").to_pylist() == [row[0] for row in worker.sql(QUERY)]

    typed = httpx.post(f"{worker.url}/sql", content=QUERY.encode(), timeout=30).json()
    assert typed["types"][1] == "DateTime64(3, 'UTC')" and typed["truncated"] is False
    refused = httpx.post(f"{worker.url}/sql", params={"format": "xml"}, content=b"SELECT 1", timeout=30)
    assert refused.status_code == 400
    bad = CliRunner().invoke(main, ["sql", *data, "--format", "parquet", "-o", str(out), "DROP TABLE mentions"])
    assert bad.exit_code == 1 and "only" in bad.output
