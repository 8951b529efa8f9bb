"""Labelled sentiment data in the UMSAB layout: ``<root>/<language>/{train,val,test}_{text,labels}.txt``.

One post per line in ``*_text.txt``; the same line of ``*_labels.txt`` holds 0 (negative), 1 (neutral) or
2 (positive). The data is read from where the user keeps it; luister never ships it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SENTIMENT_LABELS = ("negative", "neutral", "positive")
LANGUAGE_CODES = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
    "dutch": "nl",
}


@dataclass(frozen=True, slots=True)
class LabelledText:
    text: str
    label: int
    language: str  # the folder name, e.g. "english"


class DatasetError(ValueError):
    """The data directory is missing files or its labels do not line up with its texts."""


def umsab_languages(root: Path) -> list[str]:
    if not root.is_dir():
        raise DatasetError(f"{root} is not a directory")
    langs = sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*_text.txt")))
    if not langs:
        raise DatasetError(f"{root} has no <language>/<split>_text.txt files (UMSAB layout)")
    return langs


def load_umsab(root: Path, split: str, languages: list[str] | None = None) -> list[LabelledText]:
    """All examples of ``split`` for ``languages`` (default: every language folder found)."""
    out: list[LabelledText] = []
    for lang in languages or umsab_languages(root):
        text_path, label_path = root / lang / f"{split}_text.txt", root / lang / f"{split}_labels.txt"
        if not text_path.is_file() or not label_path.is_file():
            raise DatasetError(f"missing {text_path.name} or {label_path.name} in {root / lang}")
        texts = text_path.read_text(encoding="utf-8").split("\n")
        labels = label_path.read_text(encoding="utf-8").split("\n")
        if texts and texts[-1] == "":
            texts.pop()
        if labels and labels[-1] == "":
            labels.pop()
        if len(texts) != len(labels):
            raise DatasetError(f"{lang}/{split}: {len(texts)} texts but {len(labels)} labels")
        for lineno, (text, label) in enumerate(zip(texts, labels, strict=True), start=1):
            if label.strip() not in ("0", "1", "2"):
                raise DatasetError(f"{label_path}:{lineno}: label {label!r} is not 0, 1 or 2")
            out.append(LabelledText(text, int(label), lang))
    return out
