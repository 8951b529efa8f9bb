"""End-to-end benchmark: broker → worker (model) → ClickHouse, against model-only, in one run. JSON on stdout.

This machine's speed drifts by tens of percent within minutes, and the model's speed depends on the texts (a few
long posts in a batch pad the others), so each round compares the same texts, measured in alternation:

1. model-only: the enrich step (one model call per ``--batch`` mentions) over the round's ``--mentions`` demo
   texts in this process, the model loaded once; the worker is idle meanwhile;
2. end-to-end: a real `luister worker` process (same model and settings) on the embedded Tansu broker and the
   embedded engine, warmed up by one batch. The same texts are produced as a backlog (like a connector catching
   up) and followed until ClickHouse has acknowledged them all (``luister_mentions_written_total``). The round's
   rate is the steady one, while the written count goes from 15 % to 85 %; the rate over the whole backlog (fill
   and drain included) is reported too;
3. model-only again on the same texts. The round's ratio = its steady end-to-end rate ÷ the mean model-only rate
   over the same middle 15–85 % of the texts, before and after (the whole-backlog ratio uses the whole texts'
   rate); ``--rounds`` rounds on new texts each, and the headline is the median round;
4. latency: mentions produced at ``--latency-load`` × the measured rate for ``--latency-seconds``; ingest →
   queryable is ``written_at - ingested_at`` per row in ClickHouse (exact, not histogram buckets);
5. with ``--compare-inline`` (``make bench`` passes it): the same rounds, on the same texts, with the model in the
   worker's own interpreter (``model.child_process=false``).

    python -m benchmarks.bench_pipeline [--rounds 3] [--mentions 1200] [--batch 64] [--compare-inline]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from connectors.demo import DemoStream
from pipeline.broker import EmbeddedBroker, free_port
from pipeline.schema import Mention
from pipeline.settings import Settings


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class ModelOnly:
    """The enrich step alone, in this process (``model.child_process`` off): the model's rate with nothing else."""

    def __init__(self, batch: int) -> None:
        from pipeline.runner import build_enricher

        self.batch = batch
        self.enricher = build_enricher(Settings().model, progress=False, child=False)
        self.now = [datetime.now(UTC)] * batch
        self.warm = False

    def run(self, mentions: list[Mention]) -> dict[str, float]:
        """Rates over all of ``mentions`` and over the batches inside their middle 15–85 % (what a backlog's
        steady rate covers)."""
        if not self.warm:
            self.enricher.enrich(mentions[: self.batch], self.now)
            self.warm = True
        n = len(mentions)
        mid_posts, mid_seconds = 0, 0.0
        started = time.perf_counter()
        for i in range(0, n, self.batch):
            chunk = mentions[i : i + self.batch]
            batch_started = time.perf_counter()
            self.enricher.enrich(chunk, self.now[: len(chunk)])
            if i >= 0.15 * n and i + len(chunk) <= 0.85 * n:
                mid_posts += len(chunk)
                mid_seconds += time.perf_counter() - batch_started
        seconds = time.perf_counter() - started
        return {
            "posts": n,
            "seconds": round(seconds, 2),
            "posts_per_s": round(n / seconds, 2),
            "mid_posts_per_s": round(mid_posts / mid_seconds, 2) if mid_posts else round(n / seconds, 2),
        }


async def produce(bootstrap: str, mentions: list[Mention], rate: float | None = None) -> None:
    from connectors.sink import KafkaMentionSink

    async with KafkaMentionSink(bootstrap) as sink:
        started = time.monotonic()
        for i, m in enumerate(mentions):
            if rate:
                delay = started + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await sink.send(m)
        await sink.flush()


class WorkerProcess:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        env = dict(env, LUISTER_WORKER__WEB_PORT=str(self.port))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from pipeline.cli import main; main()", "worker"],
            env=env,
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        # One keep-alive client: a new httpx client per poll costs ~20 ms of CPU (TLS context) on a 2-core box.
        self.http = httpx.Client(base_url=self.url, timeout=5)

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"worker exited with {self.proc.returncode}")
            try:
                if self.http.get("/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise SystemExit("worker did not become healthy")

    def metric(self, name: str) -> float:
        text = self.http.get("/metrics").text
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def written(self) -> float:
        return float(self.http.get("/health").json()["written"])

    def busy(self) -> dict[str, float]:
        """Seconds the worker spent in model calls and in inserts, and how many of each (for the breakdown)."""
        return {
            name: self.metric(f"luister_{name}")
            for name in (
                "model_batch_seconds_sum",
                "model_batch_seconds_count",
                "insert_seconds_sum",
                "insert_seconds_count",
            )
        }

    def sql(self, query: str) -> list[list[Any]]:
        response = self.http.post("/sql", content=query.encode(), timeout=60)
        response.raise_for_status()
        return list(response.json()["rows"])

    def stop(self) -> None:
        self.http.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wait_written(worker: WorkerProcess, target: float, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.written() >= target:
            return time.perf_counter()
        time.sleep(0.25)
    raise SystemExit(f"only {worker.written():.0f} of {target:.0f} written after {timeout}s")


def backlog(worker: WorkerProcess, bootstrap: str, mentions: list[Mention]) -> dict[str, Any]:
    """Produce ``mentions`` as a backlog and follow the written count until all are in ClickHouse.

    ``steady_per_s``: the rate while the written count went from 15 % to 85 % of the backlog, the pipeline full
    (what a model-only rate compares with); ``whole_per_s``: from the first send to the last write, fill and drain
    included.
    """
    base = worker.written()
    busy_before = worker.busy()
    started = time.perf_counter()
    asyncio.run(produce(bootstrap, mentions))
    samples: list[tuple[float, float]] = []
    deadline = time.monotonic() + 1800
    while True:
        written = worker.written() - base
        samples.append((time.perf_counter(), written))
        if written >= len(mentions):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"only {written:.0f} of {len(mentions)} written after 1800 s")
        time.sleep(0.2)
    done = samples[-1][0]
    busy = {key: value - busy_before[key] for key, value in worker.busy().items()}
    lo = next(s for s in samples if s[1] >= 0.15 * len(mentions))
    hi = next(s for s in samples if s[1] >= 0.85 * len(mentions))
    return {
        "mentions": len(mentions),
        "steady_per_s": round((hi[1] - lo[1]) / (hi[0] - lo[0]), 2),
        "whole_per_s": round(len(mentions) / (done - started), 2),
        "seconds": round(done - started, 2),
        # Where the worker's wall time went: model calls and inserts (they overlap: separate agents).
        "model_seconds": round(busy["model_batch_seconds_sum"], 2),
        "model_calls": int(busy["model_batch_seconds_count"]),
        "insert_seconds": round(busy["insert_seconds_sum"], 2),
        "inserts": int(busy["insert_seconds_count"]),
    }


def start_worker(tmp: str, bootstrap: str, batch: int, inline: bool) -> WorkerProcess:
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap, LUISTER_DATA_DIR=f"{tmp}/data")
    env["LUISTER_WORKER__ENRICH_BATCH"] = str(batch)
    if inline:
        env["LUISTER_MODEL__CHILD_PROCESS"] = "false"
    worker = WorkerProcess(env, Path(tmp) / "worker.log")
    worker.wait_ready()
    # Warm-up, as for model-only: the group join and partition assignment (~6 s) and the first model and insert
    # calls are start-up, not throughput.
    warmup = DemoStream(seed=10, start=datetime.now(UTC) - timedelta(hours=2), rate_per_s=20).take(batch)
    asyncio.run(produce(bootstrap, warmup))
    wait_written(worker, len(warmup), timeout=600)
    return worker


def rounds(
    worker: WorkerProcess, bootstrap: str, model: ModelOnly, chunks: list[list[Mention]]
) -> list[dict[str, Any]]:
    """Per chunk: model-only, end-to-end, model-only, all on the chunk's texts. The ratio divides the backlog's
    steady rate by the mean model-only rate over the same middle of the texts, measured just before and after."""
    out: list[dict[str, Any]] = []
    for i, chunk in enumerate(chunks):
        before = model.run(chunk)
        e2e = backlog(worker, bootstrap, chunk)
        after = model.run(chunk)
        mid_rate = (before["mid_posts_per_s"] + after["mid_posts_per_s"]) / 2
        whole_rate = (before["posts_per_s"] + after["posts_per_s"]) / 2
        ratio = e2e["steady_per_s"] / mid_rate
        log(f"round {i}: end to end {e2e['steady_per_s']:.1f}/s, model only {mid_rate:.1f}/s, ratio {ratio:.3f}")
        out.append(
            {
                "model_only": {
                    "mid_posts_per_s": [before["mid_posts_per_s"], after["mid_posts_per_s"]],
                    "posts_per_s": [before["posts_per_s"], after["posts_per_s"]],
                },
                "end_to_end": e2e,
                "ratio": round(ratio, 3),
                "ratio_whole_backlog": round(e2e["whole_per_s"] / whole_rate, 3),
            }
        )
    return out


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    ratios = [r["ratio"] for r in results]
    return {
        "ratio_median": round(statistics.median(ratios), 3),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "ratio_whole_backlog_median": round(statistics.median(r["ratio_whole_backlog"] for r in results), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="model-only / end-to-end alternations")
    parser.add_argument("--mentions", type=int, default=1200, help="backlog per round")
    parser.add_argument("--batch", type=int, default=64, help="model batch (LUISTER_WORKER__ENRICH_BATCH)")
    parser.add_argument("--latency-load", type=float, default=0.5)
    parser.add_argument("--latency-seconds", type=float, default=60.0)
    parser.add_argument(
        "--compare-inline",
        action="store_true",
        help="also run the rounds with the model in the worker's interpreter (model.child_process=false)",
    )
    args = parser.parse_args()
    child_process = Settings().model.child_process

    stream = DemoStream(seed=11, start=datetime.now(UTC) - timedelta(hours=1), rate_per_s=20)
    chunks = [stream.take(args.mentions) for _ in range(args.rounds)]
    log("loading the model for model-only runs")
    model = ModelOnly(args.batch)

    with tempfile.TemporaryDirectory(prefix="luister-bench-") as tmp, EmbeddedBroker(log_dir=Path(tmp)) as broker:
        worker = start_worker(tmp, broker.bootstrap_servers, args.batch, inline=not child_process)
        try:
            log(f"worker warm ({'model in a child process' if child_process else 'model inline'}); rounds")
            results = rounds(worker, broker.bootstrap_servers, model, chunks)
            steady = statistics.median(r["end_to_end"]["steady_per_s"] for r in results)
            rate = max(args.latency_load * steady, 0.5)
            latency_n = max(int(rate * args.latency_seconds), 1)
            fresh = DemoStream(seed=12, start=datetime.now(UTC), rate_per_s=rate).take(latency_n)
            log(f"latency: {latency_n} mentions at {rate:.1f}/s")
            target = worker.written() + latency_n
            asyncio.run(produce(broker.bootstrap_servers, fresh, rate=rate))
            wait_written(worker, target, timeout=600)
            ids = ",".join(f"'{m.id}'" for m in fresh)
            rows = worker.sql(
                "SELECT quantiles(0.5, 0.95, 0.99)(dateDiff('millisecond', ingested_at, written_at)) / 1000, "
                f"count() FROM mentions_v WHERE id IN ({ids})"
            )
            p50, p95, p99 = rows[0][0]
        finally:
            worker.stop()

    inline = None
    if args.compare_inline and child_process:
        log("the same rounds with the model in the worker's interpreter")
        with tempfile.TemporaryDirectory(prefix="luister-bench-") as tmp, EmbeddedBroker(log_dir=Path(tmp)) as broker:
            worker = start_worker(tmp, broker.bootstrap_servers, args.batch, inline=True)
            try:
                inline = rounds(worker, broker.bootstrap_servers, model, chunks)
            finally:
                worker.stop()

    result: dict[str, Any] = {
        "benchmark": "pipeline",
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "model_batch": args.batch,
        "model_process": "child" if child_process else "inline",
        **summary(results),
        "rounds": results,
        "latency_ingest_to_queryable_s": {
            "load_mentions_per_s": round(rate, 1),
            "mentions": latency_n,
            "p50": round(p50, 3),
            "p95": round(p95, 3),
            "p99": round(p99, 3),
        },
    }
    if inline is not None:
        result["model_inline"] = {**summary(inline), "rounds": inline}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
