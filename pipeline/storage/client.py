"""Opening the database: the embedded chDB engine in ``<data_dir>/clickhouse``, or a ClickHouse server over HTTP.

The rest of the storage layer takes the returned clickhouse-connect client and never asks which kind it is
(``query.py`` is the one exception, for chDB's readonly handling). All SQL names its database explicitly
(``db.table``), so the client's default database does not matter to luister's own code.

chDB rules (clickhouse-connect 1.12 + chdb 4.4, verified):

- One engine per process, on one path. Any number of clients may share it; opening a *different* path while
  one is open fails, but after every client on it is closed the process may open another path, or reopen it.
- Only one process may open a path: a second process fails while the first holds ``DIR/status`` locked
  (``flock``). chDB reports that as a bare "Error initializing EmbeddedServer"; we probe the lock ourselves
  to say which process holds it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from pipeline.settings import ClickHouseSettings
from pipeline.storage.errors import StorageUnavailableError

EMBEDDED_SUBDIR = "clickhouse"
TZ_MODE = "aware"
"""Query results carry timezone-aware UTC datetimes, like every record in luister (naive ones are never guessed)."""
_OTHER_PATH = re.compile(r"already initialized with path '([^']*)'")


def embedded_path(data_dir: Path) -> Path:
    """Where the embedded engine keeps its data under luister's data directory."""
    return data_dir / EMBEDDED_SUBDIR


def open_client(settings: ClickHouseSettings, data_dir: Path) -> Client:
    """A client for ``settings.url`` (HTTP), or for the embedded engine in ``data_dir/clickhouse`` when it is unset.

    The client is safe to share between threads and returns aware UTC datetimes. Raises
    ``StorageUnavailableError`` with an actionable message when the embedded path is held by another process or
    this process has another path open, or when the server cannot be reached.
    """
    if settings.url is None:
        return _open_embedded(embedded_path(data_dir))
    return _open_http(settings.url)


def _open_embedded(path: Path) -> Client:
    path.mkdir(parents=True, exist_ok=True)
    try:
        return clickhouse_connect.get_client(interface="chdb", path=str(path), tz_mode=TZ_MODE)
    except ClickHouseError as exc:
        holder = lock_holder(path)
        if holder is not None:
            raise StorageUnavailableError(
                f"another luister process ({holder}) holds {path}; use `luister sql` through it, or stop it first"
            ) from exc
        other = _OTHER_PATH.search(str(exc))
        if other:
            raise StorageUnavailableError(
                f"this process already has the embedded engine open at {other.group(1)}; chDB allows one path "
                f"per process, so close every client on it before opening {path}"
            ) from exc
        raise StorageUnavailableError(f"cannot open the embedded ClickHouse engine at {path}: {exc}") from exc


def lock_holder(path: Path) -> str | None:
    """``"pid N"`` (or ``"unknown pid"``) if another process holds the engine lock on ``path``, else None.

    Probing takes and drops the same ``flock`` the engine takes. Only meaningful when this process does not
    itself have ``path`` open: a second ``flock`` in the engine's own process would also conflict.
    """
    status = path / "status"
    try:
        fd = os.open(status, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            pid = re.search(r"PID:\s*(\d+)", status.read_text(errors="replace"))
            return f"pid {pid.group(1)}" if pid else "unknown pid"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _open_http(url: str) -> Client:
    try:
        # No HTTP session: ClickHouse refuses concurrent queries in one session, and the writer thread and the
        # SQL endpoint share this client.
        return clickhouse_connect.get_client(dsn=url, autogenerate_session_id=False, tz_mode=TZ_MODE)
    except ClickHouseError as exc:
        raise StorageUnavailableError(f"cannot reach ClickHouse at {redact_url(url)}: {exc}") from exc


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
