"""Shared fixtures. The real default model is loaded once per session (about 10 s on a 2-core CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
