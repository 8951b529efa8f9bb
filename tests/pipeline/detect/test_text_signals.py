"""Near-duplicate fingerprints and characterising terms."""

from __future__ import annotations

import os
import subprocess
import sys

from pipeline.detect.simhash import NearDuplicateIndex, distance, simhash
from pipeline.detect.summaries import wilson_interval
from pipeline.detect.terms import TermCounts, characterising_terms


def test_simhash_is_stable_and_close_for_near_copies() -> None:
    a = simhash("My Veloxa order never arrived, three weeks now. Terrible service #veloxa")
    b = simhash("my veloxa order never arrived, three weeks now!! terrible service #veloxa https://t.co/x1")
    c = simhash("The battery of my new e-bike died after two days, never buying again")
    assert a == simhash("My Veloxa order never arrived, three weeks now. Terrible service #veloxa")
    assert distance(a, b) <= 3 < distance(a, c)


def test_simhash_is_the_same_in_another_process() -> None:
    """blake2b, not Python's per-process randomised hash(): a restarted worker fingerprints alike."""
    text = "My Veloxa order never arrived"
    code = f"from pipeline.detect.simhash import simhash; print(simhash({text!r}))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert int(other.stdout) == simhash(text)


def test_index_finds_near_duplicates_within_the_window_only() -> None:
    index = NearDuplicateIndex(window_s=900)
    first = simhash("do not buy from veloxa, they stole my money")
    assert not index.add(0.0, first)
    assert index.add(60.0, simhash("do not buy from veloxa they stole my money!!"))
    assert not index.add(120.0, simhash("lovely ride along the canal today"))
    assert not index.add(2_000.0, first)  # the earlier copies have left the window
    state = index.to_state()
    copy = NearDuplicateIndex(window_s=900)
    copy.load_state(state)
    assert copy.add(2_100.0, first) and index.add(2_100.0, first)


def test_terms_rank_what_is_specific_to_the_cluster() -> None:
    background, cluster = TermCounts(), TermCounts()
    for _ in range(50):
        background.add("the delivery was late again and support did not answer")
    for text in ("battery caught fire while charging", "charger melted, battery fire", "fire in the battery"):
        cluster.add(text)
        background.add(text)
    terms = characterising_terms(cluster, background, classes=5, top=3)
    assert terms[:2] == ["battery", "fire"] and "the" not in terms


def test_wilson_interval_respects_small_counts() -> None:
    low, high = wilson_interval(2, 3)
    assert 0.0 < low < 2 / 3 < high < 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 10)[0] == 0.0
