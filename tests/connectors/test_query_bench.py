"""benchmarks/bench_queries.py runs and reports what it promises (a small run; the real one is make bench-queries)."""

from __future__ import annotations

import json
import sys

import pytest

from benchmarks import bench_queries


def test_bench_queries_reports_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["bench_queries", "--mentions", "1500", "--queries", "50", "--repeat", "1"])
    bench_queries.main()
    result = json.loads(capsys.readouterr().out)
    assert result["mentions"] == 1500
    assert result["queries"] == 50
    assert result["mentions_per_s"] == pytest.approx(1500 / result["seconds"], rel=0.01)
    assert 0.5 < result["matched_share"] <= 1.0
