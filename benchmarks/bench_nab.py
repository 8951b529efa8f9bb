"""NAB score of ``luister detect`` on the realTweets series in NAB_DIR, scored by the shared NAB scorer.

    python -m benchmarks.bench_nab [--nab-dir ../shared/data/nab-dev] [--scorer ../shared/tools/nab_score.py]

For every ``data/Twitter_volume_<S>.csv`` it runs the same code as ``luister detect`` (fixed configuration) and
scores, with ``nab_score.py score`` (NAB standard profile): the **alert** column (written as ``anomaly_score``, so
the scorer's "at 0.5" figure is exactly the alert decisions' score: the bar), and, for information, the continuous
``anomaly_score`` column at its best threshold (which a tuned threshold would reach, not what ships). Reference
figures come from ``nab_score.py baselines`` (published detectors at their published thresholds). Prints JSON.
The data is read where it lies and written only to a temporary directory.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.detect.series import detect_series, infer_interval, read_series

_SCORE = re.compile(r"best-threshold (-?[\d.]+) \(thr ([\d.]+)\); at 0.5: (-?[\d.]+)")
_BASELINE = re.compile(r"^(\S+)\s+best-threshold\s+(-?[\d.]+).*published-threshold\s+(-?[\d.]+|-)", re.M)


def _score(scorer: Path, nab_dir: Path, folder: Path, only: str | None = None) -> dict[str, float]:
    cmd = [sys.executable, str(scorer), "score", str(folder)] + (["--only", only] if only else [])
    out = subprocess.run(cmd, env={**os.environ, "NAB_DIR": str(nab_dir)}, capture_output=True, text=True, check=True)
    match = _SCORE.search(out.stdout)
    if match is None:
        raise RuntimeError(f"unexpected scorer output: {out.stdout!r} {out.stderr!r}")
    return {"best": float(match[1]), "best_threshold": float(match[2]), "at_0_5": float(match[3])}


def _baselines(scorer: Path, nab_dir: Path) -> dict[str, float | None]:
    cmd = [sys.executable, str(scorer), "baselines"]
    out = subprocess.run(cmd, env={**os.environ, "NAB_DIR": str(nab_dir)}, capture_output=True, text=True, check=True)
    return {m[1]: (None if m[3] == "-" else float(m[3])) for m in _BASELINE.finditer(out.stdout)}


def run(nab_dir: Path, scorer: Path, baselines: bool) -> dict[str, object]:
    files = sorted((nab_dir / "data").glob("Twitter_volume_*.csv"))
    if not files:
        raise SystemExit(f"no Twitter_volume_*.csv under {nab_dir / 'data'}")
    names = [f.stem.removeprefix("Twitter_volume_") for f in files]
    per_series: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        alerts_dir, scores_dir = Path(tmp, "alerts"), Path(tmp, "scores")
        alerts_dir.mkdir()
        scores_dir.mkdir()
        for name, path in zip(names, files, strict=True):
            with path.open(newline="") as stream:
                rows = read_series(stream)
            started = time.perf_counter()
            results = [row for row, _ in detect_series(rows, infer_interval([ts for _, ts, _ in rows]))]
            seconds = time.perf_counter() - started
            for folder, column in ((alerts_dir, "alert"), (scores_dir, "anomaly_score")):
                with (folder / f"{name}.csv").open("w", newline="") as out:
                    writer = csv.writer(out, lineterminator="\n")
                    writer.writerow(["timestamp", "anomaly_score"])
                    writer.writerows([r.timestamp, getattr(r, column)] for r in results)
            per_series[name] = {
                "rows": len(results),
                "alert_rows": sum(r.alert for r in results),
                "seconds": round(seconds, 2),
                "alerts_at_0_5": _score(scorer, nab_dir, alerts_dir, only=name)["at_0_5"],
                "anomaly_score_best": _score(scorer, nab_dir, scores_dir, only=name)["best"],
            }
        total_alerts = _score(scorer, nab_dir, alerts_dir)
        total_scores = _score(scorer, nab_dir, scores_dir)
    result: dict[str, object] = {
        "series": per_series,
        "total": {
            "alerts_at_0_5": total_alerts["at_0_5"],
            "anomaly_score_best": total_scores["best"],
            "anomaly_score_best_threshold": total_scores["best_threshold"],
            "anomaly_score_at_0_5": total_scores["at_0_5"],
        },
        "goal": "alerts_at_0_5 > ARTime's published 78.3",
    }
    if baselines:
        result["published_detectors_at_their_thresholds"] = _baselines(scorer, nab_dir)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nab-dir", type=Path, default=Path(os.environ.get("NAB_DIR", "../shared/data/nab-dev")))
    parser.add_argument("--scorer", type=Path, default=Path("../shared/tools/nab_score.py"))
    parser.add_argument("--no-baselines", action="store_true", help="skip scoring the published detectors (~20 s)")
    args = parser.parse_args()
    print(json.dumps(run(args.nab_dir.resolve(), args.scorer.resolve(), not args.no_baselines), indent=2))


if __name__ == "__main__":
    main()
