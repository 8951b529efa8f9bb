"""The model in a child process: a :class:`~pipeline.steps.enrich.Predictor` whose ``predict`` runs elsewhere.

Why: isolation. A crash in the model's native code, an out-of-memory kill or a leak costs a model restart, not
the worker (whose offsets, dedup window and detector stay up), and the worker never imports torch. Throughput is
the same as in-process within noise, measured on the same texts (docs/architecture.md, "Throughput"; an earlier
claim that the GIL made the in-process model slower came from a benchmark that compared different texts).

Contract:
- ``predict(texts)`` returns exactly what :meth:`models.classifier.Classifier.predict` returns in the child.
- An exception the model raises on a batch is raised here as :class:`ModelCallError` (the enrich step then
  retries mention by mention, as it does in-process); the child keeps serving.
- If the child dies (killed, out of memory, a crash in native code) it is started again and the batch is sent
  once more; if it dies on that batch too, :class:`ModelProcessDiedError` is raised for the batch. If it cannot be
  started again, :class:`ModelRestartError` (a :class:`~pipeline.steps.enrich.ModelUnavailableError`) is raised
  and the next call tries again.
- The child stops when the parent closes the pipe, and also when the parent dies (it reads end-of-file), so a
  SIGKILLed worker leaves no model process behind. It ignores SIGINT: Ctrl-C reaches the whole process group,
  and the worker decides when the model stops.

Wire format, both directions: 8-byte big-endian length, then a pickle. Both ends are this module, started from
the same interpreter, so pickle is safe here; the child's stdout carries only frames (anything the libraries
print goes to stderr).
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from models.predictions import Predictions
from pipeline.settings import ModelSettings
from pipeline.steps.enrich import ModelUnavailableError

log = logging.getLogger("luister.model")

_HEADER = struct.Struct(">Q")


class ModelProcessError(RuntimeError):
    """The model process could not be started or answered with something unexpected."""


class ModelRestartError(ModelProcessError, ModelUnavailableError):
    """Starting the model process again failed: no batch can be answered until a later attempt works."""


class ModelProcessDiedError(ModelProcessError):
    """The model process died while handling a batch, twice in a row."""


class ModelCallError(RuntimeError):
    """The model raised on a batch (in the child); the message is the child's ``repr`` of the exception."""


@dataclass(frozen=True)
class ModelInfo:
    """What the child loaded; sent once, when it is ready."""

    model_name: str
    device: str
    precision: str


def write_frame(stream: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """The next object; :class:`EOFError` when the other end has closed."""
    header = _read_exactly(stream, _HEADER.size)
    return pickle.loads(_read_exactly(stream, _HEADER.unpack(header)[0]))


def _read_exactly(stream: IO[bytes], n: int) -> bytes:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError("model process pipe closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class ModelProcess:
    """A child process holding the classifier; ``predict`` is called from one thread at a time (a lock enforces it)."""

    def __init__(self, settings: ModelSettings, start_timeout_s: float = 900) -> None:
        self.settings = settings
        self.start_timeout_s = start_timeout_s
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.info = self._start()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def predict(self, texts: Sequence[str]) -> Predictions:
        with self._lock:
            for attempt in (1, 2):
                if self._proc is None or self._proc.poll() is not None:
                    self._restart()
                try:
                    kind, payload = self._call(list(texts))
                except (EOFError, BrokenPipeError, OSError) as exc:
                    code = self._reap()
                    log.error("model process died during a batch of %d (exit %s, %r)", len(texts), code, exc)
                    if attempt == 2:
                        raise ModelProcessDiedError(f"model process died twice on a batch of {len(texts)}") from exc
                    continue
                if kind == "error":
                    raise ModelCallError(payload)
                if not isinstance(payload, Predictions):
                    raise ModelProcessError(f"model process answered {kind!r} with {type(payload).__name__}")
                return payload
        raise AssertionError("unreachable")

    def close(self, timeout_s: float = 5) -> None:
        """Stop the child: close its input (it exits at end-of-file); kill it if it has not after ``timeout_s``."""
        with self._lock:
            self._reap(timeout_s)

    def __enter__(self) -> ModelProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ internals
    def _call(self, texts: list[str]) -> tuple[str, Any]:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        write_frame(proc.stdin, texts)
        reply = read_frame(proc.stdout)
        if not (isinstance(reply, tuple) and len(reply) == 2):
            raise ModelProcessError(f"model process sent {type(reply).__name__}, not (kind, payload)")
        return reply

    def _start(self) -> ModelInfo:
        proc = subprocess.Popen(
            # Not ``-m``: run as __main__, the child would pickle ModelInfo as __main__.ModelInfo.
            [sys.executable, "-c", "import sys; from pipeline.model_process import main; sys.exit(main())"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            write_frame(proc.stdin, self.settings.model_dump_json())
        except BrokenPipeError as exc:
            raise ModelProcessError(f"model process exited at start (exit {self._reap()})") from exc
        ready: list[Any] = []
        reader = threading.Thread(target=lambda: ready.append(self._read_ready(proc)), daemon=True)
        reader.start()
        reader.join(self.start_timeout_s)
        if not ready:
            proc.kill()
            reader.join(5)
            self._reap()
            raise ModelProcessError(f"model process not ready after {self.start_timeout_s:.0f}s")
        kind, payload = ready[0]
        if kind != "ready":
            code = self._reap()
            raise ModelProcessError(f"model process failed to load the model (exit {code}): {payload}")
        return payload  # type: ignore[no-any-return]

    @staticmethod
    def _read_ready(proc: subprocess.Popen[bytes]) -> tuple[str, Any]:
        assert proc.stdout is not None
        try:
            reply = read_frame(proc.stdout)
        except EOFError:
            return ("exited", "the process ended before it was ready (its stderr says why)")
        except Exception as exc:  # reported by the caller as a failed start
            return ("bad", repr(exc)[:200])
        if isinstance(reply, tuple) and len(reply) == 2:
            return reply
        return ("bad", repr(reply)[:200])

    def _restart(self) -> None:
        self._reap()
        self.restarts += 1
        started = time.perf_counter()
        try:
            self.info = self._start()
        except ModelProcessError as exc:
            raise ModelRestartError(str(exc)) from exc
        log.warning("model process restarted (%d so far) in %.1fs", self.restarts, time.perf_counter() - started)

    def _reap(self, timeout_s: float = 10) -> int | None:
        """Close the pipes and wait for the child (killing it after ``timeout_s``); its exit code, if there was one."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        try:
            return proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()


# ---------------------------------------------------------------------------------------------- the child
def serve(inp: IO[bytes], out: IO[bytes]) -> int:
    """The child's loop: settings, then one (kind, payload) reply per list of texts, until end-of-file."""
    from pipeline.cli import build_classifier

    settings = ModelSettings.model_validate_json(read_frame(inp))
    try:
        classifier = build_classifier(settings, progress=False)
    except Exception as exc:  # the parent reports it; the traceback goes to our stderr
        logging.getLogger("luister.model").exception("loading the model failed")
        write_frame(out, ("error", repr(exc)))
        return 1
    encoder = classifier.encoder
    info = ModelInfo(encoder.model_name, str(encoder.device), str(encoder.precision))
    write_frame(out, ("ready", info))
    while True:
        try:
            texts = read_frame(inp)
        except EOFError:
            return 0
        try:
            reply: tuple[str, Any] = ("ok", classifier.predict(texts))
        except Exception as exc:  # one bad batch must not end the model process
            reply = ("error", repr(exc)[:2000])
        write_frame(out, reply)


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Frames own the real stdout; whatever a library prints lands on stderr instead of corrupting them.
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return serve(sys.stdin.buffer, out)
