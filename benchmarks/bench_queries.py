"""Brand-query matching throughput: mentions/s through ``QuerySet.match`` on one core, JSON on stdout.

Texts are demo mentions (five languages, with a crisis); the queries are the demo's three brands plus generated,
realistic ones: fictional brands (name, @handle, #hashtag, a product phrase, exclusions, language and platform
filters, wildcards) and topic-style queries anchored on words the demo texts do use (NEAR, phrases, NOT), so both
the inverted index's misses and real evaluations are timed. Generation is seeded: the same options, the same run.

    python -m benchmarks.bench_queries [--mentions 50000] [--queries 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from connectors.demo import DemoStream
from connectors.query import BrandQuery, QuerySet
from connectors.query.normalize import tokens

DEMO_BRANDS = Path(__file__).resolve().parent.parent / "connectors" / "resources" / "demo_brands.yaml"
_SYLLABLES = ("ve", "lo", "xa", "tre", "ko", "von", "ka", "ri", "mo", "sta", "ba", "zu", "len", "dor", "fi", "qu")
_LANGS = ("nl", "en", "de", "fr", "es")
_PLATFORMS = ("reddit", "bluesky", "mastodon")


def generated_queries(n: int, texts: list[str], rng: random.Random) -> list[BrandQuery]:
    """``n`` queries: the demo's brands first, then alternately a fictional brand and a topic query."""
    queries = list(QuerySet.from_yaml(DEMO_BRANDS).queries)
    counts = Counter(tok for text in texts[:5000] for tok in tokens(text) if tok.isalpha() and len(tok) > 3)
    common = [tok for tok, _ in counts.most_common(300)]
    while len(queries) < n:
        if len(queries) % 2:
            name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
            product = f"{name} {rng.choice(('one', 'pro', 'max', 'city', 'go'))}"
            parts = [name, f"@{name}", f"#{name}", f'"{product}"']
            if rng.random() < 0.3:
                parts.append(f"{name}bikes*")
            query = " OR ".join(parts)
            if rng.random() < 0.5:
                query = f"({query}) -{rng.choice(common)}"
            if rng.random() < 0.3:
                query += f" -({rng.choice(common)} NEAR/2 {rng.choice(common)})"
            langs = tuple(rng.sample(_LANGS, 2)) if rng.random() < 0.3 else ()
            queries.append(BrandQuery(brand=name, query=query, competitor=True, competitive_set="bench", langs=langs))
        else:
            a, b, c, d = rng.sample(common, 4)
            query = rng.choice(
                (
                    f"{a} NEAR/4 ({b} OR {c})",
                    f'"{a} {b}" OR ({c} AND {d} AND NOT {b})',
                    f"({a} OR {b}) ({c} OR {d[:4]}*) lang:{rng.choice(_LANGS)}",
                    f"{a} {b} -platform:{rng.choice(_PLATFORMS)}",
                )
            )
            queries.append(BrandQuery(brand=f"topic-{len(queries)}", query=query))
    return queries[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the fastest is reported")
    # Wall-clock and process CPU time are both reported: on a shared machine the CPU time is the steadier one.
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    mentions = DemoStream(seed=args.seed, start=datetime(2026, 3, 2, 9, 0, tzinfo=UTC)).take(args.mentions)
    queries = generated_queries(args.queries, [m.text for m in mentions], random.Random(args.seed))
    qs = QuerySet(queries)
    qs.match(mentions[0])  # builds the lazily compiled accent-stripping pattern outside the clock
    best = best_cpu = float("inf")
    matched = 0
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        matched = sum(1 for m in mentions if qs.match(m))
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - started_cpu)
    result = {
        "mentions": len(mentions),
        "queries": len(queries),
        "seconds": round(best, 4),
        "mentions_per_s": round(len(mentions) / best),
        "cpu_seconds": round(best_cpu, 4),
        "mentions_per_cpu_s": round(len(mentions) / best_cpu),
        "matched_share": round(matched / len(mentions), 4),
        "repeat": args.repeat,
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
