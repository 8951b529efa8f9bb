"""`luister run`: the whole embedded pipeline from one command, queried with `luister sql`, stopped by Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from harness import REPO, wait_for

from pipeline.broker import free_port


def luister(*args: str, env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import main; main()", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kw,  # type: ignore[call-overload]
    )


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_run_serves_sql_while_running_and_ctrl_c_stops_everything(tmp_path: Path, worker_env: dict[str, str]) -> None:
    env = {k: v for k, v in worker_env.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}  # embedded broker
    env["LUISTER_WORKER__WEB_PORT"] = str(free_port())
    data = tmp_path / "run-data"
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from pipeline.cli import main; main()",
            "run",
            "--data-dir",
            str(data),
            "--rate",
            "50",
            "--limit",
            "200",
        ],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def enriched() -> int:
            result = luister(
                "sql",
                "--data-dir",
                str(data),
                "--format",
                "csv",
                "SELECT count() FROM mentions_v WHERE model != ''",
                env=env,
            )
            if result.returncode != 0:
                return 0
            return int(result.stdout.splitlines()[1])

        assert wait_for(lambda: enriched() >= 200, 120, "the demo's 200 mentions queryable via luister sql")
        # The wall page it printed answers with the demo's brands.
        wall = re.search(r"wall page: (http://127\.0\.0\.1:\d+/wall\?hours=1)", (tmp_path / "run.log").read_text())
        assert wall is not None
        shown = httpx.get(wall.group(1).replace("/wall?", "/wall/data?"), timeout=30).json()
        assert shown["brand"] == "Veloxa" and shown["panels"]["headline"]["rows"][0][0] > 0
        broker_pids = children(proc.pid)
        assert broker_pids, "the embedded broker runs as a child process"
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        stopped_in = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = (tmp_path / "run.log").read_text(errors="replace")
    assert "broker: embedded Tansu on 127.0.0.1:" in output and "worker web: http://127.0.0.1:" in output
    assert stopped_in < 15, f"Ctrl-C took {stopped_in:.1f}s"
    assert wait_for(lambda: not any(alive(p) for p in broker_pids), 5, "the broker to be gone")
    assert not (data / "worker.json").exists()
    # with nothing running, `luister sql` opens the embedded data directly
    direct = luister("sql", "--data-dir", str(data), "--format", "json", "SELECT count() AS n FROM mentions_v", env=env)
    assert direct.returncode == 0, direct.stderr
    assert '"n": 200' in direct.stdout
    assert os.path.isdir(data / "clickhouse")
