from __future__ import annotations

import pytest

from pipeline.wall.cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_values_expire_after_the_ttl() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(5.0, clock=clock)
    cache.put("a", 1)
    clock.now += 4.9
    assert cache.get("a") == 1
    clock.now += 0.1
    assert cache.get("a") is None
    assert cache.get("missing") is None


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: TtlCache[str, int] = TtlCache(60.0, max_entries=2, clock=Clock())
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        TtlCache(-1.0)
    with pytest.raises(ValueError):
        TtlCache(1.0, max_entries=0)
