"""Time to alert: from the demo crisis's first post to the alert arriving at a loopback Slack, in the real pipeline.

Per trial, on a fresh embedded broker and engine:

1. the demo stream's past (``--history-hours``, more than the detector's two-day warm-up) is seeded into the
   engine with the labels the demo knows it wrote (benchmarks/demo_history.py: the model would need hours for it);
2. a real ``luister worker`` starts (real default model, detector on, alerts routed to an incoming webhook served
   by this process on loopback);
3. the same demo stream continues live, paced in real time, and its complaint snowballs ``--crisis-after``
   seconds after the worker is ready; every live mention goes through the model;
4. the clock runs from the moment the crisis's first post is sent to the broker (also reported: from its
   ``created_at``) until the webhook receives the incident's opening message for the brand.

The crisis starts at a different second of its minute in each trial (spread evenly: 10, 30 and 50 s for three
trials), because minute buckets make the time to alert depend on it. Each trial also reports where the seconds
went (``breakdown``).

JSON on stdout: per trial and p50/p95. ``python -m benchmarks.bench_alert [--trials 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any

from aiohttp import web

from benchmarks.bench_pipeline import WorkerProcess
from benchmarks.demo_history import seed
from connectors.demo import CrisisShape, DemoEvent, DemoStream, in_fetch_order
from connectors.pacing import Pacer
from connectors.sink import KafkaMentionSink
from pipeline.broker import EmbeddedBroker
from pipeline.settings import ClickHouseSettings

BRAND = "Veloxa"
PROFILE_BIN_S = 30
PROFILE_BINS = 6


class Profile:
    """What the live stream carried about the brand in each 30 s after the crisis origin was created: the
    crisis's own posts and everything else. It bounds any detector: what is not on the wire cannot alarm."""

    def __init__(self) -> None:
        self.crisis = [0] * PROFILE_BINS
        self.other = [0] * PROFILE_BINS
        self.about_brand: dict[str, bool] = {}  # mention id -> is a crisis post (only the brand's mentions)

    def mentions(self, events: Iterable[DemoEvent]) -> Iterator[Any]:
        for event in events:
            if event.truth.brand == BRAND:
                self.about_brand[event.mention.id] = event.truth.crisis
            yield event.mention

    def count(self, mention: Any, origin_created: float) -> None:
        bin_ = int((mention.created_at.timestamp() - origin_created) // PROFILE_BIN_S)
        crisis = self.about_brand.pop(mention.id, None)
        if 0 <= bin_ < PROFILE_BINS and crisis is not None:
            (self.crisis if crisis else self.other)[bin_] += 1

    def as_dict(self) -> dict[str, Any]:
        return {"bin_s": PROFILE_BIN_S, "crisis_mentions": self.crisis, "other_brand_mentions": self.other}


def log(msg: str) -> None:
    print(f"[bench-alert] {msg}", file=sys.stderr, flush=True)


class Webhook:
    """A loopback incoming webhook (Slack's shape: POST JSON, answer ``ok``) that records arrival times."""

    def __init__(self) -> None:
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append((time.time(), body))
        return web.Response(text="ok")

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/services/T0/B0/bench", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/services/T0/B0/bench"

    def __enter__(self) -> Webhook:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def first_opening(self, brand: str, after: float) -> tuple[float, str] | None:
        """The first incident *opening* about ``brand`` received at or after ``after`` (later steps of an incident
        opened before are prefixed with their verb, resolutions say RESOLVED)."""
        for at, body in list(self.received):
            text = str(body.get("text", ""))
            later_step = any(f"] {verb}:" in text for verb in ("Escalated", "Update", "Resolved"))
            if at >= after and brand.lower() in text.lower() and "[RESOLVED]" not in text and not later_step:
                return at, text
        return None


async def send_live(
    bootstrap: str,
    stream: DemoStream,
    first: Any,
    stop: asyncio.Event,
    sent_at: dict[str, float],
    profile: Profile,
) -> None:
    """Pace the stream from ``first`` on in real time; note when the crisis origin goes out."""
    events = chain([first], stream.events())
    mentions = in_fetch_order(profile.mentions(events))
    pacer = Pacer(1.0, origin=datetime.now(UTC))
    async with KafkaMentionSink(bootstrap) as sink:
        for mention in mentions:
            if stop.is_set():
                break
            await pacer.wait_until(mention.fetched_at)
            await sink.send(mention)
            if mention.id == stream.crisis_origin_id and "origin" not in sent_at:
                await sink.flush()
                sent_at["origin"] = time.time()
                sent_at["origin_created"] = mention.created_at.timestamp()
                log(f"crisis origin {mention.id} sent")
            if "origin_created" in sent_at:
                profile.count(mention, sent_at["origin_created"])


def trial(number: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="luister-alert-") as tmp, Webhook() as hook:
        data = Path(tmp) / "data"
        seeded_until = datetime.now(UTC)
        history_start = seeded_until - timedelta(hours=args.history_hours)
        # The crisis time is fixed when the stream is made: budget the seeding and the worker start-up.
        crisis_at = seeded_until + timedelta(seconds=args.startup_budget + args.crisis_after)
        # Where in its minute the crisis starts decides how long a minute-bucketed detector needs (the origin's
        # minute may be too short to carry a whole minute's bar): trials spread the start evenly over the minute.
        phase_s = 60 * (number + 0.5) / args.trials
        crisis_at = crisis_at.replace(second=0, microsecond=0) + timedelta(minutes=1, seconds=phase_s)
        stream = DemoStream(
            seed=100 + number,
            start=history_start,
            rate_per_s=args.rate,
            crisis_after_s=(crisis_at - history_start).total_seconds(),
            crisis=replace(CrisisShape(), ramp_s=args.ramp_s),
        )
        started = time.perf_counter()
        rows, boundary = seed(stream, seeded_until, data, ClickHouseSettings())
        log(f"trial {number}: seeded {rows} rows of history in {time.perf_counter() - started:.0f}s")
        assert boundary is not None
        config = Path(tmp) / "luister.yaml"
        config.write_text(
            json.dumps(
                {
                    "alerts": {
                        "channels": {"bench": {"transport": "webhook", "webhook_url_env": "LUISTER_BENCH_HOOK"}},
                        "default_channels": ["bench"],
                    }
                }
            )
        )
        with EmbeddedBroker(log_dir=Path(tmp)) as broker:
            env = dict(
                os.environ,
                KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers,
                LUISTER_DATA_DIR=str(data),
                LUISTER_CONFIG=str(config),
                LUISTER_BENCH_HOOK=hook.url,
            )
            worker = WorkerProcess(env, Path(tmp) / "worker.log")
            try:
                worker.wait_ready()
                ready = datetime.now(UTC)
                if ready + timedelta(seconds=args.crisis_after / 2) > crisis_at:
                    raise SystemExit(f"worker start-up exceeded the budget ({ready - seeded_until}); raise it")
                log(f"trial {number}: worker ready; crisis at {crisis_at:%H:%M:%S}")
                sent_at: dict[str, float] = {}
                profile = Profile()
                opened = asyncio.run(
                    _run_live(broker.bootstrap_servers, stream, boundary, hook, sent_at, profile, args)
                )
                hook_log = list(hook.received)
                where_time_went = (
                    breakdown(worker, sent_at["origin"], opened[0])
                    if opened is not None and "origin" in sent_at
                    else None
                )
                incidents = worker.sql(
                    "SELECT incident_id, signal, severity, opened_at, summary FROM incidents_v ORDER BY opened_at"
                )
            finally:
                worker.stop()
    result: dict[str, Any] = {
        "trial": number,
        "crisis_second_of_minute": round(phase_s, 1),
        "history_rows": rows,
        "incidents": [list(map(str, r)) for r in incidents],
        "wire_after_origin": profile.as_dict(),
    }
    if opened is None or "origin" not in sent_at:
        result["alerted"] = False
        return result
    result.update(
        alerted=True,
        seconds_from_origin_sent=round(opened[0] - sent_at["origin"], 1),
        seconds_from_origin_created=round(opened[0] - sent_at["origin_created"], 1),
        message=opened[1][:300],
        breakdown=where_time_went,
        openings_before_origin=[
            text[:200] for at, body in hook_log if at < sent_at["origin"] for text in [str(body.get("text", ""))]
        ],
    )
    return result


COUNT_SIGNALS = {"volume": "", "negative_volume": "AND sentiment = 'negative'"}


def breakdown(worker: WorkerProcess, origin_sent: float, hook_at: float) -> dict[str, Any]:
    """Where the seconds from the origin's send to the webhook went, read back from the worker's own tables.

    All times are seconds after the origin was sent (one machine, one clock). ``threshold_*``: when the k-th
    mention of the opening bucket (k = the detector's ``upper``, rounded up; the signal's own filter) was ingested
    and became queryable: the earliest a peek could have seen the count it alerts on. ``upper`` is the detector's
    rough alerting count for a one-bucket window, so these two are approximate for multi-bucket tests.
    """

    def rel(ms: Any) -> float | None:
        return None if ms is None else round(int(ms) / 1000 - origin_sent, 1)

    since = int((origin_sent - 120) * 1000)
    openings = worker.sql(
        "SELECT event_id, signal, ifNull(platform, ''), toUnixTimestamp64Milli(opened_at), "
        "toUnixTimestamp64Milli(at), toUnixTimestamp64Milli(written_at), observed, upper "
        f"FROM incident_events WHERE brand = '{BRAND}' AND stage = 'opened' "
        f"AND at >= fromUnixTimestamp64Milli(toInt64({since})) ORDER BY at, written_at LIMIT 1"
    )
    if not openings:
        return {"error": "no opening in incident_events"}
    event_id, signal, platform, opened_ms, at_ms, written_ms, observed, upper = openings[0]
    deliveries = worker.sql(
        "SELECT toUnixTimestamp64Milli(minOrNull(attempted_at)), toUnixTimestamp64Milli(minOrNull(delivered_at)) "
        f"FROM alert_deliveries WHERE event_id = '{event_id}'"
    )
    lag = worker.sql(
        "SELECT quantiles(0.5, 0.95)(dateDiff('millisecond', ingested_at, written_at)) / 1000, count() "
        f"FROM mentions_v WHERE has(brands.brand, '{BRAND}') "
        f"AND ingested_at >= fromUnixTimestamp64Milli(toInt64({int(origin_sent * 1000)})) "
        f"AND ingested_at <= fromUnixTimestamp64Milli(toInt64({int(hook_at * 1000)}))"
    )
    out: dict[str, Any] = {
        "signal": signal,
        "platform": platform or None,
        "bucket_start": rel(opened_ms),
        "detector_emitted": rel(at_ms),
        "peek": int(at_ms) < int(opened_ms) + 60_000,
        "incident_written": rel(written_ms),
        "delivery_attempted": rel(deliveries[0][0]) if deliveries else None,
        "webhook_received": round(hook_at - origin_sent, 1),
        "observed": observed,
        "upper": upper,
        "brand_lag_p50_p95_s": lag[0][0] if lag else None,
    }
    origin_rows = worker.sql(
        "SELECT toUnixTimestamp64Milli(min(written_at)) FROM mentions_v "
        f"WHERE has(brands.brand, '{BRAND}') AND ingested_at >= fromUnixTimestamp64Milli(toInt64({since + 120_000}))"
    )
    out["first_brand_mention_queryable"] = rel(origin_rows[0][0]) if origin_rows else None
    if signal in COUNT_SIGNALS and upper is not None:
        k = max(math.ceil(float(upper)), 1)
        on_platform = f"AND platform = '{platform}'" if platform else ""
        rows = worker.sql(
            "SELECT toUnixTimestamp64Milli(ingested_at), toUnixTimestamp64Milli(written_at) "
            f"FROM mentions_v ARRAY JOIN `brands.brand` AS brand WHERE brand = '{BRAND}' "
            f"AND toStartOfMinute(created_at) = fromUnixTimestamp64Milli(toInt64({int(opened_ms)})) "
            f"{COUNT_SIGNALS[signal]} {on_platform}"
        )
        ingested = sorted(int(r[0]) for r in rows)
        queryable = sorted(int(r[1]) for r in rows)
        out["threshold_k"] = k
        out["threshold_ingested"] = rel(ingested[k - 1]) if len(ingested) >= k else None
        out["threshold_queryable"] = rel(queryable[k - 1]) if len(queryable) >= k else None
    return out


async def _run_live(
    bootstrap: str,
    stream: DemoStream,
    boundary: Any,
    hook: Webhook,
    sent_at: dict[str, float],
    profile: Profile,
    args: Any,
) -> tuple[float, str] | None:
    stop = asyncio.Event()
    sender = asyncio.create_task(send_live(bootstrap, stream, boundary, stop, sent_at, profile))
    deadline = time.monotonic() + args.startup_budget + args.crisis_after + args.timeout
    try:
        while time.monotonic() < deadline:
            found = hook.first_opening(BRAND, sent_at["origin"]) if "origin" in sent_at else None
            if found is not None:
                return found
            if sender.done():
                sender.result()
            await asyncio.sleep(0.2)
        return None
    finally:
        stop.set()
        sender.cancel()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--rate", type=float, default=1.0, help="demo mentions per second (history and live)")
    parser.add_argument("--history-hours", type=float, default=50.0, help="> the detector's 48 h warm-up")
    parser.add_argument("--crisis-after", type=float, default=120.0, help="seconds of live traffic before it")
    parser.add_argument("--startup-budget", type=float, default=240.0, help="seconds for seeding + worker start")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the alert after it")
    parser.add_argument(
        "--ramp-s",
        type=float,
        default=CrisisShape().ramp_s,
        help="seconds the crisis takes to reach its peak rate (the demo's: 300; a sudden burst: 30)",
    )
    args = parser.parse_args()
    results = [trial(n, args) for n in range(args.trials)]
    times = [r["seconds_from_origin_sent"] for r in results if r.get("alerted")]
    print(
        json.dumps(
            {
                "benchmark": "time_to_alert",
                "trials": args.trials,
                "alerted": len(times),
                "p50_s": statistics.median(times) if times else None,
                "p95_s": percentile(times, 0.95) if times else None,
                "settings": vars(args),
                "results": results,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
