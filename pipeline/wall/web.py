"""The wall page's web views on the worker: thin shells around :mod:`pipeline.wall.data` and the package's files.

- ``GET /wall``: the page (``?brand=..&hours=..`` are read by its script);
- ``GET /wall/data?brand=..&hours=..``: the panels' data as JSON (400 for a bad request, 503 when the engine
  cannot answer);
- ``GET /wall/static/<path>``: the page's script and style and the vendored uPlot (404 for anything else).

Queries run on the worker's database threads (``blocking``), never on the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import faust
from faust.web import Request, Response, View

from pipeline.schema import utcnow
from pipeline.wall.assets import Asset, page, static_asset
from pipeline.wall.cache import TtlCache
from pipeline.wall.data import QueryRunner, wall_data
from pipeline.wall.panels import WallRequest, WallRequestError, parse_request

log = logging.getLogger("luister.wall")

Blocking = Callable[..., Awaitable[Any]]
"""Runs a blocking function with its arguments on the worker's database threads."""
CACHE_S = 5.0
"""Answers are shared this long between walls asking for the same brand and range (pages refresh every 15 s)."""


def add_wall_pages(
    app: faust.App, run: QueryRunner, blocking: Blocking, clock: Callable[[], datetime] = utcnow
) -> None:
    """Register the wall's views on ``app``; ``run`` is the worker's read-only SQL runner."""
    answers: TtlCache[WallRequest, dict[str, Any]] = TtlCache(CACHE_S)

    def send(view: View, asset: Asset, cache: str) -> Response:
        # aiohttp refuses a charset inside content_type=, so the header is set whole.
        return view.bytes(asset.body, headers={"Content-Type": asset.content_type, "Cache-Control": cache})

    @app.page("/wall")
    class WallPage(View):
        async def get(self, request: Request) -> Response:
            return send(self, page(), "no-cache")

    @app.page("/wall/data")
    class WallData(View):
        async def get(self, request: Request) -> Response:
            try:
                wanted = parse_request(request.query)
            except WallRequestError as exc:
                return self.json({"error": str(exc)}, status=400)
            body = answers.get(wanted)
            if body is None:
                try:
                    body = await blocking(wall_data, run, wanted, clock())
                except Exception as exc:
                    return self.json({"error": f"the database did not answer: {exc}"}, status=503)
                answers.put(wanted, body)
                if body["errors"]:
                    log.warning("wall page: panel queries failed: %s", body["errors"])
            return self.json(body, headers={"Cache-Control": "no-store"})

    @app.page("/wall/static/{path:.+}")
    class WallStatic(View):
        async def get(self, request: Request, path: str) -> Response:
            asset = static_asset(path)
            if asset is None:
                return self.json({"error": "not found"}, status=404)
            return send(self, asset, "no-cache")
