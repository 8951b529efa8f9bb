"""Where ``luister sql`` sends a query: the configured server, the running local worker, or the embedded data."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import httpx

from pipeline.runner import runtime_file
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.storage.query import QueryResult


class SqlError(RuntimeError):
    pass


def query_anywhere(settings: Settings, query: str, timeout_s: float = 60.0) -> dict[str, Any]:
    """``{"columns": [...], "types": [...], "rows": [[...], ...], "truncated": bool}``.

    Raises :class:`SqlError` with a message for a person.
    """
    running = _running_worker(settings)
    if running is not None and settings.clickhouse.url is None:
        response = _post(running, query, "json", timeout_s)
        return dict(response.json())
    result = _run_here(settings, query)
    return {
        "columns": list(result.columns),
        "types": list(result.types),
        "rows": [list(r) for r in result.rows],
        "truncated": result.truncated,
    }


def parquet_anywhere(settings: Settings, query: str, timeout_s: float = 60.0) -> tuple[bytes, bool]:
    """The result as a Parquet file, and whether the row bound cut it. Same routing as :func:`query_anywhere`."""
    running = _running_worker(settings)
    if running is not None and settings.clickhouse.url is None:
        response = _post(running, query, "parquet", timeout_s)
        return response.content, response.headers.get("X-Luister-Truncated") == "1"
    from pipeline.storage.export import parquet_bytes

    result = _run_here(settings, query)
    return parquet_bytes(result.columns, result.types, result.rows), result.truncated


def _post(running: str, query: str, fmt: str, timeout_s: float) -> httpx.Response:
    try:
        response = httpx.post(f"{running}/sql", params={"format": fmt}, content=query.encode(), timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise SqlError(f"the running pipeline at {running} did not answer: {exc}") from exc
    if response.status_code != 200:
        try:
            message = str(response.json().get("error", response.text))
        except ValueError:
            message = response.text
        raise SqlError(message)
    return response


def _run_here(settings: Settings, query: str) -> QueryResult:
    from pipeline.storage.client import open_client
    from pipeline.storage.query import run_readonly

    if settings.clickhouse.url is None and not (settings.data_dir / "clickhouse").exists():
        raise SqlError(f"no data in {settings.data_dir}: start the pipeline first (`luister run`)")
    try:
        client = open_client(settings.clickhouse, settings.data_dir)
        return run_readonly(client, query, database=settings.clickhouse.database)
    except Exception as exc:
        raise SqlError(str(exc)) from exc


def _running_worker(settings: Settings) -> str | None:
    path = runtime_file(settings)
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return str(info["web"])
