"""AST → a fast predicate over one prepared text, plus what a query needs to be worth evaluating.

A mention text is folded and tokenized once (:class:`Prepared`); each compiled query is a tree of closures over it.
:func:`anchors` gives, per query, tokens of which at least one must occur for the query to match, so a
:class:`~connectors.query.queryset.QuerySet` evaluates only the queries whose anchors the text contains.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

from connectors.query.nodes import And, Filter, Near, Node, Not, Operand, Or, Phrase, Term
from connectors.query.normalize import fold, tokens


class Prepared:
    """One mention's folded tokens, token set, declared language (primary subtag) and platform."""

    __slots__ = ("_positions", "lang", "platform", "present", "tokens")

    def __init__(self, text: str, lang: str | None = None, platform: str | None = None) -> None:
        self.tokens: list[str] = tokens(text)
        self.present: frozenset[str] = frozenset(self.tokens)
        self.lang = None if not lang else primary_language(lang)
        self.platform = None if not platform else _fold_cached(platform)
        self._positions: dict[str, list[int]] | None = None

    def positions(self, token: str) -> list[int]:
        """Where ``token`` occurs (built on first use: most texts never need it)."""
        if self._positions is None:
            index: dict[str, list[int]] = {}
            for i, tok in enumerate(self.tokens):
                index.setdefault(tok, []).append(i)
            self._positions = index
        return self._positions.get(token, [])

    def has_prefix(self, prefix: str) -> bool:
        return any(tok.startswith(prefix) for tok in self.present)


@lru_cache(maxsize=1024)
def primary_language(tag: str) -> str:
    """``nl`` for ``nl``, ``NL-be``, ``nl_BE``."""
    return fold(tag).replace("_", "-").split("-")[0]


_fold_cached = lru_cache(maxsize=1024)(fold)


Predicate = Callable[[Prepared], bool]


def compile_node(node: Node) -> Predicate:
    """A predicate equivalent to ``node`` (the semantics are documented in docs/queries.md)."""
    match node:
        case Term(token, False):
            return lambda t: token in t.present
        case Term(token, True):
            return lambda t: t.has_prefix(token)
        case Phrase():
            phrase = node
            return lambda t: any(True for _ in _spans(t, phrase))
        case Filter("lang", value):
            return lambda t: t.lang == value
        case Filter(_, value):
            return lambda t: t.platform == value
        case Not(child):
            inner = compile_node(child)
            return lambda t: not inner(t)
        case And(children):
            every = _plain_terms(children)
            if every is not None:
                required = every
                return lambda t: required <= t.present
            return _all([compile_node(c) for c in sorted(children, key=_cost)])
        case Or(children):
            words = _plain_terms(children)
            if words is not None:
                return lambda t: not words.isdisjoint(t.present)
            return _any([compile_node(c) for c in sorted(children, key=_cost)])
        case Near(left, right, distance):
            return lambda t: _near(t, left, right, distance)
    raise TypeError(node)


def _plain_terms(children: tuple[Node, ...]) -> frozenset[str] | None:
    """The tokens, when every child is a plain (non-wildcard) term: then AND/OR are one set operation."""
    if all(isinstance(c, Term) and not c.prefix for c in children):
        return frozenset(c.token for c in children if isinstance(c, Term))
    return None


def _all(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        first, second = parts
        return lambda t: first(t) and second(t)
    return lambda t: all(p(t) for p in parts)


def _any(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        first, second = parts
        return lambda t: first(t) or second(t)
    return lambda t: any(p(t) for p in parts)


def _cost(node: Node) -> int:
    """Evaluate cheap set look-ups before phrase scans and NEAR searches."""
    return 0 if isinstance(node, Term | Filter) else 1


def _spans(t: Prepared, operand: Operand) -> Iterator[tuple[int, int]]:
    """(first, last) token positions of each occurrence of ``operand`` in ``t``."""
    if isinstance(operand, Term):
        if operand.prefix:
            for i, tok in enumerate(t.tokens):
                if tok.startswith(operand.token):
                    yield i, i
        elif operand.token in t.present:
            for i in t.positions(operand.token):
                yield i, i
        return
    words = operand.tokens
    if not t.present.issuperset(words):
        return
    last = len(words) - 1
    for i in t.positions(words[0]):
        if tuple(t.tokens[i : i + last + 1]) == words:
            yield i, i + last


def _near(t: Prepared, left: tuple[Operand, ...], right: tuple[Operand, ...], distance: int) -> bool:
    ends = [span for operand in left for span in _spans(t, operand)]
    if not ends:
        return False
    for start, end in (span for operand in right for span in _spans(t, operand)):
        for first, last in ends:
            gap = start - last if start > last else first - end
            if 1 <= gap <= distance:
                return True
    return False


def anchors(node: Node) -> frozenset[Term] | None:
    """Terms of which at least one occurs in every text ``node`` matches; None when there is no such set
    (the node can match through a NOT or a filter alone). Phrases anchor on their first token."""
    match node:
        case Term():
            return frozenset((node,))
        case Phrase(tokens):
            return frozenset((Term(tokens[0]),))
        case Near(left, _, _):
            return _union(anchors(o) for o in left)
        case And(children):
            options = [a for a in map(anchors, children) if a is not None]
            return min(options, key=_selectivity) if options else None
        case Or(children):
            return _union(anchors(c) for c in children)
    return None


def _selectivity(terms: frozenset[Term]) -> tuple[int, int]:
    # Fewer anchors, and no wildcards (they are checked against every token), make fewer candidate evaluations.
    return sum(t.prefix for t in terms), len(terms)


def _union(parts: Iterable[frozenset[Term] | None]) -> frozenset[Term] | None:
    out: set[Term] = set()
    for part in parts:
        if part is None:
            return None
        out |= part
    return frozenset(out)


def positive_terms(node: Node, negated: bool = False) -> Iterator[Term | Phrase]:
    """Terms and phrases that count for a match (not under an odd number of NOTs), in query order."""
    match node:
        case Term() | Phrase():
            if not negated:
                yield node
        case Not(child):
            yield from positive_terms(child, not negated)
        case And(children) | Or(children):
            for child in children:
                yield from positive_terms(child, negated)
        case Near(left, right, _):
            for operand in (*left, *right):
                yield from positive_terms(operand, negated)
