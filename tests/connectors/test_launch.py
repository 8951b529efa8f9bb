"""The brand filter the runner applies before publishing: the shipped demo brand file, and errors that say where."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.launch import BrandQueriesError, brand_filter
from pipeline.schema import Author, Mention

DEMO_BRANDS = Path(__file__).resolve().parents[2] / "connectors" / "resources" / "demo_brands.yaml"


def post(n: int, text: str) -> Mention:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    return Mention(
        id=f"test:{n}",
        source="test",
        platform="mastodon",
        author=Author(handle="someone"),
        text=text,
        created_at=now,
        fetched_at=now,
    )


def test_no_brand_file_keeps_everything() -> None:
    assert brand_filter(None) is None


def test_demo_brands_keep_matches_with_their_match_type_and_drop_the_rest() -> None:
    select = brand_filter(DEMO_BRANDS)
    assert select is not None
    tagged = select(post(1, "Waar blijft mijn fiets, @veloxa?"))
    assert tagged is not None
    assert [(b.brand, b.match_type, b.competitor) for b in tagged.brands] == [("Veloxa", "tagged", False)]
    competitor = select(post(2, "Mijn #trekko doet het prima, beter dan die Veloxa"))
    assert competitor is not None
    assert sorted((b.brand, b.match_type, b.competitor) for b in competitor.brands) == [
        ("Trekko", "hashtag", True),
        ("Veloxa", "untagged", False),
    ]
    assert select(post(3, "Het regent al de hele dag in Utrecht")) is None


def test_a_bad_query_names_the_file_brand_and_position(tmp_path: Path) -> None:
    bad = tmp_path / "brands.yaml"
    bad.write_text("brands:\n  - brand: Acme\n    query: 'acme AND (rockets OR'\n", encoding="utf-8")
    with pytest.raises(BrandQueriesError) as error:
        brand_filter(bad)
    message = str(error.value)
    assert str(bad) in message and "Acme" in message and "position" in message
