"""One count channel: causality, warm-up, gaps, low volume, partial buckets, state."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from detect_helpers import FAST, INTERVAL, START, seasonal_counts
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.detect.channel import Assessment, CountChannel
from pipeline.detect.config import DAY, DEFAULT_CONFIG, MINUTE

T0 = START.timestamp()


def run(counts: list[int], skip: frozenset[int] = frozenset()) -> tuple[CountChannel, list[Assessment]]:
    channel = CountChannel(INTERVAL, FAST)
    out = [channel.observe(T0 + i * INTERVAL, c) for i, c in enumerate(counts) if i not in skip]
    return channel, out


def warm_buckets() -> int:
    return int(FAST.warmup_s / INTERVAL)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), cut=st.integers(150, 400), burst=st.integers(0, 500))
def test_future_buckets_never_change_past_assessments(seed: int, cut: int, burst: int) -> None:
    counts = seasonal_counts(np.random.default_rng(seed), 450, 20.0)
    counts[cut + 10] += burst  # whatever comes later
    _, head = run(counts[:cut])
    _, whole = run(counts)
    assert whole[:cut] == head


def test_no_alert_before_the_warm_up_even_for_a_huge_burst() -> None:
    counts = seasonal_counts(np.random.default_rng(1), 400, 20.0)
    for i in range(20, warm_buckets() - 2, 20):
        counts[i] += 2_000
    _, out = run(counts)
    assert not any(a.anomalous for a in out[: warm_buckets() - 1])
    assert max(a.score for a in out[: warm_buckets() - 1]) >= 0.5  # it would have, were it warm


def test_a_burst_after_warm_up_alerts_and_normal_traffic_does_not() -> None:
    counts = seasonal_counts(np.random.default_rng(2), 3 * 144, 30.0)
    _, quiet = run(counts)
    assert not any(a.anomalous for a in quiet)
    counts[300:306] = [c + 400 for c in counts[300:306]]
    _, loud = run(counts)
    assert [a.anomalous for a in loud[:300]] == [a.anomalous for a in quiet[:300]]
    assert any(a.anomalous for a in loud[300:306])


def test_missing_buckets_are_no_data_and_do_not_alert_when_data_resumes() -> None:
    counts = seasonal_counts(np.random.default_rng(3), 3 * 144, 30.0)
    gap = frozenset(range(200, 260))  # ten hours without data
    channel, out = run(counts, skip=gap)
    assert len(out) == len(counts) - len(gap)
    assert channel.baseline.seen == len(out)
    assert not any(a.anomalous for a in out)
    # after the gap, windows only sum the buckets that exist: a burst right after it is still seen
    counts[260] += 500
    _, loud = run(counts, skip=gap)
    assert loud[200].start == T0 + 260 * INTERVAL and loud[200].anomalous


def test_a_low_volume_brand_stays_quiet_then_sees_a_real_burst() -> None:
    rng = np.random.default_rng(4)
    counts = seasonal_counts(rng, 6 * 144, 0.05)  # about seven mentions a day
    _, quiet = run(counts)
    assert not any(a.anomalous for a in quiet)
    counts[700] += 3  # three extra mentions are not a crisis ...
    _, small = run(counts)
    assert not small[700].anomalous
    counts[701:704] = [c + 12 for c in counts[701:704]]  # ... three dozen in half an hour are
    _, big = run(counts)
    assert any(a.anomalous for a in big[701:704])


def test_partial_bucket_alerts_early_and_the_completed_bucket_is_learned_once() -> None:
    counts = seasonal_counts(np.random.default_rng(5), 300, 20.0)
    peeked, plain = CountChannel(INTERVAL, FAST), CountChannel(INTERVAL, FAST)
    burst_at = 250
    early = None
    for i, c in enumerate(counts):
        t = T0 + i * INTERVAL
        final = c + (300 if i == burst_at else 0)
        if i == burst_at:
            for so_far in range(0, final + 1, 25):  # the bucket filling up
                a = peeked.assess(t, so_far)
                if a.anomalous:
                    early = so_far
                    break
        assert peeked.observe(t, final) == plain.observe(t, final)
    assert early is not None and early < counts[burst_at] + 300  # alerted before the bucket was full
    assert json.dumps(peeked.to_state()) == json.dumps(plain.to_state())  # peeking learned nothing


def test_partial_scores_never_exceed_the_completed_bucket() -> None:
    counts = seasonal_counts(np.random.default_rng(6), 250, 10.0)
    channel, _ = run(counts)
    t = T0 + 250 * INTERVAL
    scores = [channel.assess(t, n).score for n in range(0, 400, 7)]
    assert scores == sorted(scores)


def test_state_round_trips_through_json() -> None:
    counts = seasonal_counts(np.random.default_rng(7), 400, 15.0)
    channel, _ = run(counts[:300])
    copy = CountChannel(INTERVAL, FAST)
    copy.load_state(json.loads(json.dumps(channel.to_state())))
    for i in range(300, 400):
        t = T0 + i * INTERVAL
        assert copy.observe(t, counts[i]) == channel.observe(t, counts[i])


def test_buckets_out_of_order_are_refused() -> None:
    channel = CountChannel(INTERVAL, FAST)
    channel.observe(T0, 3)
    try:
        channel.observe(T0, 4)
    except ValueError:
        return
    raise AssertionError("a repeated bucket was accepted")


def test_weekly_profile_learns_a_quiet_weekend() -> None:
    rng = np.random.default_rng(8)
    days = 21
    counts = seasonal_counts(rng, days * 144, 40.0)
    for d in range(days):
        if d % 7 in (5, 6):  # START is a Monday
            for i in range(d * 144, (d + 1) * 144):
                counts[i] = int(counts[i] * 0.4)
    channel, _ = run(counts)
    weekday = channel.baseline.expected(T0 + 21 * DAY + 14 * 3600)  # a Monday afternoon
    weekend = channel.baseline.expected(T0 + 26 * DAY + 14 * 3600)  # a Saturday afternoon
    assert weekend < 0.7 * weekday


def test_the_tests_run_from_the_bucket_to_four_hour_blocks_at_any_interval() -> None:
    # burst, then 4 blocks each of 1 min, 5 min, 15 min and 1 h, in buckets of the series' interval
    assert DEFAULT_CONFIG.tests(60.0) == ((1, 1), (1, 4), (5, 4), (15, 4), (60, 4))
    assert DEFAULT_CONFIG.tests(300.0) == ((1, 1), (1, 4), (3, 4), (12, 4))


def test_state_of_another_test_layout_is_refused() -> None:
    counts = seasonal_counts(np.random.default_rng(9), 200, 15.0)
    channel, _ = run(counts)
    short = CountChannel(INTERVAL, dataclasses.replace(FAST, persistence_block_s=(MINUTE, 5 * MINUTE)))
    with pytest.raises(ValueError, match="replay instead"):
        short.load_state(channel.to_state())
