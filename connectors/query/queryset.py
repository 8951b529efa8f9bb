"""Brand queries, compiled once and matched against mentions (see docs/queries.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from connectors.query.matcher import Predicate, Prepared, anchors, compile_node, positive_terms, primary_language
from connectors.query.nodes import Node, Phrase, Term
from connectors.query.normalize import fold
from connectors.query.syntax import QuerySyntaxError, parse
from pipeline.schema import BrandMatch, MatchType, Mention

_STRENGTH: dict[MatchType, int] = {"tagged": 2, "hashtag": 1, "untagged": 0}
_BUCKET = 2
"""Wildcard prefixes are bucketed by this many leading characters: no more than the shortest prefix the parser
accepts (``ve*``)."""
_SEEN_LIMIT = 500_000
"""Distinct tokens remembered for the wildcard look-up before the memory starts over."""


@dataclass(frozen=True, slots=True)
class BrandQuery:
    """One brand's query. ``langs``/``platforms`` (empty: any) restrict which mentions it is tried on; a mention
    whose language is unknown passes ``langs`` (the worker detects the language later). Raises
    :class:`QuerySyntaxError` on an invalid query, or one that has no term that must occur (only NOTs/filters)."""

    brand: str
    query: str
    competitor: bool = False
    competitive_set: str | None = None
    langs: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    ast: Node = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.brand.strip():
            raise ValueError("brand: a non-empty name is needed")
        ast = parse(self.query)
        if not any(True for _ in positive_terms(ast)):
            raise QuerySyntaxError("a query needs at least one term that is not under NOT", self.query, 0)
        object.__setattr__(self, "ast", ast)
        object.__setattr__(self, "langs", tuple(primary_language(x) for x in self.langs))
        object.__setattr__(self, "platforms", tuple(fold(x) for x in self.platforms))


@dataclass(frozen=True, slots=True)
class _Compiled:
    query: BrandQuery
    predicate: Predicate
    restricted: bool
    handles: frozenset[str]
    hashtags: frozenset[str]
    handle_prefixes: tuple[str, ...]
    hashtag_prefixes: tuple[str, ...]
    matches: dict[MatchType, BrandMatch]

    def applies_to(self, text: Prepared) -> bool:
        q = self.query
        if q.langs and text.lang is not None and text.lang not in q.langs:
            return False
        return not (q.platforms and text.platform not in q.platforms)

    def match_type(self, text: Prepared) -> MatchType:
        present = text.present
        if not self.handles.isdisjoint(present) or any(text.has_prefix(p) for p in self.handle_prefixes):
            return "tagged"
        if not self.hashtags.isdisjoint(present) or any(text.has_prefix(p) for p in self.hashtag_prefixes):
            return "hashtag"
        return "untagged"


def _compile(query: BrandQuery) -> _Compiled:
    terms = [t for t in positive_terms(query.ast) if isinstance(t, Term)]

    def tokens(sigil: str, prefix: bool) -> list[str]:
        return [t.token for t in terms if t.token.startswith(sigil) and t.prefix is prefix]

    matches: dict[MatchType, BrandMatch] = {
        kind: BrandMatch(brand=query.brand, match_type=kind, competitor=query.competitor) for kind in _STRENGTH
    }
    return _Compiled(
        query,
        compile_node(query.ast),
        bool(query.langs or query.platforms),
        frozenset(tokens("@", False)),
        frozenset(tokens("#", False)),
        tuple(tokens("@", True)),
        tuple(tokens("#", True)),
        matches,
    )


class QuerySet:
    """The brand queries of one deployment, indexed by the tokens that can make each of them match.

    ``match`` folds and tokenizes a mention's text once, looks its distinct tokens up in an inverted index
    (token → queries; wildcard prefixes are looked up per prefix length) and evaluates only those queries, plus
    any that have no anchor term (e.g. ``veloxa OR NOT lang:nl``), which are evaluated on every mention.
    """

    def __init__(self, queries: Iterable[BrandQuery]) -> None:
        self.queries: tuple[BrandQuery, ...] = tuple(queries)
        self._compiled = [_compile(q) for q in self.queries]
        exact: dict[str, list[int]] = defaultdict(list)  # each list ascending: candidates() may return it as is
        prefixes: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        self._always: list[int] = []
        for i, query in enumerate(self.queries):
            found = anchors(query.ast)
            if found is None:
                self._always.append(i)
                continue
            for term in found:
                if term.prefix:
                    prefixes[term.token[:_BUCKET]][term.token].append(i)
                else:
                    exact[term.token].append(i)
        self._exact = dict(exact)
        self._exact_tokens = frozenset(exact)
        # Wildcard prefixes grouped by their first _BUCKET characters: one dict look-up per token, then a
        # startswith per prefix in that (small) bucket. Which tokens hit a wildcard is remembered (the vocabulary of
        # a stream repeats), so a text costs two set operations, not a look-up per token; the memory is bounded.
        self._prefixes = {bucket: tuple(by_prefix.items()) for bucket, by_prefix in prefixes.items()}
        self._seen: set[str] = set()
        self._prefix_hits: dict[str, set[int]] = {}
        self._prefix_hit_tokens: set[str] = set()

    @classmethod
    def from_yaml(cls, path: str | Path) -> QuerySet:
        """Load a brand file (format: docs/queries.md). Raises ValueError (QuerySyntaxError for a bad query,
        noted with the brand and file) when it is wrong."""
        from connectors.query.config import load_brand_queries

        return cls(load_brand_queries(path))

    @property
    def brands(self) -> list[str]:
        """Brand names in file order, each once."""
        return list(dict.fromkeys(q.brand for q in self.queries))

    def competitive_sets(self) -> dict[str, list[str]]:
        """Competitive set name → its brands (own brand(s) first), for queries that name one."""
        sets: dict[str, list[str]] = {}
        for q in sorted(self.queries, key=lambda q: q.competitor):
            if q.competitive_set is not None and q.brand not in sets.setdefault(q.competitive_set, []):
                sets[q.competitive_set].append(q.brand)
        return sets

    def candidates(self, text: Prepared) -> list[int]:
        """Indexes of the queries worth evaluating on ``text``, in query order."""
        exact = self._exact
        hits = text.present.intersection(self._exact_tokens)
        if not self._prefixes and not self._always:
            if not hits:
                return []
            if len(hits) == 1:
                return exact[next(iter(hits))]
        found: set[int] = set(self._always)
        for token in hits:
            found.update(exact[token])
        if self._prefixes:
            unseen = text.present.difference(self._seen)
            if unseen:
                self._learn_prefix_hits(unseen)
            for token in text.present.intersection(self._prefix_hit_tokens):
                found.update(self._prefix_hits[token])
        return sorted(found)

    def _learn_prefix_hits(self, tokens: Iterable[str]) -> None:
        if len(self._seen) > _SEEN_LIMIT:
            self._seen.clear()
            self._prefix_hits.clear()
            self._prefix_hit_tokens.clear()
        buckets = self._prefixes
        for token in tokens:
            self._seen.add(token)
            bucket = buckets.get(token[:_BUCKET])
            if bucket is None:
                continue
            for prefix, hit in bucket:
                if token.startswith(prefix):
                    self._prefix_hits.setdefault(token, set()).update(hit)
                    self._prefix_hit_tokens.add(token)

    def match(self, mention: Mention) -> list[BrandMatch]:
        """The brands whose query matches ``mention`` (its text, declared language and platform), each once with
        its strongest match type, in query order."""
        return self.match_text(mention.text, mention.lang_hint, mention.platform)

    def match_text(self, text: str, lang: str | None = None, platform: str | None = None) -> list[BrandMatch]:
        """:meth:`match` for a bare text."""
        prepared = Prepared(text, lang, platform)
        out: dict[str, BrandMatch] = {}
        for i in self.candidates(prepared):
            compiled = self._compiled[i]
            if (compiled.restricted and not compiled.applies_to(prepared)) or not compiled.predicate(prepared):
                continue
            found = compiled.matches[compiled.match_type(prepared)]
            before = out.get(found.brand)
            if before is None or _STRENGTH[found.match_type] > _STRENGTH[before.match_type]:
                out[found.brand] = found
        return list(out.values())

    def apply(self, mention: Mention) -> Mention | None:
        """``mention`` with ``brands`` set to the brands the connector had already set merged with the matches
        (strongest match type per brand); None when the result is empty: such a mention never reaches the model."""
        found = self.match(mention)
        if not found and not mention.brands:
            return None
        merged = _merge(mention.brands, found)
        if merged == mention.brands:
            return mention
        return mention.model_copy(update={"brands": merged})

    def search_terms(self, brand: str | None = None) -> list[str]:
        """Positive terms, ``@handles``, ``#hashtags`` and phrases (words joined by spaces) of every query, or of
        ``brand``'s, for a platform's search API; each once, folded, in query order. Wildcard terms are left out."""
        out: dict[str, None] = {}
        for q in self.queries:
            if brand is not None and q.brand != brand:
                continue
            for term in positive_terms(q.ast):
                if isinstance(term, Phrase):
                    out[" ".join(term.tokens)] = None
                elif not term.prefix:
                    out[term.token] = None
        return list(out)


def _merge(first: Sequence[BrandMatch], second: Sequence[BrandMatch]) -> list[BrandMatch]:
    out: dict[str, BrandMatch] = {}
    for match in (*first, *second):
        before = out.get(match.brand)
        if before is None or _STRENGTH[match.match_type] > _STRENGTH[before.match_type]:
            out[match.brand] = match
    return list(out.values())
