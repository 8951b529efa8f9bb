"""Progress output of a running worker: one line every few seconds on stderr, from the Prometheus counters."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import faust

from pipeline.app import Services
from pipeline.metrics import PipelineMetrics


def counts(metrics: PipelineMetrics) -> dict[str, float]:
    get = metrics.registry.get_sample_value
    dead = sum(s.value for m in metrics.deadlettered.collect() for s in m.samples if s.name.endswith("_total"))
    return {
        "consumed": get("luister_mentions_consumed_total") or 0.0,
        "enriched": get("luister_mentions_enriched_total") or 0.0,
        "written": get("luister_mentions_written_total") or 0.0,
        "duplicates": get("luister_mentions_duplicate_total") or 0.0,
        "deadlettered": dead,
    }


def progress_line(now: dict[str, float], before: dict[str, float], seconds: float) -> str:
    rate = (now["consumed"] - before["consumed"]) / seconds if seconds > 0 else 0.0
    return (
        f"mentions {now['consumed']:.0f} ({rate:.1f}/s) · enriched {now['enriched']:.0f} · "
        f"written {now['written']:.0f} · duplicates {now['duplicates']:.0f} · dead-lettered {now['deadlettered']:.0f}"
    )


def progress_hook(
    every_s: float = 5.0, say: Callable[[str], None] | None = None
) -> Callable[[faust.App, Services], None]:
    out = say or (lambda line: print(line, file=sys.stderr, flush=True))

    def hook(app: faust.App, services: Services) -> None:
        last = {"t": time.monotonic(), "c": counts(services.metrics)}

        @app.timer(every_s, name="luister-progress")
        async def report() -> None:
            now, t = counts(services.metrics), time.monotonic()
            out(progress_line(now, last["c"], t - float(last["t"])))  # type: ignore[arg-type]
            last["t"], last["c"] = t, now

    return hook
