"""The detector's benchmarks run and report what they promise (small runs; the real ones are make targets)."""

from __future__ import annotations

import pytest

from benchmarks import bench_false_alarms
from pipeline.detect.config import DEFAULT_CONFIG


@pytest.mark.slow
def test_false_alarm_bench_attributes_incidents_to_the_injected_events() -> None:
    result = bench_false_alarms.run(brands=1, days=5, warmup_days=3, seed=7, per_brand=3, config=DEFAULT_CONFIG)
    assert result["brand_days_measured"] == 2
    assert isinstance(result["recall_all"], float) and result["recall_all"] > 0.5
    delays = result["minutes_to_detect"]
    assert isinstance(delays, dict)
    assert all(0 <= d["median"] <= 45 for d in delays.values() if d)  # inside the event, never before it
