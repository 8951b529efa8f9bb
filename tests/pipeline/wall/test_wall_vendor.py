"""The vendored chart library is the release its README names, byte for byte (scripts/vendor_wall_js.sh)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
VENDOR = REPO / "pipeline" / "wall" / "static" / "vendor"


def recorded() -> tuple[str, dict[str, str]]:
    readme = (VENDOR / "README.md").read_text()
    version = re.search(r"^version: (\S+)$", readme, re.M)
    assert version is not None
    sums = dict(re.findall(r"^\| `([^`]+)` \| `[^`]+` \| `([0-9a-f]{64})` \|$", readme, re.M))
    return version.group(1), sums


def test_vendored_files_match_the_recorded_sha256() -> None:
    _, sums = recorded()
    assert set(sums) == {"uPlot.iife.min.js", "uPlot.min.css", "LICENSE"}
    for name, expected in sums.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == expected, name
    vendored = {p.name for p in VENDOR.iterdir()} - {"README.md"}
    assert vendored == set(sums), "every vendored file is recorded, and nothing else lies there"


def test_the_pinned_version_is_the_one_vendored() -> None:
    version, _ = recorded()
    assert f"UPLOT_VERSION ?= {version}" in (REPO / "Makefile").read_text()
    assert f'VERSION="${{1:-{version}}}"' in (REPO / "scripts" / "vendor_wall_js.sh").read_text()
    # The library states its version in its banner; the licence is MIT.
    banner = (VENDOR / "uPlot.iife.min.js").read_text().splitlines()[0]
    assert banner == f"/*! https://github.com/leeoniya/uPlot (v{version}) */"
    assert (VENDOR / "LICENSE").read_text().startswith("The MIT License")
