"""What one model call returns: a batch of predictions, row-aligned with the input texts.

Kept free of torch so that a process which only reads predictions (the worker, when the model runs in its own
child process) does not import it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]


@dataclass
class Predictions:
    """Batch output, row-aligned with the input texts."""

    lang: list[str]
    lang_confidence: list[float]
    sentiment: list[str]
    sentiment_scores: Array
    intent: list[str]
    intent_scores: Array
    topics: list[list[tuple[str, float]]]
    embeddings: Array
    truncated: list[bool]
