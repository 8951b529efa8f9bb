"""A readable summary of classification results for a terminal: one row per post, then totals."""

from __future__ import annotations

from collections import Counter
from typing import Any


class TableReport:
    def __init__(self, text_width: int = 48) -> None:
        self.rows: list[dict[str, Any]] = []
        self.text_width = text_width

    def add(self, result: dict[str, Any]) -> None:
        self.rows.append(result)

    def render(self) -> str:
        header = f"{'id':<8} {'lang':<4} {'sentiment':<18} {'intent':<11} topics"
        lines = [header, "-" * len(header)]
        by_lang: Counter[str] = Counter()
        by_sentiment: Counter[tuple[str, str]] = Counter()
        errors = 0
        for row in self.rows:
            if "error" in row:
                errors += 1
                lines.append(f"{row['id']:<8} error: {row['error']}")
                continue
            sentiment = row["sentiment"]
            score = sentiment["scores"][sentiment["label"]]
            topics = ", ".join(t["topic"] for t in row["topics"]) or "-"
            label = f"{sentiment['label']} {score:.2f}"
            lines.append(f"{row['id']:<8} {row['lang']:<4} {label:<18} {row['intent']['label']:<11} {topics}")
            by_lang[row["lang"]] += 1
            by_sentiment[(row["lang"], sentiment["label"])] += 1
        lines.append("")
        lines.append("per language: negative / neutral / positive")
        for lang, total in sorted(by_lang.items()):
            counts = " / ".join(str(by_sentiment[(lang, s)]) for s in ("negative", "neutral", "positive"))
            lines.append(f"  {lang:<4} {total:>5} posts   {counts}")
        lines.append(f"{len(self.rows)} posts, {errors} not classifiable")
        return "\n".join(lines) + "\n"
