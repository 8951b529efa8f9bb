"""From a fresh clone to the first enriched mention visible through ``luister sql``: the README's run command, timed.

Clones this repository's HEAD into a temporary directory, runs ``make run`` there (install into a new ``.venv``,
unpack the default model, start broker, worker and demo) with a fresh data directory, and polls
``luister sql "SELECT count() FROM mentions_v"`` until a row is there. Prints JSON; stops ``make run`` by its PID.

    python3 benchmarks/first_mention.py [--cold-model-cache] [--keep]

Standard library only (it runs before anything is installed). What is warm on the machine is reported, not hidden:
pip's download cache (package downloads are not timed from scratch unless you empty it), and the unpacked default
model in ``~/.cache/luister`` unless ``--cold-model-cache`` points XDG_CACHE_HOME at an empty directory.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-model-cache", action="store_true", help="unpack the default model from scratch")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="luister-fresh-"))
    clone = tmp / "luister"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("LUISTER_", "KAFKA_", "CLICKHOUSE_", "VIRTUAL_ENV"))
    }
    env["LUISTER_DATA_DIR"] = str(tmp / "data")
    if args.cold_model_cache:
        env["XDG_CACHE_HOME"] = str(tmp / "cache")
    log = (tmp / "make-run.log").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        ["make", "run"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    luister = clone / ".venv" / "bin" / "luister"
    phases: dict[str, float] = {}
    first: float | None = None
    try:
        while time.monotonic() - started < args.timeout:
            if proc.poll() is not None:
                raise SystemExit(f"make run exited with {proc.returncode}; see {tmp / 'make-run.log'}")
            if "installed" not in phases and (clone / ".venv" / ".installed").exists():
                phases["installed"] = round(time.monotonic() - started, 1)
            if "worker_up" not in phases and (tmp / "data" / "worker.json").exists():
                phases["worker_up"] = round(time.monotonic() - started, 1)
            if "worker_up" in phases:
                out = subprocess.run(
                    [str(luister), "sql", "--format", "csv", "SELECT count() FROM mentions_v"],
                    cwd=clone,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                lines = out.stdout.strip().splitlines()
                if out.returncode == 0 and lines and lines[-1].isdigit() and int(lines[-1]) > 0:
                    first = time.monotonic() - started
                    break
            time.sleep(1)
    finally:
        # make runs luister in the same session: signal the whole group, as Ctrl-C in a terminal would.
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    if first is None:
        raise SystemExit(f"no enriched mention within {args.timeout}s; see {tmp / 'make-run.log'}")
    result = {
        "benchmark": "fresh_clone_to_first_enriched_mention",
        "command": "make run",
        "seconds_to_first_mention": round(first, 1),
        "phases_s": phases,
        "model_cache": "cold" if args.cold_model_cache else "warm (~/.cache/luister)",
        "pip_cache": "whatever pip's cache holds on this machine",
        "cores": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    if args.keep:
        print(f"clone kept in {clone}", file=sys.stderr)
    else:
        subprocess.run(["rm", "-rf", str(tmp)], check=False)


if __name__ == "__main__":
    main()
