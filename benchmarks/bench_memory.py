"""Resident memory of ``luister run`` (every process: the worker and the Tansu broker) under demo traffic, over time.

Starts ``luister run`` with a fresh data directory and a free web port, samples the RSS of its whole process tree
from ``/proc`` every ``--every`` seconds for ``--minutes``, reads the mentions written from ``/health``, then stops
it with SIGINT (as Ctrl-C would) by its PID. Prints JSON: the samples, the peak, and the growth over the last third
of the run (MB per 10 minutes), per process kind, so "does it still grow" is answered with numbers.

    python -m benchmarks.bench_memory [--minutes 30] [--every 30] [--rate 8]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(entry.name))
    return found


def tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children(p))
    return out


def rss_by_kind(root: int) -> dict[str, float]:
    """MB of resident memory per process kind ('broker' for Tansu, 'worker' for luister itself, 'other')."""
    totals: dict[str, float] = {}
    for pid in tree(root):
        try:
            pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if "tansu" in cmd:
            kind = "broker"
        elif "pipeline.model_process" in cmd:
            kind = "model"
        else:
            kind = "worker" if pid == root else "other"
        totals[kind] = totals.get(kind, 0.0) + pages * PAGE / 1e6
    return {k: round(v, 1) for k, v in sorted(totals.items())}


def slope_per_10min(samples: list[dict[str, Any]], kind: str) -> float | None:
    """Least-squares MB per 10 minutes over the last third of the samples."""
    tail = [s for s in samples[len(samples) * 2 // 3 :] if kind in s["rss_mb"]]
    if len(tail) < 3:
        return None
    xs = [s["t_s"] for s in tail]
    ys = [s["rss_mb"][kind] for s in tail]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var
    return round(float(slope) * 600, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--every", type=float, default=30, help="seconds between samples")
    parser.add_argument("--rate", type=float, default=8.0, help="demo mentions per second")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="luister-mem-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "CLICKHOUSE_"))}
    env["LUISTER_DATA_DIR"] = str(data)
    luister = Path(sys.executable).with_name("luister")
    cmd = [str(luister), "run", "--rate", str(args.rate), "--port", str(port)]
    log = (data / "run.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    samples: list[dict[str, Any]] = []
    started = time.monotonic()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            while time.monotonic() - started < args.minutes * 60:
                if proc.poll() is not None:
                    raise SystemExit(f"luister run exited with {proc.returncode}; see {data / 'run.log'}")
                written: int | None = None
                with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):  # not up yet
                    written = int(http.get("/health").json()["written"])
                rss = rss_by_kind(proc.pid)
                rss["total"] = round(sum(rss.values()), 1)
                sample = {"t_s": round(time.monotonic() - started, 1), "rss_mb": rss, "written": written}
                samples.append(sample)
                print(json.dumps(sample), file=sys.stderr, flush=True)
                time.sleep(args.every)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    kinds = sorted({k for s in samples for k in s["rss_mb"]})
    print(
        json.dumps(
            {
                "benchmark": "memory",
                "minutes": args.minutes,
                "demo_rate_per_s": args.rate,
                "written": samples[-1]["written"] if samples else None,
                "peak_rss_mb": {k: max(s["rss_mb"].get(k, 0.0) for s in samples) for k in kinds},
                "last_rss_mb": samples[-1]["rss_mb"] if samples else {},
                "growth_mb_per_10min_last_third": {k: slope_per_10min(samples, k) for k in kinds},
                "samples": samples,
                "data_dir": str(data),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
