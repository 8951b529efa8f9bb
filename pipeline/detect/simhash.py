"""Near-duplicate posts (copy-paste floods, bot runs): 64-bit SimHash and a time-windowed index.

SimHash (Charikar 2002) of word unigrams and bigrams: two texts that share most of their words differ in few bits.
Two posts are near-duplicates when their fingerprints differ in at most ``MAX_DISTANCE`` bits. The index finds them
without comparing every pair: 64 bits cut into ``MAX_DISTANCE + 1`` bands, two fingerprints that close agree on at
least one band (pigeonhole), so only posts sharing a band are compared. Hashes are blake2b, never Python's
``hash`` (randomised per process): the same text gives the same fingerprint after a restart.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import deque

import numpy as np

MAX_DISTANCE = 3
_BANDS = MAX_DISTANCE + 1
_BAND_BITS = 64 // _BANDS
_MASK64 = (1 << 64) - 1
_WORD = re.compile(r"\w+", re.UNICODE)
_URL = re.compile(r"https?://\S+")
_SHIFTS = np.arange(64, dtype=np.uint64)


def _hash64(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")


def simhash(text: str) -> int:
    words = _WORD.findall(_URL.sub(" ", text.casefold()))
    features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    if not features:
        return 0
    hashes = np.array([_hash64(f) for f in features], dtype=np.uint64)
    ones = ((hashes[:, None] >> _SHIFTS) & np.uint64(1)).sum(axis=0)
    majority = (2 * ones > len(features)).astype(np.uint64)
    return int((majority << _SHIFTS).sum()) & _MASK64


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _bands(fp: int) -> list[tuple[int, int]]:
    return [(i, (fp >> (i * _BAND_BITS)) & ((1 << _BAND_BITS) - 1)) for i in range(_BANDS)]


class NearDuplicateIndex:
    """Fingerprints of the last ``window_s`` seconds (at most ``capacity``); ``add`` says whether a new post is a
    near-duplicate of one already there (or of one added with it)."""

    def __init__(self, window_s: float, capacity: int = 20_000) -> None:
        self.window_s = window_s
        self.capacity = capacity
        self.recent: deque[tuple[float, int]] = deque()
        self.bands: dict[tuple[int, int], dict[int, int]] = {}

    def _evict(self, now: float) -> None:
        while self.recent and (self.recent[0][0] <= now - self.window_s or len(self.recent) > self.capacity):
            _, fp = self.recent.popleft()
            for key in _bands(fp):
                members = self.bands[key]
                members[fp] -= 1
                if members[fp] == 0:
                    del members[fp]
                if not members:
                    del self.bands[key]

    def add(self, at: float, fp: int) -> bool:
        self._evict(at)
        duplicate = False
        for key in _bands(fp):
            members = self.bands.setdefault(key, {})
            if not duplicate and any(distance(fp, other) <= MAX_DISTANCE for other in members):
                duplicate = True
            members[fp] = members.get(fp, 0) + 1
        self.recent.append((at, fp))
        return duplicate

    def to_state(self) -> list[tuple[float, int]]:
        return list(self.recent)

    def load_state(self, state: list[tuple[float, int]] | list[list[float]]) -> None:
        self.recent.clear()
        self.bands.clear()
        for t, fp in state:
            fp_int = int(fp)
            self.recent.append((float(t), fp_int))
            for key in _bands(fp_int):
                members = self.bands.setdefault(key, {})
                members[fp_int] = members.get(fp_int, 0) + 1
