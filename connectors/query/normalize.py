"""Case and accent folding, and the one tokenizer that both queries and mention texts go through.

Folding is ``casefold()`` then NFKD with combining marks removed, so "Café", "CAFÉ" and "cafe" are equal and
"Straße" equals "strasse". A token is a word (letters, digits, ``_``), an ``@handle`` (which may carry dots, dashes
and a second ``@`` as in ``@name@instance.social`` or ``@name.bsky.social``) or a ``#hashtag``. Everything else
(spaces, punctuation, emoji, apostrophes, hyphens) separates tokens: "e-bike" is the two tokens ``e`` ``bike``.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache

TOKEN = re.compile(r"(?<!\w)@\w+(?:[.@-]\w+)*|(?<!\w)#\w+|\w+")
"""Handles first (so ``@a.b`` is one token), then hashtags, then words. ``x@y`` is two words, not a handle."""


@cache
def _combining_marks() -> re.Pattern[str]:
    # re has no \p{M}; build the class once from the Unicode database (a few hundred ranges).
    ranges: list[tuple[int, int]] = []
    for cp in range(sys.maxunicode + 1):
        if unicodedata.combining(chr(cp)):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    body = "".join(f"\\U{a:08x}-\\U{b:08x}" if a != b else f"\\U{a:08x}" for a, b in ranges)
    return re.compile(f"[{body}]+")


def fold(text: str) -> str:
    """Lower-case and strip accents (see the module docstring)."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    return _combining_marks().sub("", unicodedata.normalize("NFKD", folded))


def tokens(text: str) -> list[str]:
    """The folded tokens of ``text`` in order; handles keep their ``@``, hashtags their ``#``."""
    return TOKEN.findall(fold(text))
