"""The word-embedding table stored as int8 rows with one fp32 scale per row: a quarter of the memory.

Why: the default encoder's table has 250,037 rows of 384 floats (384 MB, 80 % of the weights) and a post uses a
few dozen of them. As int8 it is 97 MB. Quality cost, measured on 600 UMSAB validation posts: the post embeddings
of both stacks stay at cosine ≥ 0.99998 to the fp32 ones (docs/models.md "Memory").

The fp32 rows are read from the safetensors file with plain reads in chunks, never through a memory map, so the
384 MB never enter the process's resident set, not even while loading. A checkpoint this reader does not
understand (sharded differently, another dtype, a ``.bin``) is quantised from the loaded tensor instead.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from torch import nn

__all__ = ["Int8EmbeddingTable", "compact_word_embeddings", "read_safetensors_rows"]

_CHUNK_ROWS = 8192
_NUMPY_DTYPES = {"F32": np.float32, "F16": np.float16}


class Int8EmbeddingTable(nn.Module):
    """A drop-in for ``nn.Embedding`` at inference: ``forward(ids)`` gives ``rows[i] · scale[i]`` in the scale's
    dtype (fp32 unless the model was cast)."""

    rows: torch.Tensor
    scale: torch.Tensor

    def __init__(self, rows: torch.Tensor, scale: torch.Tensor) -> None:
        super().__init__()
        if rows.dtype != torch.int8 or scale.shape != (rows.shape[0], 1):
            raise ValueError("rows must be int8 (n, dim) and scale (n, 1)")
        self.register_buffer("rows", rows)
        self.register_buffer("scale", scale)
        self.num_embeddings, self.embedding_dim = int(rows.shape[0]), int(rows.shape[1])

    @classmethod
    def quantise(cls, weight: torch.Tensor, chunk_rows: int = _CHUNK_ROWS) -> Int8EmbeddingTable:
        """Symmetric per-row int8 of a float table, a chunk at a time (no full-size float temporary)."""
        n = int(weight.shape[0])
        return cls.from_chunks(weight.shape, (weight[i : i + chunk_rows] for i in range(0, n, chunk_rows)))

    @classmethod
    def from_chunks(cls, shape: Sequence[int], chunks: Iterable[torch.Tensor]) -> Int8EmbeddingTable:
        """Quantise a float table of ``shape`` given as consecutive row chunks."""
        n, dim = int(shape[0]), int(shape[1])
        rows = torch.empty((n, dim), dtype=torch.int8)
        scale = torch.empty((n, 1), dtype=torch.float32)
        start = 0
        for chunk in chunks:
            values, stop = chunk.float(), start + len(chunk)
            scale[start:stop] = values.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127.0
            rows[start:stop] = torch.round(values / scale[start:stop]).clamp(-127, 127)
            start = stop
        if start != n:
            raise ValueError(f"chunks gave {start} rows, not {n}")
        return cls(rows, scale)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        # in the scale's dtype: fp32, or what a whole-model cast (.half(), bf16 on CUDA) made of it
        rows = nn.functional.embedding(input_ids, self.rows).to(self.scale.dtype)
        return rows * nn.functional.embedding(input_ids, self.scale)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, int8 rows + fp32 scale"


def read_safetensors_rows(
    path: Path, name: str, shape: Sequence[int] | None = None, chunk_rows: int = _CHUNK_ROWS
) -> Int8EmbeddingTable | None:
    """Quantise tensor ``name`` of a safetensors file with chunked reads; None when it is not a 2-D F32/F16
    tensor there (of ``shape``, if given). The format: an 8-byte little-endian header length, a JSON header giving
    each tensor's dtype, shape and byte range relative to the end of the header, then the data."""
    header_len, header = _read_header(path)
    entry = header.get(name)
    if not isinstance(entry, dict) or entry.get("dtype") not in _NUMPY_DTYPES or len(entry["shape"]) != 2:
        return None
    dtype = np.dtype(_NUMPY_DTYPES[entry["dtype"]])
    n, dim = (int(x) for x in entry["shape"])
    begin, end = (int(x) for x in entry["data_offsets"])
    if end - begin != n * dim * dtype.itemsize or (shape is not None and tuple(shape) != (n, dim)):
        return None

    def chunks(f: BinaryIO) -> Iterator[torch.Tensor]:
        f.seek(8 + header_len + begin)
        for start in range(0, n, chunk_rows):
            count = min(chunk_rows, n - start)
            data = np.frombuffer(f.read(count * dim * dtype.itemsize), dtype=dtype).reshape(count, dim)
            yield torch.from_numpy(data.astype(np.float32))

    with path.open("rb") as f:
        return Int8EmbeddingTable.from_chunks((n, dim), chunks(f))


def compact_word_embeddings(model: nn.Module, model_dir: str) -> bool:
    """Replace ``model.embeddings.word_embeddings`` (BERT-style encoders) by an :class:`Int8EmbeddingTable`.

    Returns False, leaving the model as it is, when the model has no such ``nn.Embedding``.
    """
    embeddings = getattr(model, "embeddings", None)
    table = getattr(embeddings, "word_embeddings", None)
    if embeddings is None or not isinstance(table, nn.Embedding):
        return False
    compact = None
    checkpoint = Path(model_dir) / "model.safetensors"
    if checkpoint.is_file():
        for key in _candidate_keys(checkpoint):
            compact = read_safetensors_rows(checkpoint, key, shape=table.weight.shape)
            if compact is not None:
                break
    if compact is None:
        compact = Int8EmbeddingTable.quantise(table.weight.detach())
    embeddings.word_embeddings = compact
    return True


def _candidate_keys(checkpoint: Path) -> list[str]:
    """Header keys that name a word-embedding table (``embeddings.word_embeddings.weight``, maybe prefixed)."""
    return [k for k in _read_header(checkpoint)[1] if k.endswith("embeddings.word_embeddings.weight")]


def _read_header(path: Path) -> tuple[int, dict[str, object]]:
    with path.open("rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
    return header_len, header if isinstance(header, dict) else {}
