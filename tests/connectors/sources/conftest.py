"""Make the shared fake-platform helper importable as ``fakeplatforms`` (tests use importlib import mode)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
