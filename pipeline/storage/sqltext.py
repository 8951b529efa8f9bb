"""Pure helpers over SQL text: a small ClickHouse lexer, statement splitting, identifier checks.

The lexer knows exactly what matters for splitting and for recognising keywords: quoted strings
('...' with backslash or doubled-quote escapes), quoted identifiers ("..." and `...`), and comments
(``--``, ``#`` and ``/* */``, nested). Everything else is words, numbers and punctuation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal, NamedTuple

TokenKind = Literal["word", "string", "quoted", "comment", "space", "punct"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD = re.compile(r"[A-Za-z0-9_$.]+")


class Token(NamedTuple):
    kind: TokenKind
    text: str


class SqlSyntaxError(ValueError):
    """The text cannot be tokenised (an unterminated string, identifier or comment)."""


def _quoted_end(sql: str, start: int, quote: str) -> int:
    """Index just past the closing quote of the literal opened at ``start``."""
    i = start + 1
    while i < len(sql):
        char = sql[i]
        if char == "\\":
            i += 2
            continue
        if char == quote:
            if i + 1 < len(sql) and sql[i + 1] == quote:  # a doubled quote escapes itself
                i += 2
                continue
            return i + 1
        i += 1
    raise SqlSyntaxError(f"unterminated {quote} quote starting at offset {start}")


def _block_comment_end(sql: str, start: int) -> int:
    depth, i = 0, start
    while i < len(sql) - 1:
        pair = sql[i : i + 2]
        if pair == "/*":
            depth, i = depth + 1, i + 2
        elif pair == "*/":
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    raise SqlSyntaxError(f"unterminated comment starting at offset {start}")


def tokens(sql: str) -> Iterator[Token]:
    """Tokens of ``sql`` in order; concatenating their texts gives ``sql`` back unchanged."""
    i = 0
    while i < len(sql):
        char = sql[i]
        if char.isspace():
            end = i + 1
            while end < len(sql) and sql[end].isspace():
                end += 1
            yield Token("space", sql[i:end])
        elif char in "'\"`":
            end = _quoted_end(sql, i, char)
            yield Token("string" if char == "'" else "quoted", sql[i:end])
        elif sql.startswith("--", i) or char == "#":
            newline = sql.find("\n", i)
            end = len(sql) if newline < 0 else newline
            yield Token("comment", sql[i:end])
        elif sql.startswith("/*", i):
            end = _block_comment_end(sql, i)
            yield Token("comment", sql[i:end])
        elif match := _WORD.match(sql, i):
            end = match.end()
            yield Token("word", match.group())
        else:
            end = i + 1
            yield Token("punct", char)
        i = end


def split_statements(sql: str) -> list[str]:
    """The statements of a script separated by ``;`` outside strings and comments, stripped, empties dropped."""
    statements: list[str] = []
    current: list[str] = []
    for token in tokens(sql):
        if token == Token("punct", ";"):
            statements.append("".join(current).strip())
            current = []
        else:
            current.append(token.text)
    statements.append("".join(current).strip())
    return [s for s in statements if s and any(t.kind not in ("space", "comment") for t in tokens(s))]


def words(sql: str) -> list[str]:
    """The bare words of ``sql`` in upper case (keywords and unquoted names), ignoring strings and comments."""
    return [t.text.upper() for t in tokens(sql) if t.kind == "word"]


def check_identifier(name: str) -> str:
    """``name`` unchanged if it is a plain ClickHouse identifier (safe to splice into SQL), else ValueError."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{name!r} is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)")
    return name
