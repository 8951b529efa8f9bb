"""Write the dashboards' JSON (``dashboards/generated/<uid>.json``), or check that the committed files are current.

The JSON is deterministic: keys sorted, two-space indent, a final newline, nothing time- or host-dependent, so
regenerating gives byte-identical files and a stale file is a failing ``--check`` (and test).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards.grafana.boards import DASHBOARDS

GENERATED = Path(__file__).resolve().parent / "generated"


def render_all() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    return {f"{uid}.json": dashboard_json(uid) for uid in DASHBOARDS}


def dashboard_json(uid: str) -> str:
    board = DASHBOARDS[uid]().build()
    # Stable panel ids (Grafana's links to a panel, ?viewPanel=N, use them): their order on the dashboard.
    for number, panel in enumerate(board.panels or [], start=1):
        panel.id_val = number
    return json.dumps(board, cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True, slots=True)
class Outcome:
    written: list[Path]
    stale: list[Path]
    """With ``check``: files that differ from what the code generates (or are missing, or not generated)."""


def generate(directory: Path = GENERATED, *, check: bool = False) -> Outcome:
    """Write every dashboard into ``directory`` (removing JSON files no dashboard produces), or with ``check``
    only compare and report what is stale."""
    wanted = render_all()
    stale: list[Path] = []
    written: list[Path] = []
    for name, text in wanted.items():
        path = directory / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if check:
            stale.append(path)
        else:
            directory.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    for extra in sorted(directory.glob("*.json")) if directory.exists() else []:
        if extra.name not in wanted:
            if check:
                stale.append(extra)
            else:
                extra.unlink()
    return Outcome(written=written, stale=stale)
