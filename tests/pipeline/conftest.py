"""Fixtures shared by the pipeline tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline.broker import EmbeddedBroker


@pytest.fixture(scope="session")
def embedded_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """One real Tansu broker for the whole session (in-memory; starts in well under a second).

    Shared state: tests must use topic and group names of their own (e.g. with a uuid suffix).
    """
    broker = EmbeddedBroker(log_dir=tmp_path_factory.mktemp("tansu")).start()
    try:
        yield broker
    finally:
        broker.stop()
