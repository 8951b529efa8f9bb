"""Query text → AST (:mod:`connectors.query.nodes`). Grammar, loosest binding first::

    query   := or
    or      := and ("OR" and)*
    and     := unary ("AND"? unary)*            juxtaposed terms are ANDed
    unary   := ("NOT" | "-") unary | near       "-x" is "NOT x" when "-" touches what follows
    near    := primary ("NEAR/" n primary)?     both sides: a term, a phrase or "(" an OR of them ")"
    primary := term | "phrase" | lang:xx | platform:xx | "(" or ")"

So NOT > AND > OR, and NEAR binds tighter than NOT: ``NOT a NEAR/2 b`` is ``NOT (a NEAR/2 b)``. Operators are
upper case; lower-case ``and``/``or``/``not`` are plain words. A bare term is folded and split like mention text
(:mod:`connectors.query.normalize`): ``e-bike`` is the phrase "e bike". A trailing ``*`` on a single-token term
is a prefix wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from connectors.query.nodes import Filter, FilterField, Near, Node, Not, Operand, Or, Phrase, Term, and_, or_
from connectors.query.normalize import fold, tokens

_FILTER_VALUE = re.compile(r"[a-z0-9_][a-z0-9_.-]*")
_MIN_PREFIX = 2
MAX_DEPTH = 64


class QuerySyntaxError(ValueError):
    """A query that cannot be parsed. ``position`` is the 0-based character offset of the problem."""

    def __init__(self, message: str, query: str, position: int) -> None:
        self.message = message
        self.query = query
        self.position = position
        super().__init__(message)

    def __str__(self) -> str:
        line = "".join(" " if char.isspace() else char for char in self.query)  # one line, caret aligned
        return f"{self.message} at position {self.position}\n  {line}\n  {' ' * self.position}^"


Kind = Literal["(", ")", "AND", "OR", "NOT", "-", "NEAR", "TERM", "PHRASE", "FILTER", "END"]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: Kind
    text: str
    position: int
    node: Node | None = None
    distance: int = 0


def parse(query: str) -> Node:
    """The AST of ``query``; raises :class:`QuerySyntaxError` (with the offending position) if it is not valid."""
    return _Parser(query).parse()


def _describe(token: _Token) -> str:
    return "the end of the query" if token.kind == "END" else repr(token.text)


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = _lex(query)
        self.at = 0
        self.depth = 0

    def nest(self, token: _Token) -> None:
        """Count one more level of parentheses or NOT; the parser (and later the matcher) recurse per level."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"nested more than {MAX_DEPTH} levels deep (parentheses and NOTs)", token.position)

    def error(self, message: str, position: int) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.query, position)

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def advance(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def parse(self) -> Node:
        if self.peek().kind == "END":
            raise self.error("empty query", 0)
        node = self.parse_or(None)
        end = self.peek()
        if end.kind == ")":
            raise self.error("unexpected ')' without a matching '('", end.position)
        if end.kind != "END":  # pragma: no cover - parse_and consumes everything else
            raise self.error(f"unexpected {_describe(end)}", end.position)
        return node

    def parse_or(self, after: _Token | None) -> Node:
        children = [self.parse_and(after)]
        while self.peek().kind == "OR":
            children.append(self.parse_and(self.advance()))
        return or_(*children)

    def parse_and(self, after: _Token | None) -> Node:
        children = [self.parse_unary(after)]
        while True:
            kind = self.peek().kind
            if kind == "AND":
                children.append(self.parse_unary(self.advance()))
            elif kind in ("TERM", "PHRASE", "FILTER", "(", "NOT", "-"):
                children.append(self.parse_unary(None))
            elif kind == "NEAR":
                raise self.error(
                    "NEAR needs a term or phrase on both sides and cannot be chained", self.peek().position
                )
            else:
                return and_(*children)

    def parse_unary(self, after: _Token | None) -> Node:
        token = self.peek()
        if token.kind in ("NOT", "-"):
            self.advance()
            self.nest(token)
            node = Not(self.parse_unary(token))
            self.depth -= 1
            return node
        return self.parse_near(after)

    def parse_near(self, after: _Token | None) -> Node:
        start = self.peek()
        left = self.parse_primary(after)
        if self.peek().kind != "NEAR":
            return left
        near = self.advance()
        right_start = self.peek()
        right = self.parse_primary(near)
        return Near(self.operands(left, start), self.operands(right, right_start), near.distance)

    def operands(self, node: Node, start: _Token) -> tuple[Operand, ...]:
        if isinstance(node, Term | Phrase):
            return (node,)
        if isinstance(node, Or) and all(isinstance(c, Term | Phrase) for c in node.children):
            return tuple(c for c in node.children if isinstance(c, Term | Phrase))
        raise self.error(
            "NEAR needs terms or quoted phrases on both sides (or a parenthesised OR of them)", start.position
        )

    def parse_primary(self, after: _Token | None) -> Node:
        token = self.advance()
        if token.kind in ("TERM", "PHRASE", "FILTER"):
            assert token.node is not None
            return token.node
        if token.kind == "(":
            self.nest(token)
            if self.peek().kind == ")":
                raise self.error("empty parentheses", self.peek().position)
            node = self.parse_or(None)
            close = self.advance()
            if close.kind != ")":
                raise self.error(f"expected ')' to close the '(' opened at {token.position}", close.position)
            self.depth -= 1
            return node
        expected = "expected a term or '('"
        if after is not None:
            expected += " after " + (f"NEAR/{after.distance}" if after.kind == "NEAR" else after.text)
        if token.kind != "END":
            expected += f", not {_describe(token)}"
        raise self.error(expected, token.position)


def _lex(query: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            out.append(_Token(char, char, i))  # type: ignore[arg-type]
            i += 1
        elif char == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError("unclosed quote", query, i)
            out.append(_phrase(query, i, query[i + 1 : end]))
            i = end + 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in '()"':
                j += 1
            word = query[i:j]
            while word.startswith("-") and (len(word) > 1 or (j < n and query[j] in '("')):
                out.append(_Token("-", "-", i))
                i += 1
                word = word[1:]
            if word:
                out.append(_word(query, i, word))
            i = j
    out.append(_Token("END", "", n))
    return out


def _phrase(query: str, position: int, inner: str) -> _Token:
    if "*" in inner:
        raise QuerySyntaxError(
            "wildcards are not supported inside quoted phrases", query, position + 1 + inner.index("*")
        )
    found = tokens(inner)
    if not found:
        raise QuerySyntaxError("empty phrase: a quoted phrase needs a letter or digit", query, position)
    node: Node = Term(found[0]) if len(found) == 1 else Phrase(tuple(found))
    return _Token("PHRASE", f'"{inner}"', position, node)


def _word(query: str, position: int, word: str) -> _Token:
    if word in ("AND", "OR", "NOT"):
        return _Token(word, word, position)  # type: ignore[arg-type]
    if word.startswith("NEAR"):
        digits = word[5:] if word.startswith("NEAR/") else ""
        if not digits.isascii() or not digits.isdigit():
            raise QuerySyntaxError("expected NEAR/n with a whole number n ≥ 1, e.g. NEAR/3", query, position)
        if int(digits) < 1:
            raise QuerySyntaxError("NEAR distance must be at least 1", query, position + 5)
        return _Token("NEAR", word, position, distance=int(digits))
    field, colon, value = word.partition(":")
    if colon and field.lower() in ("lang", "platform"):
        folded = fold(value)
        if not _FILTER_VALUE.fullmatch(folded):
            raise QuerySyntaxError(
                f"expected a value after {field}: (letters, digits, '-', '_')", query, position + 1 + len(field)
            )
        if field.lower() == "lang":
            folded = folded.split("-")[0]
        node: Node = Filter(_field(field.lower()), folded)
        return _Token("FILTER", word, position, node)
    prefix = word.endswith("*")
    found = tokens(word[:-1] if prefix else word)
    if not found:
        raise QuerySyntaxError(f"{word!r} has no letter or digit to match", query, position)
    if prefix:
        if len(found) > 1:
            raise QuerySyntaxError("a wildcard must end a single word (no spaces or punctuation)", query, position)
        if len(found[0].lstrip("@#")) < _MIN_PREFIX:
            raise QuerySyntaxError(f"a wildcard needs at least {_MIN_PREFIX} characters before '*'", query, position)
        return _Token("TERM", word, position, Term(found[0], prefix=True))
    node = Term(found[0]) if len(found) == 1 else Phrase(tuple(found))
    return _Token("TERM", word, position, node)


def _field(name: str) -> FilterField:
    return "lang" if name == "lang" else "platform"
