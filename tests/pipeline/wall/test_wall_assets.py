"""The page and its static files: served from the package, by exact name, with their types; nothing else."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from pipeline.wall.assets import listing, page, static_asset

REPO = Path(__file__).resolve().parents[3]
STATIC = REPO / "pipeline" / "wall" / "static"


def test_scripts_styles_and_the_vendored_library_are_served_with_their_types() -> None:
    assert set(listing()) == {"wall.js", "wall.css", "vendor/uPlot.iife.min.js", "vendor/uPlot.min.css"}
    js = static_asset("vendor/uPlot.iife.min.js")
    assert js is not None and js.content_type == "text/javascript; charset=utf-8"
    assert js.body == (STATIC / "vendor" / "uPlot.iife.min.js").read_bytes()
    css = static_asset("wall.css")
    assert css is not None and css.content_type == "text/css; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    [
        "../assets.py",
        "vendor/../../assets.py",
        "/etc/passwd",
        "wall.html",  # the page is /wall
        "vendor/README.md",
        "vendor/LICENSE",
        "vendor",
        "",
        "WALL.JS",
        "wall.js/",
    ],
)
def test_anything_else_is_not_found(path: str) -> None:
    assert static_asset(path) is None


def test_the_page_loads_only_files_we_serve_and_nothing_from_outside() -> None:
    html = page()
    assert html.content_type == "text/html; charset=utf-8"
    text = html.body.decode()
    refs = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert refs, "the page loads its script and style"
    for ref in refs:
        assert not re.match(r"^(?:[a-z]+:)?//", ref), f"{ref}: a wall may be offline, load nothing from outside"
        assert ref.startswith("wall/static/"), ref
        assert static_asset(ref.removeprefix("wall/static/")) is not None, ref
    script = (STATIC / "wall.js").read_text()
    html_sinks = re.findall(r"\.(?:inner|outer)HTML\s*[+]?=|insertAdjacentHTML|document\.write", script)
    assert html_sinks == [], "post texts come from the internet: textContent only"
    assert not re.search(r"https?://", script + (STATIC / "wall.css").read_text())


def test_the_package_data_ships_every_static_file() -> None:
    """``pip install .`` must carry the page: every file under static/ matches a package-data pattern."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["pipeline"]
    files = [p.relative_to(REPO / "pipeline").as_posix() for p in STATIC.rglob("*") if p.is_file()]
    assert files
    for file in files:
        assert any(fnmatch(file, pattern) for pattern in patterns), f"{file} is not package data"
