"""The multi-signal detector: determinism, replay after a restart, early alerts, and each signal end to end."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import numpy as np
from detect_helpers import FAST, INTERVAL, Topics, at, bucket, post, traffic

from pipeline.detect.buckets import Bucket, PlatformCounts
from pipeline.detect.detector import Detector
from pipeline.incidents import IncidentEvent

DAYS = 3
N = DAYS * 144


def with_crisis(buckets: list[Bucket], first: int, length: int, extra: int) -> list[Bucket]:
    out = list(buckets)
    for i in range(first, first + length):
        b = out[i]
        out[i] = dataclasses.replace(b, mentions=b.mentions + extra, negative=b.negative + extra, negative_posts=())
    return out


def run(buckets: list[Bucket]) -> list[IncidentEvent]:
    detector = Detector(INTERVAL, FAST)
    return [e for b in buckets for e in detector.observe(b)]


def opened(events: list[IncidentEvent]) -> set[str]:
    return {e.signal for e in events if e.stage == "opened"}


def test_same_input_same_events() -> None:
    data = with_crisis(traffic(np.random.default_rng(1), N, posts=False), 300, 4, 200)
    first, second = run(data), run(data)
    assert first == second and "negative_volume" in opened(first)


def test_replay_after_a_restart_then_continue_emits_exactly_the_uninterrupted_events() -> None:
    data = traffic(np.random.default_rng(2), N, posts=False)
    data = with_crisis(with_crisis(data, 250, 6, 150), 380, 6, 150)
    uninterrupted = run(data)
    crash = 253  # in the middle of the first incident
    before = Detector(INTERVAL, FAST)
    sent = [e for b in data[:crash] for e in before.observe(b)]
    restarted = Detector(INTERVAL, FAST)  # the worker comes back: rebuild from history, then go on
    replayed = restarted.replay(data[:crash])
    assert replayed == sent  # same ids and content: delivery drops them all
    after = [e for b in data[crash:] for e in restarted.observe(b)]
    assert sent + after == uninterrupted
    assert any(e.stage == "escalated" or e.stage == "resolved" for e in after)  # the open incident carried on


def test_a_snapshot_plus_a_bounded_replay_equals_the_uninterrupted_run() -> None:
    rng = np.random.default_rng(10)
    data = traffic(rng, N, rate=10.0, share=0.2)
    topics = Topics(rng)
    new = topics.centre()
    for j, i in enumerate(range(330, 336)):
        b = data[i]
        extra = tuple(post(70_000 + 10 * j + k, f"brake failure {k}", topics.near(new), at(i)) for k in range(3))
        data[i] = dataclasses.replace(b, negative_posts=b.negative_posts + extra)
    data = with_crisis(data, 300, 4, 120)
    uninterrupted = run(data)
    assert {"theme", "negative_volume"} <= opened(uninterrupted)
    live = Detector(INTERVAL, FAST)
    events = [e for b in data[:320] for e in live.observe(b)]
    snapshot = json.loads(json.dumps(live.to_state()))  # taken at bucket 320, stored somewhere durable
    tail = [e for b in data[320:337] for e in live.observe(b)]  # ... then the worker dies at 337
    assert any(e.signal == "theme" for e in tail)  # an incident open at the crash
    restored = Detector.from_state(snapshot, FAST)
    assert restored.replay(data[320:337]) == tail  # re-derived with the ids already delivered
    events += tail + [e for b in data[337:] for e in restored.observe(b)]
    assert events == uninterrupted


def test_a_still_filling_bucket_alerts_early_without_changing_what_follows() -> None:
    data = with_crisis(traffic(np.random.default_rng(3), N, posts=False), 300, 4, 300)
    live = Detector(INTERVAL, FAST)
    live_events: list[IncidentEvent] = []
    for i, b in enumerate(data):
        if i == 300:  # the crisis bucket, seen while it fills
            for part in (0.1, 0.3, 0.6):
                partial = dataclasses.replace(b, mentions=int(b.mentions * part), negative=int(b.negative * part))
                live_events += live.peek(partial, at(i) + timedelta(seconds=part * INTERVAL))
        live_events += live.observe(b)
    replayed = run(data)
    early = [e for e in live_events if e.stage == "opened" and e.at < at(301)]
    assert early and all(e.at < at(301) for e in early)
    # no double count, the same ids (early openings come in the order the partial counts crossed the bar)
    assert sorted(e.event_id for e in live_events) == sorted(e.event_id for e in replayed)
    assert len([e for e in live_events if e.stage == "opened"]) == len(set(e.incident_id for e in live_events))


def test_negative_share_rises_without_a_volume_change() -> None:
    data = traffic(np.random.default_rng(4), N, rate=60.0, share=0.1, posts=False)
    for i in range(300, 306):
        b = data[i]
        data[i] = dataclasses.replace(b, negative=int(b.mentions * 0.6))
    events = run(data)
    share = [e for e in events if e.signal == "negative_share" and e.stage == "opened"]
    assert share and "negative share" in share[0].summary and "baseline" in share[0].summary
    assert "volume" not in opened(events)


def test_one_high_reach_negative_post_raises_reach_negativity() -> None:
    data = traffic(np.random.default_rng(5), N, posts=False)
    b = data[320]
    data[320] = dataclasses.replace(b, negative=b.negative + 1, mentions=b.mentions + 1, negative_reach=5e6)
    events = run(data)
    assert "reach_negativity" in opened(events)
    assert opened(events) <= {"reach_negativity", "negative_volume"}


def test_a_copy_paste_flood_raises_near_duplicates() -> None:
    rng = np.random.default_rng(6)
    data = traffic(rng, N, rate=10.0, share=0.2)
    topics = Topics(rng)
    flood = tuple(
        post(90_000 + k, f"veloxa stole my money, do not buy #{k % 3} scam alert", topics.centre(), at(330))
        for k in range(25)
    )
    b = data[330]
    data[330] = dataclasses.replace(
        b, mentions=b.mentions + 25, negative=b.negative + 25, negative_posts=b.negative_posts + flood
    )
    events = run(data)
    dups = [e for e in events if e.signal == "near_duplicates" and e.stage == "opened"]
    assert dups and dups[0].observed >= 20


def test_a_new_cluster_of_similar_negative_posts_is_a_theme_and_a_standing_one_is_not() -> None:
    rng = np.random.default_rng(7)
    data = traffic(rng, N, rate=10.0, share=0.2)
    topics = Topics(rng)
    new = topics.centre()
    for j, i in enumerate(range(330, 336)):  # an hour: 3 posts per bucket about a new problem
        b = data[i]
        extra = tuple(
            post(50_000 + 10 * j + k, f"battery fire recall {k} charger melted", topics.near(new), at(i), 100 + k)
            for k in range(3)
        )
        data[i] = dataclasses.replace(b, negative_posts=b.negative_posts + extra)
    events = run(data)
    themes = [e for e in events if e.signal == "theme"]
    assert themes and themes[0].stage == "opened"
    assert {"battery", "fire", "recall"} <= set(themes[0].terms)
    assert themes[0].top_posts and all("battery" in p.text for p in themes[0].top_posts)
    assert len({e.incident_id for e in themes}) == 1
    # the same number of extra posts on a topic that existed in the baseline period raises no theme
    plain = traffic(np.random.default_rng(7), N, rate=10.0, share=0.2)
    assert not [e for e in run(plain) if e.signal == "theme"]


def test_a_platform_with_enough_volume_alerts_on_its_own() -> None:
    rng = np.random.default_rng(8)
    data = traffic(rng, N, rate=40.0, posts=False)
    out = []
    for i, b in enumerate(data):
        x_count = b.mentions // 2
        extra = 60 if 300 <= i < 304 else 0
        platforms = {
            "x": PlatformCounts(x_count, b.negative // 2),
            "forum": PlatformCounts(b.mentions - x_count + extra, b.negative - b.negative // 2 + extra),
        }
        out.append(
            dataclasses.replace(b, mentions=b.mentions + extra, negative=b.negative + extra, platforms=platforms)
        )
    events = run(out)
    assert any(e.platform == "forum" and e.stage == "opened" for e in events)
    assert not any(e.platform == "x" for e in events)


def test_brands_are_independent() -> None:
    rng = np.random.default_rng(9)
    a = with_crisis(traffic(rng, N, posts=False), 300, 3, 200)
    b = [dataclasses.replace(x, brand="other") for x in traffic(rng, N, posts=False)]
    detector = Detector(INTERVAL, FAST)
    events = [e for pair in zip(a, b, strict=True) for x in pair for e in detector.observe(x)]
    assert {e.brand for e in events} == {"acme"}


def test_buckets_must_be_in_order() -> None:
    detector = Detector(INTERVAL, FAST)
    detector.observe(bucket(1, 3, 1))
    try:
        detector.observe(bucket(1, 3, 1))
    except ValueError:
        return
    raise AssertionError("a repeated bucket was accepted")


def test_counts_only_history_teaches_themes_nothing_so_they_wait_for_their_own_baseline() -> None:
    """A replay from the rollups (or a seeded past) has counts but no posts: the first hour of posts after it is
    all "new" to the theme tracker, which must therefore not alert until it has seen a baseline period itself."""
    rng = np.random.default_rng(7)
    data = traffic(rng, N, rate=10.0, share=0.2)
    topics = Topics(rng)
    new = topics.centre()
    data = [dataclasses.replace(b, negative_posts=()) if i < 330 else b for i, b in enumerate(data)]
    for j, i in enumerate(range(330, 336)):
        b = data[i]
        extra = tuple(
            post(50_000 + 10 * j + k, f"battery fire recall {k} charger melted", topics.near(new), at(i), 100 + k)
            for k in range(3)
        )
        data[i] = dataclasses.replace(b, negative_posts=b.negative_posts + extra)
    assert not [e for e in run(data) if e.signal == "theme"]
