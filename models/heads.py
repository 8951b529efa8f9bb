"""Classification heads on top of the shared post embedding.

A :class:`LinearHead` is a trained softmax classifier with a temperature fitted on held-out data, so its
probabilities are calibrated. Heads are tiny and stored as safetensors + JSON next to the adapters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]


def softmax(logits: Array, axis: int = -1) -> Array:
    shifted = logits - logits.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    out: Array = (exp / exp.sum(axis=axis, keepdims=True)).astype(np.float32)
    return out


@dataclass
class LinearHead:
    """``softmax((x @ weight.T + bias) / temperature)`` over ``labels``."""

    labels: list[str]
    weight: Array
    bias: Array
    temperature: float = 1.0
    meta: dict[str, object] = field(default_factory=dict)

    def logits(self, x: Array) -> Array:
        out: Array = (x @ self.weight.T + self.bias).astype(np.float32)
        return out

    def predict_proba(self, x: Array) -> Array:
        return softmax(self.logits(x) / self.temperature)

    def fit_temperature(self, x: Array, y: npt.NDArray[np.int64]) -> float:
        """Pick the temperature that minimises held-out negative log-likelihood (argmax is unchanged)."""
        logits = self.logits(x)
        best_t, best_nll = 1.0, float("inf")
        for t in np.exp(np.linspace(np.log(0.25), np.log(8.0), 121)):
            p = softmax(logits / t)
            nll = float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())
            if nll < best_nll:
                best_t, best_nll = float(t), nll
        self.temperature = best_t
        return best_nll

    def save(self, directory: Path, name: str) -> None:
        from safetensors.numpy import save_file

        directory.mkdir(parents=True, exist_ok=True)
        save_file({"weight": self.weight, "bias": self.bias}, str(directory / f"{name}.safetensors"))
        meta = {"labels": self.labels, "temperature": self.temperature, **self.meta}
        (directory / f"{name}.json").write_text(json.dumps(meta, indent=2, sort_keys=True))

    @classmethod
    def load(cls, directory: Path, name: str) -> LinearHead:
        from safetensors.numpy import load_file

        tensors = load_file(str(directory / f"{name}.safetensors"))
        meta = json.loads((directory / f"{name}.json").read_text())
        labels = list(meta.pop("labels"))
        temperature = float(meta.pop("temperature"))
        weight = tensors["weight"].astype(np.float32)
        if weight.shape[0] != len(labels):
            raise ValueError(f"{name} head has {weight.shape[0]} rows for {len(labels)} labels")
        return cls(labels, weight, tensors["bias"].astype(np.float32), temperature, meta)
