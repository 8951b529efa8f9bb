"""Sums of observed and expected counts over the recent past, by time slot, in O(log n) per query.

Prefix sums indexed by bucket slot (``round(start / interval)``) for the last ``span`` slots. A missing bucket is a
slot that adds nothing (no data: neither observed nor expected), so window sums stay comparable across gaps.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any


class PrefixSums:
    def __init__(self, span: int) -> None:
        self.span = span
        self.slots: list[int] = []  # ascending
        self.cum_obs: list[float] = []  # cumulative sums through each slot
        self.cum_exp: list[float] = []
        self.base = (0.0, 0.0)  # cumulative sums before the oldest slot kept

    def _through(self, slot: int) -> tuple[float, float]:
        i = bisect_right(self.slots, slot) - 1
        if i < 0:
            return self.base
        return self.cum_obs[i], self.cum_exp[i]

    def window(self, first: int, last: int, new_slot: int, new_obs: float, new_exp: float) -> tuple[float, float]:
        """(observed, expected) over slots ``first..last``, counting a bucket at ``new_slot`` (newer than every slot
        kept, not appended) with the values given. ``first`` must be within ``span`` slots of ``new_slot``."""
        hi_obs, hi_exp = self._through(last)
        if first <= new_slot <= last:
            hi_obs += new_obs
            hi_exp += new_exp
        lo_obs, lo_exp = self._through(first - 1)
        return hi_obs - lo_obs, hi_exp - lo_exp

    def append(self, slot: int, obs: float, exp: float) -> None:
        total_obs, total_exp = (self.cum_obs[-1], self.cum_exp[-1]) if self.slots else self.base
        self.slots.append(slot)
        self.cum_obs.append(total_obs + obs)
        self.cum_exp.append(total_exp + exp)
        drop = 0
        while drop < len(self.slots) and self.slots[drop] <= slot - self.span:
            drop += 1
        if drop:
            self.base = (self.cum_obs[drop - 1], self.cum_exp[drop - 1])
            del self.slots[:drop], self.cum_obs[:drop], self.cum_exp[:drop]

    def to_state(self) -> dict[str, Any]:
        return {"slots": self.slots, "obs": self.cum_obs, "exp": self.cum_exp, "base": list(self.base)}

    def load_state(self, state: dict[str, Any]) -> None:
        self.slots, self.cum_obs, self.cum_exp = list(state["slots"]), list(state["obs"]), list(state["exp"])
        self.base = (state["base"][0], state["base"][1])
