"""The model in a child process (pipeline/model_process.py): same answers, survives its child, leaves none behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pipeline.model_process import ModelCallError, ModelProcess, ModelProcessError, ModelRestartError
from pipeline.settings import ModelSettings

TEXTS = [
    "Ik ben zo boos op KPN, al drie dagen geen internet!",
    "Love the new Bol app, checkout is so fast now",
    "Der Kundendienst hat mir sofort geholfen, danke",
    "",
    "¿Alguien más sin cobertura hoy?",
]


@pytest.fixture(scope="module")
def model_settings(tiny_models: dict[str, str]) -> ModelSettings:
    return ModelSettings(
        encoder=tiny_models["encoder"],
        sentiment_model=tiny_models["sentiment"],
        adapters=None,
        sentiment_head=None,
        device="cpu",
        threads=1,
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): it has exited, only its parent has not reaped it yet.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][:1] != "Z"


@pytest.fixture(scope="module")
def child(model_settings: ModelSettings) -> Iterator[ModelProcess]:
    """One child for the tests below (each start imports torch: seconds); the last of them kills and closes it."""
    with ModelProcess(model_settings) as process:
        yield process


def wait_gone(pid: int, timeout_s: float = 20) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_child_answers_exactly_what_the_model_answers_in_process(
    model_settings: ModelSettings, child: ModelProcess
) -> None:
    from pipeline.cli import build_classifier

    inline = build_classifier(model_settings, progress=False).predict(TEXTS)
    assert child.info.device == "cpu"
    remote = child.predict(TEXTS)
    assert remote.lang == inline.lang and remote.sentiment == inline.sentiment and remote.intent == inline.intent
    assert remote.topics == inline.topics and remote.truncated == inline.truncated
    np.testing.assert_allclose(remote.embeddings, inline.embeddings, rtol=0, atol=1e-6)
    np.testing.assert_allclose(remote.sentiment_scores, inline.sentiment_scores, rtol=0, atol=1e-6)


def test_a_batch_the_model_rejects_is_an_error_and_the_child_keeps_serving(child: ModelProcess) -> None:
    pid = child.pid
    with pytest.raises(ModelCallError):
        child.predict([None])  # type: ignore[list-item]  # the tokenizer raises on a non-string
    assert len(child.predict(TEXTS).lang) == len(TEXTS)
    assert child.pid == pid and child.restarts == 0


def test_killed_child_is_restarted_and_the_batch_answered_then_close_ends_it(child: ModelProcess) -> None:
    first = child.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    assert wait_gone(first)
    predictions = child.predict(TEXTS[:2])
    assert len(predictions.sentiment) == 2
    second = child.pid
    assert child.restarts == 1 and second is not None and second != first and alive(second)

    good = child.settings
    child.settings = good.model_copy(update={"encoder": "/nonexistent/model"})
    os.kill(second, signal.SIGKILL)
    assert wait_gone(second)
    with pytest.raises(ModelRestartError):  # the worker retries these later instead of dead-lettering
        child.predict(TEXTS[:1])
    child.settings = good
    assert len(child.predict(TEXTS[:1]).lang) == 1  # the next call starts it again
    second = child.pid
    assert second is not None
    child.close()
    assert not alive(second)
    child.close()  # twice is harmless


def test_a_model_that_cannot_load_fails_the_start_with_the_reason(tmp_path: Path) -> None:
    settings = ModelSettings(encoder=str(tmp_path / "no-such-model"), adapters=None, device="cpu", threads=1)
    with pytest.raises(ModelProcessError, match="failed to load the model"):
        ModelProcess(settings, start_timeout_s=120)


def test_child_exits_when_its_parent_is_killed(model_settings: ModelSettings, tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pipeline.model_process import ModelProcess\n"
        "from pipeline.settings import ModelSettings\n"
        f"m = ModelProcess(ModelSettings.model_validate_json({model_settings.model_dump_json()!r}))\n"
        "print(m.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        assert alive(child_pid)
        parent.kill()
        parent.wait(10)
        assert wait_gone(child_pid), "the model process outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_the_worker_process_does_not_import_torch() -> None:
    code = "import sys, pipeline.app, pipeline.runner, pipeline.embedded; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
