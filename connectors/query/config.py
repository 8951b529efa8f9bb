"""The YAML brand file: a ``brands:`` list, one entry per brand (format and examples: docs/queries.md)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.query.queryset import BrandQuery
from connectors.query.syntax import QuerySyntaxError


class BrandEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    brand: str = Field(min_length=1, max_length=256)
    query: str
    competitor: bool = False
    competitive_set: str | None = None
    langs: list[str] = Field(default_factory=list)
    platforms: list[str] = Field(default_factory=list)


class BrandFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    competitive_set: str | None = Field(None, description="default for entries that name none")
    brands: list[BrandEntry] = Field(min_length=1)


def load_brand_queries(path: str | Path) -> list[BrandQuery]:
    """The queries of the brand file at ``path``. Raises ValueError naming the file (and brand) when the file is
    not valid; a bad query raises its :class:`QuerySyntaxError` with a note saying which brand and file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = BrandFile.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"{path}: not a valid brand file: {exc}") from exc
    queries: list[BrandQuery] = []
    for entry in spec.brands:
        try:
            queries.append(
                BrandQuery(
                    brand=entry.brand,
                    query=entry.query,
                    competitor=entry.competitor,
                    competitive_set=entry.competitive_set or spec.competitive_set,
                    langs=tuple(entry.langs),
                    platforms=tuple(entry.platforms),
                )
            )
        except QuerySyntaxError as exc:
            exc.add_note(f"in the query of brand {entry.brand!r} in {path}")
            raise
    return queries
