"""Fixtures for the polling-source tests: a loopback fake API and a PoliteClient that never really waits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fakeapi import FakeAPI


@pytest.fixture
async def api() -> AsyncIterator[FakeAPI]:
    async with FakeAPI() as server:
        yield server
