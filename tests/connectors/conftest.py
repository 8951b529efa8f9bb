"""Fixtures for the connector tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline.broker import EmbeddedBroker


@pytest.fixture(scope="session")
def embedded_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """One real Tansu broker for the connector tests (in-memory). Tests use topic names of their own."""
    broker = EmbeddedBroker(log_dir=tmp_path_factory.mktemp("tansu-connectors")).start()
    try:
        yield broker
    finally:
        broker.stop()
