"""Low-rank adapters (LoRA) for the encoder's linear layers: train a few MB, merge at load time.

We ship adapters rather than full weights because the base weights must always come from the package
(licence and size). After :func:`merge_adapters` the model is a plain ``transformers`` model again, so
inference costs exactly one ordinary encoder pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

# Suffixes of the BERT-family linear layers we adapt: attention projections and the feed-forward pair.
DEFAULT_TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


class LoRALinear(nn.Module):
    """``base(x) + scale * B(A(dropout(x)))`` with ``base`` frozen and ``B`` starting at zero."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.base = base
        self.rank = rank
        self.scale = alpha / rank
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.dropout = nn.Dropout(dropout)
        for p in self.base.parameters():
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        delta = (self.dropout(x) @ self.lora_a.t()) @ self.lora_b.t()
        out: torch.Tensor = self.base(x) + delta * self.scale
        return out


def _targets(model: nn.Module, suffixes: Iterable[str]) -> list[tuple[str, nn.Linear]]:
    wanted = tuple(suffixes)
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear) and n.endswith(wanted)]


def inject_adapters(
    model: nn.Module, rank: int, alpha: float, dropout: float = 0.0, targets: Iterable[str] = DEFAULT_TARGETS
) -> list[str]:
    """Replace every targeted ``nn.Linear`` by a :class:`LoRALinear`; freeze everything else."""
    for p in model.parameters():
        p.requires_grad_(False)
    names = []
    for name, linear in _targets(model, targets):
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, LoRALinear(linear, rank, alpha, dropout))
        names.append(name)
    if not names:
        raise ValueError("no linear layer matched the LoRA targets")
    return names


def adapter_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The trainable adapter tensors, keyed ``<module>.lora_a`` / ``.lora_b``, scale pre-applied to B."""
    state: dict[str, torch.Tensor] = {}
    for name, module in model.named_modules():
        if isinstance(module, LoRALinear):
            state[f"{name}.lora_a"] = module.lora_a.detach().float().cpu().contiguous()
            state[f"{name}.lora_b"] = (module.lora_b.detach().float() * module.scale).cpu().contiguous()
    return state


def remove_adapters(model: nn.Module) -> None:
    """Fold trained :class:`LoRALinear` layers back into plain linears (training → inference)."""
    for name, module in list(model.named_modules()):
        if isinstance(module, LoRALinear):
            with torch.no_grad():
                module.base.weight += (module.lora_b * module.scale) @ module.lora_a
            parent_name, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent_name), child, module.base)


def merge_adapters(model: nn.Module, state: dict[str, torch.Tensor]) -> int:
    """Add ``B @ A`` into the matching linear weights in place; returns how many layers changed.

    Raises ``ValueError`` if the adapter names a layer the model does not have (wrong base model).
    """
    modules = dict(model.named_modules())
    merged = 0
    for key, a in state.items():
        if not key.endswith(".lora_a"):
            continue
        name = key[: -len(".lora_a")]
        b = state[f"{name}.lora_b"]
        linear = modules.get(name)
        if not isinstance(linear, nn.Linear) or linear.weight.shape != (b.shape[0], a.shape[1]):
            raise ValueError(f"adapter layer {name} does not fit this model")
        with torch.no_grad():
            linear.weight += (b @ a).to(linear.weight.dtype)
        merged += 1
    return merged
