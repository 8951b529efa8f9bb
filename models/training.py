"""Fine-tune the sentiment head: LoRA adapters on the encoder plus a linear head, on UMSAB-format data.

What it writes (a few MB, safe to ship): ``adapters.safetensors`` (fp16 LoRA deltas, scale folded in),
``sentiment.safetensors``/``sentiment.json`` (the head, temperature-calibrated) and ``training.json``
(provenance: data, hyper-parameters, per-language validation macro-F1, timings).

Why a distillation term: intent and topic heads compare posts to example phrases in the *same* embedding
space. Pure sentiment fine-tuning would pull that space towards polarity; penalising the cosine distance
between the adapted and the frozen embedding of each training post keeps it semantic while the adapters
add the sentiment signal.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.datasets import SENTIMENT_LABELS, LabelledText, load_umsab
from models.device import select_device
from models.encoder import mean_pool, resolve_model_path
from models.evaluation import per_group_macro_f1
from models.heads import LinearHead
from models.lora import adapter_state, inject_adapters
from models.top_layers import encoder_layers, layer_output, to_model_keys, top_layers

Progress = Callable[[str], None]


@dataclass
class TrainConfig:
    data: Path
    out: Path
    base_model: str = "default"
    epochs: int = 4
    batch_size: int = 32
    lr: float = 4e-4
    head_lr: float = 3e-3
    lora_rank: int = 16
    lora_alpha: float = 32.0
    lora_dropout: float = 0.1
    distill_weight: float = 1.0
    max_length: int = 128
    warmup_ratio: float = 0.06
    seed: int = 13
    device: str = "auto"
    prefix: str = "query: "
    languages: list[str] | None = None
    limit_per_language: int | None = None  # for smoke runs
    extra_train: list[LabelledText] = field(default_factory=list)
    #: adapt only the top N transformer layers (0: every layer); the lower layers then run once for both stacks at
    #: inference, and training runs them once over the data (models/top_layers.py)
    top_layers: int = 0


@dataclass
class TrainResult:
    out: Path
    val_macro_f1: dict[str, float]
    epochs: list[dict[str, float]]
    seconds: float


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _limit(rows: list[LabelledText], limit: int | None) -> list[LabelledText]:
    if limit is None:
        return rows
    kept: dict[str, int] = {}
    out = []
    for r in rows:
        if kept.get(r.language, 0) < limit:
            kept[r.language] = kept.get(r.language, 0) + 1
            out.append(r)
    return out


class _Batcher:
    def __init__(self, tokenizer: object, prefix: str, max_length: int, device: torch.device) -> None:
        self.tokenizer = tokenizer
        self.prefix = prefix
        self.max_length = max_length
        self.device = device

    def __call__(self, texts: list[str]) -> dict[str, torch.Tensor]:
        enc = self.tokenizer(  # type: ignore[operator]
            [self.prefix + t for t in texts],
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}


def _embed(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    hidden = model(**batch).last_hidden_state
    return mean_pool(hidden.float(), batch["attention_mask"])


class _LowerStates:
    """The output of the frozen lower layers for every text, computed once (fp16 on the host), and the frozen
    model's final embedding of each (the distillation target).

    Why: with adapters on the top layers only, the lower layers never change, so each training step needs only the
    top layers' forward and backward pass (a third of the work for 4 of 12 layers)."""

    def __init__(
        self, model: nn.Module, batcher: _Batcher, texts: list[str], start: int, batch_size: int, progress: Progress
    ) -> None:
        layers = encoder_layers(model)
        assert layers is not None
        captured: list[torch.Tensor] = []

        def keep(_module: nn.Module, _args: object, output: object) -> None:
            captured.append(layer_output(output))

        handle = layers[start - 1].register_forward_hook(keep)
        self.states: list[torch.Tensor] = [torch.empty(0)] * len(texts)
        self.final = torch.zeros(len(texts), int(model.config.hidden_size))  # type: ignore[union-attr,arg-type]
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # similar lengths: little padding
        model.eval()
        try:
            with torch.inference_mode():
                for b in range(0, len(order), batch_size):
                    idx = order[b : b + batch_size]
                    batch = batcher([texts[i] for i in idx])
                    captured.clear()
                    self.final[idx] = _embed(model, batch).float().cpu()
                    lengths = batch["attention_mask"].sum(-1).tolist()
                    for row, (i, n) in enumerate(zip(idx, lengths, strict=True)):
                        self.states[i] = captured[0][row, : int(n)].to(torch.float16).cpu().clone()
                    if (b // batch_size + 1) % 20 == 0:
                        progress(f"lower layers: {b + len(idx)}/{len(texts)} posts")
        finally:
            handle.remove()

    def batch(self, idx: list[int] | np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """(hidden, attention mask) of these texts, padded to the longest."""
        rows = [self.states[int(i)] for i in idx]
        width = max(r.shape[0] for r in rows)
        hidden = torch.zeros(len(rows), width, rows[0].shape[-1])
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for k, r in enumerate(rows):
            hidden[k, : r.shape[0]] = r.float()
            mask[k, : r.shape[0]] = 1
        return hidden.to(device), mask.to(device)


def train_sentiment(config: TrainConfig, progress: Progress = print) -> TrainResult:
    """Train, evaluate on the ``val`` split, calibrate, save; returns the per-language macro-F1."""
    from safetensors.torch import save_file
    from transformers import AutoModel, AutoTokenizer

    started = time.perf_counter()
    _seed(config.seed)
    device = select_device(config.device)
    train = _limit(load_umsab(config.data, "train", config.languages), config.limit_per_language)
    train += config.extra_train
    val = _limit(load_umsab(config.data, "val", config.languages), config.limit_per_language)
    progress(f"train {len(train)} posts, val {len(val)} posts, device {device}")

    path = resolve_model_path(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, add_pooling_layer=False).to(device)
    batcher = _Batcher(tokenizer, config.prefix, config.max_length, device)
    autocast = device.type == "cuda"
    infer_bs = 256 if device.type == "cuda" else 64
    layers = encoder_layers(model)
    start = 0
    if config.top_layers:
        if layers is None or not 0 < config.top_layers < len(layers):
            count = "an unknown number of" if layers is None else len(layers)
            raise ValueError(f"--top-layers {config.top_layers}: the model has {count} layers")
        start = len(layers) - config.top_layers

    def embed_all(texts: list[str]) -> torch.Tensor:
        model.eval()
        chunks = []
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            for i in range(0, len(texts), infer_bs):
                chunks.append(_embed(model, batcher(texts[i : i + infer_bs])).float())
        return torch.cat(chunks)

    trainable: nn.Module
    if start:
        progress(f"running the {start} frozen lower layers once over {len(train) + len(val)} posts")
        lower_train = _LowerStates(model, batcher, [r.text for r in train], start, infer_bs, progress)
        lower_val = _LowerStates(model, batcher, [r.text for r in val], start, infer_bs, progress)
        trainable = top_layers(model, start).to(device)
        teacher = lower_train.final.to(device) if config.distill_weight > 0 else None

        def embed_train(idx: np.ndarray) -> torch.Tensor:
            hidden, mask = lower_train.batch(idx, device)
            return mean_pool(trainable(hidden, mask).float(), mask)

        def embed_val() -> torch.Tensor:
            trainable.eval()
            chunks = []
            with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                for i in range(0, len(val), infer_bs):
                    hidden, mask = lower_val.batch(list(range(i, min(i + infer_bs, len(val)))), device)
                    chunks.append(mean_pool(trainable(hidden, mask).float(), mask))
            return torch.cat(chunks)
    else:
        teacher = embed_all([r.text for r in train]) if config.distill_weight > 0 else None
        trainable = model

        def embed_train(idx: np.ndarray) -> torch.Tensor:
            return _embed(model, batcher([train[i].text for i in idx]))

        def embed_val() -> torch.Tensor:
            return embed_all([r.text for r in val])

    inject_adapters(trainable, config.lora_rank, config.lora_alpha, config.lora_dropout)
    trainable.to(device)
    head = nn.Linear(model.config.hidden_size, len(SENTIMENT_LABELS)).to(device)
    lora_params = [p for p in trainable.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": lora_params, "lr": config.lr, "weight_decay": 0.01},
            {"params": head.parameters(), "lr": config.head_lr, "weight_decay": 0.0},
        ]
    )
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    total = steps_per_epoch * config.epochs
    warmup = max(1, int(total * config.warmup_ratio))

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup))))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    # Class weights counter the label imbalance so macro-F1 (the metric users see) is what we optimise.
    counts = np.bincount([r.label for r in train], minlength=3).astype(np.float64)
    weights = torch.tensor(counts.sum() / (3 * np.maximum(counts, 1)), dtype=torch.float32, device=device)
    loss_fn = nn.CrossEntropyLoss(weight=weights)
    history: list[dict[str, float]] = []
    step = 0
    val_emb = torch.zeros(0, model.config.hidden_size)
    for epoch in range(config.epochs):
        trainable.train()
        head.train()
        order = np.random.permutation(len(train))
        epoch_loss = 0.0
        for b in range(steps_per_epoch):
            idx = order[b * config.batch_size : (b + 1) * config.batch_size]
            labels = torch.tensor([train[i].label for i in idx], device=device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                emb = embed_train(idx)
                loss = loss_fn(head(emb.float()), labels)
                if teacher is not None:
                    target = teacher[torch.as_tensor(idx, device=device)]
                    loss = loss + config.distill_weight * (1 - (emb * target).sum(-1)).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(lora_params, 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            step_loss = float(loss.detach())
            epoch_loss += step_loss
            if b % 50 == 0:
                progress(f"epoch {epoch + 1}/{config.epochs} step {b}/{steps_per_epoch} loss {step_loss:.4f}")
        val_emb = embed_val()
        with torch.no_grad():
            pred = head(val_emb).argmax(-1).cpu().numpy().tolist()
        scores = per_group_macro_f1([r.label for r in val], pred, [r.language for r in val], 3)
        history.append({"epoch": epoch + 1, "train_loss": epoch_loss / steps_per_epoch, **scores})
        progress(f"epoch {epoch + 1}: val macro-F1 average {100 * scores['average']:.1f}")

    linear = LinearHead(
        list(SENTIMENT_LABELS),
        head.weight.detach().float().cpu().numpy(),
        head.bias.detach().float().cpu().numpy(),
        meta={"base_model": config.base_model, "adapters": "adapters.safetensors"},
    )
    val_np = val_emb.cpu().numpy()
    linear.fit_temperature(val_np, np.array([r.label for r in val], dtype=np.int64))
    config.out.mkdir(parents=True, exist_ok=True)
    state = adapter_state(trainable)
    if start:
        state = to_model_keys(state, start)
    state = {k: v.to(torch.float16) for k, v in state.items()}
    save_file(state, str(config.out / "adapters.safetensors"), metadata={"rank": str(config.lora_rank)})
    linear.save(config.out, "sentiment")
    seconds = time.perf_counter() - started
    record = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items() if k != "extra_train"},
        "extra_train_examples": len(config.extra_train),
        "train_examples": len(train),
        "val_examples": len(val),
        "device": str(device),
        "torch": torch.__version__,
        "history": history,
        "val_macro_f1": history[-1] if history else {},
        "temperature": linear.temperature,
        "seconds": round(seconds, 1),
    }
    (config.out / "training.json").write_text(json.dumps(record, indent=2))
    final = {k: v for k, v in history[-1].items() if k not in ("epoch", "train_loss")} if history else {}
    return TrainResult(config.out, final, history, seconds)
