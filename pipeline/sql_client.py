"""Where ``luister sql`` sends a query: the configured server, the running local worker, or the embedded data."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

from pipeline.runner import runtime_file
from pipeline.settings import Settings


class SqlError(RuntimeError):
    pass


def query_anywhere(settings: Settings, query: str, timeout_s: float = 60.0) -> dict[str, Any]:
    """``{"columns": [...], "rows": [[...], ...]}``. Raises :class:`SqlError` with a message for a person."""
    running = _running_worker(settings)
    if running is not None and settings.clickhouse.url is None:
        try:
            response = httpx.post(f"{running}/sql", content=query.encode(), timeout=timeout_s)
        except httpx.HTTPError as exc:
            raise SqlError(f"the running pipeline at {running} did not answer: {exc}") from exc
        body = response.json()
        if response.status_code != 200:
            raise SqlError(body.get("error", response.text))
        return dict(body)
    from pipeline.storage.client import open_client
    from pipeline.storage.query import run_readonly

    if settings.clickhouse.url is None and not (settings.data_dir / "clickhouse").exists():
        raise SqlError(f"no data in {settings.data_dir}: start the pipeline first (`luister run`)")
    try:
        client = open_client(settings.clickhouse, settings.data_dir)
        result = run_readonly(client, query, database=settings.clickhouse.database)
    except Exception as exc:
        raise SqlError(str(exc)) from exc
    return {"columns": list(result.columns), "rows": [list(r) for r in result.rows]}


def _running_worker(settings: Settings) -> str | None:
    path = runtime_file(settings)
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return str(info["web"])
