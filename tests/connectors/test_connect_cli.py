"""``luister connect`` as a subprocess against the real embedded broker, and the settings file it reads."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from harness import REPO, read_topic

from connectors import registry
from connectors.demo import DemoStream
from connectors.replay import write_jsonl
from pipeline.broker import EmbeddedBroker
from pipeline.cli import main
from pipeline.deadletter import DLQ_ORIGIN, DLQ_REASON
from pipeline.settings import SettingsFileError, load_settings

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def env(embedded_broker: EmbeddedBroker) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LUISTER_", "KAFKA_", "CLICKHOUSE_"))}
    return dict(
        clean,
        KAFKA_BOOTSTRAP_SERVERS=embedded_broker.bootstrap_servers,
        LUISTER_KAFKA__RAW_TOPIC=f"raw-{suffix}",
        LUISTER_KAFKA__DEADLETTER_TOPIC=f"dlq-{suffix}",
        LUISTER_KAFKA__PARTITIONS="2",
    )


def connect(env: dict[str, str], *args: str, sigint_ignored: bool = False) -> subprocess.Popen[str]:
    """``luister connect ARGS``; ``sigint_ignored``: start it with SIGINT ignored, as a non-interactive shell
    starts its background jobs."""
    command = [sys.executable, "-c", "from pipeline.cli import main; main()", "connect", *args]

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen(
        command,
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=ignore_sigint if sigint_ignored else None,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_replay_publishes_every_line_then_exits_and_a_rerun_resumes_at_the_end(
    env: dict[str, str], tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    path = tmp_path / "recording.jsonl"
    mentions = DemoStream(seed=11, start=START).take(300)
    write_jsonl(mentions, path)
    with path.open("ab") as out:
        out.write(b"{broken\n")
    name = f"rec-{uuid.uuid4().hex[:6]}"
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]

    first = connect(env, "replay", "--name", name, "--option", f"path={path}", "--option", "batch_size=50")
    processes.append(first)
    output, _ = first.communicate(timeout=60)
    assert first.returncode == 0, output
    assert f"{name}: done" in output
    raw = read_topic(bootstrap, env["LUISTER_KAFKA__RAW_TOPIC"], expect=len(mentions), timeout=20)
    assert sorted(r.key for r in raw) == sorted(m.id.encode() for m in mentions)
    dead = read_topic(bootstrap, env["LUISTER_KAFKA__DEADLETTER_TOPIC"], expect=1, timeout=10)
    assert [(r.value, r.headers[DLQ_REASON], r.headers[DLQ_ORIGIN]) for r in dead] == [
        (b"{broken", b"not_json", f"connector/{name}".encode())
    ]

    again = connect(env, "replay", "--name", name, "--option", f"path={path}")
    processes.append(again)
    output, _ = again.communicate(timeout=60)
    assert again.returncode == 0, output
    raw = read_topic(bootstrap, env["LUISTER_KAFKA__RAW_TOPIC"], expect=len(mentions), timeout=10)
    assert len(raw) == len(mentions), "the saved cursor says every line is done: nothing is sent again"


def test_sigint_stops_a_running_connector_within_seconds(
    env: dict[str, str], processes: list[subprocess.Popen[str]]
) -> None:
    proc = connect(
        env,
        "demo",
        "--name",
        f"demo-{uuid.uuid4().hex[:6]}",
        "--option",
        "rate=200",
        "--metrics-port",
        "0",
        "--metrics-host",  # another loopback address than the default: the option is what the server binds
        "127.0.0.2",
        "--progress-every",
        "0.5",
        sigint_ignored=True,  # it must stop on SIGINT however it was started (CI once ran it so, and it hung)
    )
    processes.append(proc)
    assert proc.stdout is not None
    port = None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if match := re.search(r"http://127\.0\.0\.2:(\d+)/metrics", line):
            port = int(match.group(1))
        if port and re.search(r"published [1-9]", line):
            break
    assert port, "".join(lines)
    metrics = httpx.get(f"http://127.0.0.2:{port}/metrics", timeout=5).text
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    published = [
        float(m) for m in re.findall(r'luister_connector_published_total\{connector="demo-\w+"\} (\S+)', metrics)
    ]
    assert published and published[0] > 0, metrics[:2000]
    assert "luister_connector_lag_seconds" in metrics

    proc.send_signal(signal.SIGUSR1)  # the CLI prints every thread's stack and goes on
    stopped_at = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        rest, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)  # where it hangs
        time.sleep(1)
        proc.kill()
        rest, _ = proc.communicate()
        pytest.fail(f"still running 15 s after SIGINT; its output, stacks last:\n{rest[-8000:]}")
    assert "most recent call first" in rest  # the SIGUSR1 stack dump
    assert proc.returncode == 0, rest
    assert time.monotonic() - stopped_at < 10
    assert "stopped" in rest
    assert "Traceback" not in "".join(lines) + rest


def test_cli_errors_are_clear(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(registry, "SOURCES", (*registry.SOURCES, "friendster"))
    runner = CliRunner()
    result = runner.invoke(main, ["connect", "friendster"])
    assert result.exit_code != 0 and "source 'friendster' is not available in this build" in result.output
    result = runner.invoke(main, ["connect", "replay", "--option", "nokeyvalue"])
    assert result.exit_code != 0 and "KEY=VALUE" in result.output
    result = runner.invoke(main, ["connect", "replay", "--config", str(tmp_path / "absent.yaml")])
    assert result.exit_code != 0 and "settings file not found" in result.output
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS")
    result = runner.invoke(main, ["connect", "demo"])
    assert result.exit_code != 0 and "no broker configured" in result.output


def test_settings_file_with_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith(("LUISTER_", "KAFKA_"))]:
        monkeypatch.delenv(key)
    config = tmp_path / "luister.yaml"
    config.write_text(
        "brands: brands.yaml\n"
        "kafka: {raw_topic: from-file, partitions: 2}\n"
        "connectors:\n"
        "  - {source: hackernews, name: hn-veloxa, options: {query: veloxa, poll_interval_s: 60}}\n"
        "  - {source: demo}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LUISTER_KAFKA__PARTITIONS", "8")
    settings = load_settings(config)
    assert settings.brands == Path("brands.yaml")
    assert (settings.kafka.raw_topic, settings.kafka.partitions) == ("from-file", 8), "env overrides the file"
    assert [(c.source, c.name, c.options) for c in settings.connectors] == [
        ("hackernews", "hn-veloxa", {"query": "veloxa", "poll_interval_s": 60}),
        ("demo", None, {}),
    ]
    assert load_settings().connectors == [], "no file: no connectors"
    monkeypatch.setenv("LUISTER_CONFIG", str(config))
    assert load_settings().kafka.raw_topic == "from-file"
    monkeypatch.setenv("LUISTER_CONFIG", str(tmp_path / "nope.yaml"))
    with pytest.raises(SettingsFileError):
        load_settings()


def test_luister_run_starts_configured_connectors_and_the_demo_only_without_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.embedded

    for key in [k for k in os.environ if k.startswith(("LUISTER_", "KAFKA_"))]:
        monkeypatch.delenv(key)
    calls: list[tuple[list[str], bool]] = []

    def fake_run_embedded(settings: object, demo: object) -> int:
        calls.append(([c.source for c in settings.connectors], demo is not None))  # type: ignore[attr-defined]
        return 0

    monkeypatch.setattr(pipeline.embedded, "run_embedded", fake_run_embedded)
    with_connectors = tmp_path / "with.yaml"
    with_connectors.write_text("connectors:\n  - {source: replay, options: {path: x.jsonl}}\n", encoding="utf-8")
    empty = tmp_path / "empty.yaml"
    empty.write_text("kafka: {partitions: 2}\n", encoding="utf-8")
    runner = CliRunner()
    for args in (
        ["--config", str(with_connectors)],
        ["--config", str(with_connectors), "--demo"],
        ["--config", str(empty)],
        ["--config", str(empty), "--no-demo"],
    ):
        result = runner.invoke(main, ["run", "--data-dir", str(tmp_path / "data"), *args])
        assert result.exit_code == 0, result.output
    assert calls == [(["replay"], False), (["replay"], True), ([], True), ([], False)]


def test_luister_run_refuses_a_bad_connector_before_starting_anything(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("connectors:\n  - {source: demo, name: a}\n  - {source: demo, name: a}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--data-dir", str(tmp_path / "data"), "--config", str(config)])
    assert result.exit_code != 0 and "connector names must be unique; repeated: a" in result.output
    assert not (tmp_path / "data" / "broker").exists(), "no broker was started"
