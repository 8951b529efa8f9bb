"""Model-only throughput benchmark: posts/s at several batch sizes and precisions, JSON on stdout.

"Model-only" is what the pipeline's enrich step pays per batch: tokenise, encoder forward pass, pooling,
heads. Posts are the UMSAB validation texts (all 8 languages). For each precision the sentiment macro-F1
on those texts is reported too, so a faster path that loses accuracy is visible in the same run.

    python -m benchmarks.bench_models --data ../shared/data/umsab [--device cuda] [--precisions fp32,bf16]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

from models.datasets import load_umsab
from models.encoder import EncoderOptions, TextEncoder
from models.evaluation import per_group_macro_f1
from models.heads import LinearHead

RESOURCES = Path(__file__).resolve().parent.parent / "models" / "resources"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", default="default")
    parser.add_argument("--adapters", type=Path, default=RESOURCES / "sentiment" / "adapters.safetensors")
    parser.add_argument("--head", type=Path, default=RESOURCES / "sentiment")
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--precisions", default=None, help="comma list; default fp32,int8-sentiment,int8 (CPU) or bf16,fp16"
    )
    parser.add_argument("--batch-sizes", default=None, help="comma list; default 8,32,64,128 (CPU) or 64,256,1024")
    parser.add_argument("--repeat", type=int, default=0, help="repeat the texts N times (0: 1 on CPU, 8 on CUDA)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    rows = load_umsab(args.data, "val")
    texts = [r.text for r in rows]
    cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    precisions = (args.precisions or ("bf16,fp16" if cuda else "fp32,int8-sentiment,int8")).split(",")
    batch_sizes = [int(b) for b in (args.batch_sizes or ("64,256,1024" if cuda else "8,32,64,128")).split(",")]
    repeat = args.repeat or (8 if cuda else 1)
    head = LinearHead.load(args.head, "sentiment") if (args.head / "sentiment.json").is_file() else None
    adapters = args.adapters if args.adapters.is_file() else None
    results = []
    for precision in precisions:
        encoder = TextEncoder(
            EncoderOptions(
                model=args.model,
                device=args.device,
                precision=precision,  # type: ignore[arg-type]
                threads=args.threads,
                adapters=adapters,
            )
        )
        encoder.encode(texts[:256], batch_size=64)  # warm-up (allocator, kernels, oneDNN primitives)
        encoded = encoder.encode(texts)
        quality = None
        if head is not None:
            # The head reads the adapter stack when there is one (as models.classifier does), else the base.
            features = encoded.adapted if encoded.adapted is not None else encoded.embeddings
            pred = head.predict_proba(features).argmax(axis=1).tolist()
            quality = per_group_macro_f1([r.label for r in rows], pred, [r.language for r in rows], 3)["average"]
        for bs in batch_sizes:
            work = texts * repeat
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            encoder.encode(work, batch_size=bs)
            if cuda:
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            result = {
                "precision": precision,
                "batch_size": bs,
                "posts": len(work),
                "seconds": round(seconds, 3),
                "posts_per_s": round(len(work) / seconds, 1),
                "sentiment_macro_f1_avg": None if quality is None else round(100 * quality, 2),
            }
            results.append(result)
            print(json.dumps(result), file=sys.stderr)
        del encoder
    summary = {
        "benchmark": "models",
        "device": torch.cuda.get_device_name(0) if cuda else platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "model": args.model,
        "adapters": str(adapters) if adapters else None,
        "texts": "UMSAB val, 8 languages",
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "results": results,
        "best": max(results, key=lambda r: float(r["posts_per_s"] or 0)),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
