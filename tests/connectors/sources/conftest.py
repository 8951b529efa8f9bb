"""Fixtures for the polling-source tests: a loopback fake API and a PoliteClient that never really waits."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# The test modules import the shared helper ``fakeapi`` next to them (pytest runs with --import-mode=importlib,
# which does not put test directories on sys.path).
sys.path.insert(0, str(Path(__file__).parent))

from fakeapi import FakeAPI


@pytest.fixture
async def api() -> AsyncIterator[FakeAPI]:
    async with FakeAPI() as server:
        yield server
