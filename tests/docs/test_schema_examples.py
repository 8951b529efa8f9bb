"""docs/schema.md cannot drift: its column tables match the live schema and every example query runs.

The examples and tables are read from the markdown itself, run on the embedded engine over the demo data set
(``tests/demo_dataset.py``: eight days of mentions up to the current hour, so ``now()``-relative queries find data).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client
from demo_dataset import DemoDataset, demo_database

from pipeline.storage import run_readonly

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"
DB = "luister"


def sections(markdown: str, level: str) -> list[tuple[str, str]]:
    """(heading, body) for every heading of exactly ``level`` (``"##"``, ``"###"``)."""
    parts = re.split(rf"^{level} (.+)$", markdown, flags=re.MULTILINE)
    return [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts), 2)]


def examples() -> list[tuple[str, str]]:
    (body,) = [b for h, b in sections(DOC.read_text(encoding="utf-8"), "##") if h == "Example questions"]
    found = []
    for heading, text in sections(body, "###"):
        blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.DOTALL)
        assert len(blocks) == 1, f"example {heading!r} needs exactly one sql block"
        found.append((heading, blocks[0]))
    return found


def documented_columns() -> dict[str, list[tuple[str, str]]]:
    """Table/view name (every `name` in a ## heading) → the (column, type) rows of the section's column table."""
    tables = {}
    for heading, body in sections(DOC.read_text(encoding="utf-8"), "##"):
        for name in re.findall(r"`(\w+)`", heading):
            tables[name] = re.findall(r"^\| `([\w.]+)` \| `([^`]+)` \|", body, flags=re.MULTILINE)
    return tables


EXAMPLES = examples()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, DemoDataset]]:
    with demo_database(tmp_path_factory.mktemp("schema-doc"), DB) as opened:
        yield opened


def test_there_are_a_dozen_examples() -> None:
    assert len(EXAMPLES) >= 12
    assert [h.split(".")[0] for h, _ in EXAMPLES] == [str(n) for n in range(1, len(EXAMPLES) + 1)]


@pytest.mark.parametrize(("heading", "sql"), EXAMPLES, ids=[h for h, _ in EXAMPLES])
def test_example_runs_read_only_and_answers(demo: tuple[Client, DemoDataset], heading: str, sql: str) -> None:
    client, _ = demo
    result = run_readonly(client, sql, database=DB)
    assert result.rows, f"example {heading!r} returned nothing over the demo data"
    for row in result.rows:
        for value in row:
            assert not (isinstance(value, float) and math.isnan(value)), f"{heading}: NaN in {row}"


def describe(client: Client, name: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in client.query(f"DESCRIBE TABLE {DB}.{name}").result_rows]


def test_every_table_and_view_is_documented(demo: tuple[Client, DemoDataset]) -> None:
    client, _ = demo
    live = {r[0] for r in client.query(f"SHOW TABLES FROM {DB}").result_rows}
    assert live <= set(documented_columns())


@pytest.mark.parametrize(
    "name",
    [
        "mentions_v",
        "sentiment_minute_v",
        "sentiment_minute",
        "incidents_v",
        "incident_events",
        "alert_deliveries",
        "schema_migrations",
    ],
)
def test_column_tables_match_the_schema(demo: tuple[Client, DemoDataset], name: str) -> None:
    assert documented_columns()[name] == describe(demo[0], name)


def test_mentions_table_and_mention_brands_v_are_documented_through_mentions_v(
    demo: tuple[Client, DemoDataset],
) -> None:
    client, _ = demo
    docs = documented_columns()
    assert describe(client, "mentions") == docs["mentions_v"]
    dropped = {"embedding", "brands.brand", "brands.match_type", "brands.competitor"}
    expected = [c for c in docs["mentions_v"] if c[0] not in dropped] + docs["mention_brands_v"]
    assert describe(client, "mention_brands_v") == expected
