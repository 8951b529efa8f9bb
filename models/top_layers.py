"""The top transformer layers of a BERT-like encoder as a stack of their own, run on the hidden states of the
layer below them.

Why: the sentiment adapters change only what they touch. Trained on the top ``k`` layers alone, the adapted stack
shares the lower ``12 - k`` layers' output with the base stack (one pass for both), so sentiment costs ``k`` more
layers instead of a second full pass (docs/models.md "One pass for the lower layers"). Training can then cache the
lower layers' output once and run only the top layers per step, which makes CPU training practical.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import torch
from torch import nn

_LAYER_KEY = re.compile(r"^encoder\.layer\.(\d+)\.")


class TopLayers(nn.Module):
    """Layers ``start..`` of an encoder, with the mask handling of the model they came from."""

    def __init__(self, layers: list[nn.Module], config: Any, start: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.config = config
        self.start = start

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """``hidden``: (batch, tokens, dim), the output of layer ``start - 1``; returns the last hidden state."""
        from transformers.masking_utils import create_bidirectional_mask

        mask = create_bidirectional_mask(config=self.config, inputs_embeds=hidden, attention_mask=attention_mask)
        for layer in self.layers:
            hidden = layer_output(layer(hidden, attention_mask=mask))
        return hidden


def layer_output(output: object) -> torch.Tensor:
    """The hidden states a transformer layer returned (a tensor, or a tuple starting with one, by version)."""
    return output[0] if isinstance(output, tuple) else output  # type: ignore[return-value]


def encoder_layers(model: nn.Module) -> nn.ModuleList | None:
    """The transformer layers of a BERT-like model (``model.encoder.layer``), or None for another shape."""
    encoder = getattr(model, "encoder", None)
    layers = getattr(encoder, "layer", None)
    return layers if isinstance(layers, nn.ModuleList) else None


def lowest_adapted_layer(adapters: dict[str, torch.Tensor]) -> int | None:
    """The lowest ``encoder.layer.<i>`` an adapter file touches; None if a key lies outside the layers."""
    indices = []
    for key in adapters:
        match = _LAYER_KEY.match(key)
        if match is None:
            return None
        indices.append(int(match[1]))
    return min(indices) if indices else None


def top_layers(model: nn.Module, start: int) -> TopLayers:
    """Copies of ``model``'s layers ``start..`` (the model itself is left as it is)."""
    layers = encoder_layers(model)
    if layers is None or not 0 < start < len(layers):
        raise ValueError(f"cannot split this model's layers at {start}")
    return TopLayers([copy.deepcopy(layer) for layer in layers[start:]], model.config, start)


def to_model_keys(state: dict[str, torch.Tensor], start: int) -> dict[str, torch.Tensor]:
    """Adapter keys of a :class:`TopLayers` (``layers.<j>.``) as keys of the whole model (``encoder.layer.<i>.``)."""
    out = {}
    for key, value in state.items():
        head, _, rest = key.partition(".")  # "layers"
        index, _, tail = rest.partition(".")
        if head != "layers":
            raise ValueError(f"not a TopLayers key: {key}")
        out[f"encoder.layer.{start + int(index)}.{tail}"] = value
    return out


def to_top_keys(state: dict[str, torch.Tensor], start: int) -> dict[str, torch.Tensor]:
    """The inverse of :func:`to_model_keys`; keys below ``start`` are refused."""
    out = {}
    for key, value in state.items():
        match = _LAYER_KEY.match(key)
        if match is None or int(match[1]) < start:
            raise ValueError(f"adapter key {key} is not in the layers from {start} up")
        out[f"layers.{int(match[1]) - start}.{key[match.end() :]}"] = value
    return out
