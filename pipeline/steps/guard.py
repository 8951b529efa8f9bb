"""The invalid-share alarm: a broken producer must be noticed, not silently drained into the dead-letter topic."""

from __future__ import annotations

from collections import deque


class InvalidShare:
    """Share of invalid records among the last ``window`` raw records."""

    def __init__(self, window: int = 1000, threshold: float = 0.5, min_records: int = 100) -> None:
        self.threshold = threshold
        self.min_records = min_records
        self._window: deque[bool] = deque(maxlen=window)
        self._invalid = 0

    def record(self, invalid: bool) -> None:
        if len(self._window) == self._window.maxlen and self._window[0]:
            self._invalid -= 1
        self._window.append(invalid)
        self._invalid += invalid

    @property
    def share(self) -> float:
        return self._invalid / len(self._window) if self._window else 0.0

    @property
    def alarming(self) -> bool:
        return len(self._window) >= self.min_records and self.share > self.threshold
