"""The wall page and its static files, read from the package (``pipeline/wall/static``, shipped as package data).

Only files listed at start-up with a known type are served, looked up by their exact relative path: a request
for anything else (``..``, an absolute path, a README) is simply not in the listing, so nothing outside the
directory can be reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

PAGE = "wall.html"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
"""What ``/wall/static/`` serves; the page itself is ``/wall``."""
HTML_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str


def static_root() -> Traversable:
    return resources.files("pipeline.wall") / "static"


def _walk(directory: Traversable, prefix: str) -> dict[str, Traversable]:
    found: dict[str, Traversable] = {}
    for entry in directory.iterdir():
        if entry.is_dir():
            found.update(_walk(entry, f"{prefix}{entry.name}/"))
        elif entry.is_file():
            found[f"{prefix}{entry.name}"] = entry
    return found


@cache
def listing() -> dict[str, Traversable]:
    """Relative path → file, for every servable static file (by extension)."""
    return {
        path: entry
        for path, entry in _walk(static_root(), "").items()
        if any(path.endswith(ext) for ext in CONTENT_TYPES)
    }


def static_asset(path: str) -> Asset | None:
    """The static file at ``path`` (as in ``/wall/static/<path>``), or None when it is not one we serve."""
    entry = listing().get(path)
    if entry is None:
        return None
    suffix = path[path.rfind(".") :]
    return Asset(entry.read_bytes(), CONTENT_TYPES[suffix])


def page() -> Asset:
    """The wall page's HTML."""
    return Asset((static_root() / PAGE).read_bytes(), HTML_TYPE)
