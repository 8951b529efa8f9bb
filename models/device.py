"""Device, precision and thread choices, made once and explicitly; and handing freed memory back (CPU)."""

from __future__ import annotations

import contextlib
import ctypes
import os
from typing import Literal, get_args

import torch

DevicePref = Literal["auto", "cpu", "cuda"]
# int8-sentiment: int8 for the sentiment (adapter) stack only; the embedding stack stays fp32 (docs/models.md).
Precision = Literal["auto", "fp32", "bf16", "fp16", "int8", "int8-sentiment"]


def select_device(pref: DevicePref | str = "auto") -> torch.device:
    """CUDA when available (or asked for), CPU otherwise; asking for CUDA without one is an error."""
    if pref == "cpu":
        return torch.device("cpu")
    if pref.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' was asked for but torch sees no CUDA device")
        return torch.device(pref)
    if pref != "auto":
        raise ValueError(f"unknown device {pref!r}; use auto, cpu or cuda")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_precision(precision: Precision | str, device: torch.device) -> Precision:
    """``auto`` means bf16 on CUDA and fp32 on CPU (the measured-safe default; see docs/models.md)."""
    if precision == "auto":
        return "bf16" if device.type == "cuda" else "fp32"
    if precision not in get_args(Precision):
        raise ValueError(f"unknown precision {precision!r}")
    if precision in ("int8", "int8-sentiment") and device.type != "cpu":
        raise ValueError("int8 dynamic quantisation is a CPU path; use bf16 or fp16 on CUDA")
    if precision == "fp16" and device.type == "cpu":
        raise ValueError("fp16 is a CUDA path; use fp32, bf16 or int8 on CPU")
    return precision  # type: ignore[return-value]


def configure_cpu_threads(threads: int | None) -> int:
    """Set torch's intra-op threads; ``None`` means one per available core (cgroup/affinity aware)."""
    if threads is None or threads <= 0:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    return threads


def release_freed_memory() -> None:
    """Ask glibc to return freed heap pages to the system (a no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
