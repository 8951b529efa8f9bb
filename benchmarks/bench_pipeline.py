"""End-to-end benchmark: broker → worker (model) → ClickHouse, against model-only, in one run. JSON on stdout.

1. model-only: the enrich step (one model call per batch of ``--batch`` mentions) over the demo mentions' texts,
   in this process, nothing else running; once before and once after the end-to-end run, and the ratio takes
   the faster of the two;
2. end-to-end: a real `luister worker` process (same model and settings) on the embedded Tansu broker and the
   embedded engine; once one warm-up batch has gone through, all mentions are produced as a backlog (the
   producer runs during the measurement, like a connector would) and the clock stops when the last one is
   acknowledged by ClickHouse (``luister_mentions_written_total``);
3. latency: mentions produced at ``--latency-load`` × the measured end-to-end rate for ``--latency-seconds``;
   ingest → queryable is ``written_at - ingested_at`` per row in ClickHouse (exact, not histogram buckets);
4. with ``--compare-inline`` (``make bench`` passes it): step 2 again with the model in the worker's own
   interpreter (``model.child_process=false``), to show what the model's child process buys.

    python -m benchmarks.bench_pipeline [--mentions 1500] [--batch 64] [--compare-inline]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
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


def model_only(mentions: list[Mention], batch: int) -> dict[str, float]:
    from pipeline.runner import build_enricher

    enricher = build_enricher(Settings().model, progress=False, child=False)
    now = [datetime.now(UTC)] * batch
    enricher.enrich(mentions[:batch], now[:batch])  # warm-up
    started = time.perf_counter()
    for i in range(0, len(mentions), batch):
        chunk = mentions[i : i + batch]
        enricher.enrich(chunk, now[: len(chunk)])
    seconds = time.perf_counter() - started
    return {"posts": len(mentions), "seconds": round(seconds, 2), "posts_per_s": round(len(mentions) / seconds, 1)}


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


def end_to_end(
    worker: WorkerProcess, bootstrap: str, mentions: list[Mention], batch: int
) -> tuple[float, dict[str, Any]]:
    """Warm the worker up with one batch, then time ``mentions`` produced as a backlog until all are written."""
    # Warm-up, as for model-only: the group join and partition assignment (~6 s) and the first model and insert
    # calls are start-up, not throughput.
    warmup = DemoStream(seed=10, start=datetime.now(UTC) - timedelta(hours=2), rate_per_s=20).take(batch)
    asyncio.run(produce(bootstrap, warmup))
    wait_written(worker, len(warmup), timeout=600)
    log("worker warm; producing the backlog")
    busy_before = worker.busy()
    started = time.perf_counter()
    asyncio.run(produce(bootstrap, mentions))
    done = wait_written(worker, len(warmup) + len(mentions), timeout=1800)
    e2e_seconds = done - started
    busy = {key: value - busy_before[key] for key, value in worker.busy().items()}
    e2e_rate = len(mentions) / e2e_seconds
    log(f"end-to-end: {e2e_rate:.1f} mentions/s")
    return len(warmup), {
        "mentions_per_s": round(e2e_rate, 1),
        "seconds": round(e2e_seconds, 2),
        # Where the worker's wall time went: model calls and inserts (they overlap: separate agents).
        "model_calls": int(busy["model_batch_seconds_count"]),
        "model_seconds": round(busy["model_batch_seconds_sum"], 2),
        "inserts": int(busy["insert_seconds_count"]),
        "insert_seconds": round(busy["insert_seconds_sum"], 2),
    }


def inline_end_to_end(mentions: list[Mention], batch: int) -> dict[str, Any]:
    """The same end-to-end run with the model in the worker's own interpreter (``model.child_process=false``)."""
    with tempfile.TemporaryDirectory(prefix="luister-bench-") as tmp, EmbeddedBroker(log_dir=Path(tmp)) as broker:
        env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers, LUISTER_DATA_DIR=f"{tmp}/data")
        env["LUISTER_WORKER__ENRICH_BATCH"] = str(batch)
        env["LUISTER_MODEL__CHILD_PROCESS"] = "false"
        worker = WorkerProcess(env, Path(tmp) / "worker.log")
        try:
            worker.wait_ready()
            return end_to_end(worker, broker.bootstrap_servers, mentions, batch)[1]
        finally:
            worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=64, help="model batch (LUISTER_WORKER__ENRICH_BATCH)")
    parser.add_argument("--latency-load", type=float, default=0.5)
    parser.add_argument("--latency-seconds", type=float, default=60.0)
    parser.add_argument(
        "--compare-inline",
        action="store_true",
        help="also run end to end with the model in the worker's interpreter (model.child_process=false)",
    )
    args = parser.parse_args()
    child_process = Settings().model.child_process

    stream = DemoStream(seed=11, start=datetime.now(UTC) - timedelta(hours=1), rate_per_s=20)
    mentions = stream.take(args.mentions)
    latency_n = 0
    log(f"model-only over {len(mentions)} demo mentions")
    model_before = model_only(mentions, args.batch)
    log(f"model-only: {model_before['posts_per_s']} posts/s")

    with tempfile.TemporaryDirectory(prefix="luister-bench-") as tmp, EmbeddedBroker(log_dir=Path(tmp)) as broker:
        env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers, LUISTER_DATA_DIR=f"{tmp}/data")
        env["LUISTER_WORKER__ENRICH_BATCH"] = str(args.batch)
        worker = WorkerProcess(env, Path(tmp) / "worker.log")
        try:
            worker.wait_ready()
            warmed, e2e = end_to_end(worker, broker.bootstrap_servers, mentions, args.batch)
            e2e_rate = e2e["mentions_per_s"]

            rate = max(args.latency_load * e2e_rate, 0.5)
            latency_n = max(int(rate * args.latency_seconds), 1)
            fresh = DemoStream(seed=12, start=datetime.now(UTC), rate_per_s=rate).take(latency_n)
            log(f"latency: {latency_n} mentions at {rate:.1f}/s")
            asyncio.run(produce(broker.bootstrap_servers, fresh, rate=rate))
            wait_written(worker, warmed + len(mentions) + latency_n, timeout=600)
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
        log("end-to-end again, model in the worker's interpreter")
        inline = inline_end_to_end(mentions, args.batch)

    # Model-only again, after: this machine drifts by ±15 % over minutes, so the ratio divides by the faster of
    # the two model-only runs (the conservative choice).
    log("model-only again")
    model_after = model_only(mentions, args.batch)
    log(f"model-only: {model_after['posts_per_s']} posts/s")
    model = max(model_before, model_after, key=lambda m: m["posts_per_s"])

    result: dict[str, Any] = {
        "benchmark": "pipeline",
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "mentions": len(mentions),
        "model_batch": args.batch,
        "model_process": "child" if child_process else "inline",
        "model_only": model,
        "model_only_runs_posts_per_s": [model_before["posts_per_s"], model_after["posts_per_s"]],
        "end_to_end": e2e,
        "ratio_end_to_end_over_model_only": round(e2e_rate / model["posts_per_s"], 3),
        "latency_ingest_to_queryable_s": {
            "load_mentions_per_s": round(rate, 1),
            "mentions": latency_n,
            "p50": round(p50, 3),
            "p95": round(p95, 3),
            "p99": round(p99, 3),
        },
    }
    if inline is not None:
        result["end_to_end_model_inline"] = inline
        result["ratio_inline_end_to_end_over_model_only"] = round(inline["mentions_per_s"] / model["posts_per_s"], 3)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
