"""Shared fixtures. The real default model is loaded once per session (about 10 s on a 2-core CPU)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client
from fresh_database import fresh_database

from pipeline.settings import ClickHouseSettings
from pipeline.storage import open_client

REPO = Path(__file__).resolve().parent.parent
RESOURCES = REPO / "models" / "resources"


@pytest.fixture(scope="session")
def classifier():  # type: ignore[no-untyped-def]
    from models.classifier import Classifier, ClassifierOptions
    from models.encoder import EncoderOptions

    return Classifier(
        ClassifierOptions(
            encoder=EncoderOptions(device="cpu", adapters=RESOURCES / "sentiment" / "adapters.safetensors"),
            sentiment_head=RESOURCES / "sentiment",
            topics=RESOURCES / "topics.yaml",
            intents=RESOURCES / "intents.yaml",
        )
    )


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """The embedded engine (chDB) in a fresh data directory, for one test module: chDB allows one path per process,
    so it is closed when the module ends and the next module opens its own."""
    client = open_client(ClickHouseSettings(), tmp_path_factory.mktemp("luister-data"))
    yield client
    client.close()


@pytest.fixture
def engine_db(engine: Client) -> Iterator[str]:
    """A freshly migrated, throw-away database on ``engine``."""
    with fresh_database(engine) as name:
        yield name
