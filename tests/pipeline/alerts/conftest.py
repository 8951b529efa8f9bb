"""A loopback Slack with two channels (crisis: bot, webcare: incoming webhook) and the environment naming them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from alert_helpers import CRISIS, GOOD_TOKEN, HOOK_ENV, TOKEN_ENV, WEBCARE
from fake_platforms.slack import FakeSlack

from pipeline.alerts.metrics import AlertMetrics


@pytest.fixture
async def slack(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlack]:
    async with FakeSlack(tokens={GOOD_TOKEN}) as fake:
        fake.add_channel(CRISIS)
        monkeypatch.setenv(TOKEN_ENV, GOOD_TOKEN)
        monkeypatch.setenv(HOOK_ENV, fake.add_webhook(WEBCARE))
        yield fake


@pytest.fixture
def metrics() -> AlertMetrics:
    return AlertMetrics()
