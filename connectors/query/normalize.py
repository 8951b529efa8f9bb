"""Case and accent folding, and the one tokenizer that both queries and mention texts go through.

Folding is ``casefold()`` then NFKD with combining marks removed, so "Café", "CAFÉ" and "cafe" are equal and
"Straße" equals "strasse". A token is a word (letters, digits, ``_``, with their accents), an ``@handle`` (which
may carry dots, dashes and a second ``@`` as in ``@name@instance.social`` or ``@name.bsky.social``) or a
``#hashtag``. Everything else (spaces, punctuation, emoji, apostrophes, hyphens) separates tokens: "e-bike" is the
two tokens ``e`` ``bike``. Tokens are found in the case-folded text and then folded one by one (non-ASCII tokens
only, remembered), which is much cheaper than decomposing every text; a token whose folded form splits (``x½``)
becomes several.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


def _bmp_combining_class() -> str:
    # re has no \p{M}; build the class once from the Unicode database. Only the Basic Multilingual Plane goes in
    # the class: sre matches a BMP-only class with a bitmap, while astral ranges make it scan a list per character.
    ranges: list[tuple[int, int]] = []
    for cp in range(0x10000):
        if unicodedata.combining(chr(cp)):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(f"\\u{a:04x}-\\u{b:04x}" if a != b else f"\\u{a:04x}" for a, b in ranges)


_MARKS = _bmp_combining_class()
_COMBINING_MARKS = re.compile(f"[{_MARKS}]+")
_WORD = rf"[\w{_MARKS}]+"
TOKEN = re.compile(rf"{_WORD}|(?<!\w)[@＠]{_WORD}(?:[.@-]{_WORD})*|(?<!\w)[#＃]{_WORD}")
"""Words, ``@handles`` (``@a.b`` is one token) and ``#hashtags`` (full-width ``＠``/``＃`` too), in case-folded
text; combining marks belong to the word they follow. ``x@y`` is two words, not a handle."""

_ASTRAL_MARK_RANGE = re.compile("[\U000101fd-\U0001e94a]")
"""Where the combining marks outside the BMP lie (Unicode 15: U+101FD–U+1E94A); emoji (U+1F000 on) are above."""


def _drop_astral_mark(match: re.Match[str]) -> str:
    char = match.group()
    return "" if unicodedata.combining(char) else char


def fold(text: str) -> str:
    """Lower-case and strip accents (see the module docstring)."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    # Compatibility decomposition can yield upper case again ("𝑨" → "A"), hence the second casefold.
    folded = _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", folded).casefold())
    # The rare astral combining marks (Brahmi, musical symbols …) are dropped one by one.
    return _ASTRAL_MARK_RANGE.sub(_drop_astral_mark, folded) if _ASTRAL_MARK_RANGE.search(folded) else folded


@lru_cache(maxsize=65_536)
def _fold_token(token: str) -> tuple[str, ...]:
    return tuple(TOKEN.findall(fold(token)))


def tokens(text: str) -> list[str]:
    """The folded tokens of ``text`` in order; handles keep their ``@``, hashtags their ``#``."""
    found: list[str] = TOKEN.findall(text.casefold())
    if text.isascii():
        return found
    out: list[str] = []
    for token in found:
        if token.isascii():
            out.append(token)
        else:
            out.extend(_fold_token(token))
    return out
