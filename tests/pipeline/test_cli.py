"""The luister CLI, run as a user would (click's runner, real model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("classify", "train", "eval", "models"):
        assert command in result.output


@pytest.mark.slow
def test_classify_jsonl_never_drops_a_line(tmp_path: Path) -> None:
    source = tmp_path / "posts.jsonl"
    source.write_bytes(
        b'{"id": "x1", "text": "Waarom is mijn bestelling nog steeds niet verzonden?"}\n'
        b'{"id": "x2", "text": ""}\n'
        b"\xff\xfe\n"
        b'{"id": "x3", "text": "Best customer service ever, thank you!"}\n'
    )
    result = CliRunner().invoke(main, ["classify", str(source), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert [x.get("id") for x in lines] == ["x1", "x2", "3", "x3"]
    assert lines[0]["lang"] == "nl"
    assert lines[0]["intent"]["label"] in {"complaint", "question", "praise", "suggestion", "other"}
    assert "error" in lines[1] and "UTF-8" in lines[2]["error"]
    assert lines[3]["sentiment"]["label"] == "positive"
