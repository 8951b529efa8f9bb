"""Property-based tests: printing and parsing round-trip, the parser fails only with QuerySyntaxError, and the
indexed, compiled matcher agrees with a slow, obviously-correct reference evaluator."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from connectors.query import BrandQuery, QuerySet, QuerySyntaxError, parse, to_text
from connectors.query.nodes import Filter, Near, Node, Not, Operand, Phrase, Term, and_, or_
from connectors.query.normalize import fold, tokens

WORDS = ("ab", "abc", "b", "c", "@ab", "#ab", "@abc")
TEXT_WORDS = (*WORDS, "AB", "Ábc", "#AB", "x", "abd", "@ab.x", ",", "!")
LANGS = ("nl", "de")
PLATFORMS = ("reddit", "bluesky")

terms = st.builds(Term, st.sampled_from(WORDS)) | st.builds(
    lambda w: Term(w, prefix=True), st.sampled_from(("ab", "#ab", "@ab"))
)
phrases = st.builds(Phrase, st.lists(st.sampled_from(WORDS), min_size=2, max_size=3).map(tuple))
operands: st.SearchStrategy[Operand] = terms | phrases
filters = st.builds(Filter, st.just("lang"), st.sampled_from(LANGS)) | st.builds(
    Filter, st.just("platform"), st.sampled_from(PLATFORMS)
)
nears = st.builds(
    Near,
    st.lists(operands, min_size=1, max_size=2).map(tuple),
    st.lists(operands, min_size=1, max_size=2).map(tuple),
    st.integers(1, 4),
)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return (
        st.builds(Not, children)
        | st.lists(children, min_size=2, max_size=3).map(lambda cs: and_(*cs))
        | st.lists(children, min_size=2, max_size=3).map(lambda cs: or_(*cs))
    )


trees: st.SearchStrategy[Node] = st.recursive(terms | phrases | filters | nears, _extend, max_leaves=8)


@given(trees)
def test_printed_trees_parse_back_to_the_same_tree(tree: Node) -> None:
    assert parse(to_text(tree)) == tree


_FRAGMENTS = (
    "AND",
    "OR",
    "NOT",
    "NEAR/2",
    "NEAR/0",
    "NEAR/",
    "NEAR/x",
    "(",
    ")",
    '"',
    "-",
    "*",
    "lang:",
    "lang:nl",
    "platform:",
    "veloxa",
    "@v",
    "#v",
    "v*",
    "é",
    "'",
    ":",
    " ",
    "\t",
    "\u0301",
    "ß",
    "\n",
    "\u2028",
    "𝑨",
)


@given(
    st.text() | st.lists(st.sampled_from(_FRAGMENTS)).map(" ".join) | st.lists(st.sampled_from(_FRAGMENTS)).map("".join)
)
def test_any_text_parses_or_raises_a_positioned_syntax_error(query: str) -> None:
    error: QuerySyntaxError | None = None
    try:
        tree = parse(query)
    except QuerySyntaxError as caught:
        error = caught
    if error is None:
        assert parse(to_text(tree)) == tree
    else:
        assert 0 <= error.position <= len(query)
        assert str(error).splitlines()[-1].index("^") == error.position + 2


# --- a slow reference evaluator, written independently of connectors.query.matcher ---------------------------


def _occurrences(operand: Operand, toks: list[str]) -> list[tuple[int, int]]:
    out = []
    for i in range(len(toks)):
        if isinstance(operand, Term):
            hit = toks[i].startswith(operand.token) if operand.prefix else toks[i] == operand.token
            if hit:
                out.append((i, i))
        elif toks[i : i + len(operand.tokens)] == list(operand.tokens):
            out.append((i, i + len(operand.tokens) - 1))
    return out


def reference(tree: Node, toks: list[str], lang: str | None, platform: str | None) -> bool:
    match tree:
        case Term() | Phrase():
            return bool(_occurrences(tree, toks))
        case Filter("lang", value):
            return lang == value
        case Filter(_, value):
            return platform == value
        case Not(child):
            return not reference(child, toks, lang, platform)
        case Near(left, right, distance):
            lefts = [span for o in left for span in _occurrences(o, toks)]
            rights = [span for o in right for span in _occurrences(o, toks)]
            for a_first, a_last in lefts:
                for b_first, b_last in rights:
                    overlap = not (a_last < b_first or b_last < a_first)
                    gap = b_first - a_last if b_first > a_last else a_first - b_last
                    if not overlap and gap <= distance:
                        return True
            return False
    children = tree.children  # type: ignore[union-attr]
    results = [reference(c, toks, lang, platform) for c in children]
    return all(results) if type(tree).__name__ == "And" else any(results)


@settings(max_examples=400)
@given(
    trees,
    st.lists(st.sampled_from(TEXT_WORDS), max_size=12).map(" ".join),
    st.sampled_from((None, "nl", "NL-be", "de")),
    st.sampled_from((None, "reddit", "bluesky")),
)
def test_the_matcher_agrees_with_the_reference(tree: Node, text: str, lang: str | None, platform: str | None) -> None:
    try:
        query = BrandQuery(brand="B", query=to_text(tree))
    except QuerySyntaxError:
        assume(False)  # no positive term: not a valid brand query
        return
    # Other queries in the set must not change this one's outcome (the inverted index only skips, never decides).
    qs = QuerySet([BrandQuery(brand="Other", query="zzz"), query, BrandQuery(brand="More", query="c NEAR/2 ab*")])
    found = {m.brand for m in qs.match_text(text, lang, platform)}
    expected = reference(tree, tokens(text), None if lang is None else fold(lang).split("-")[0], platform)
    assert ("B" in found) is expected


@settings(max_examples=500)
@given(st.text())
def test_folding_is_idempotent_and_tokens_are_stable(text: str) -> None:
    # Query terms are folded and then stored; mention texts are folded once. Both must land on the same tokens.
    assert fold(fold(text)) == fold(text)
    assert tokens(" ".join(tokens(text))) == tokens(text)


_SHARED = QuerySet(
    [
        BrandQuery(brand="P", query="ab* OR #ab*"),
        BrandQuery(brand="Q", query="@ab* -c"),
        BrandQuery(brand="R", query="abc OR #ab* OR ab*"),
    ]
)


@settings(max_examples=300)
@given(st.lists(st.sampled_from(TEXT_WORDS), max_size=8).map(" ".join))
def test_remembered_wildcard_hits_change_nothing(text: str) -> None:
    # _SHARED has seen the texts of earlier examples (and may have started its memory over); a fresh set has not.
    fresh = QuerySet(_SHARED.queries)
    assert _SHARED.match_text(text) == fresh.match_text(text)


def test_the_wildcard_memory_starts_over_when_full(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import connectors.query.queryset as queryset

    monkeypatch.setattr(queryset, "_SEEN_LIMIT", 3)
    qs = QuerySet([BrandQuery(brand="P", query="ab*")])
    for text in ("x y z", "u v w", "t s r", "abd q"):
        assert bool(qs.match_text(text)) is (text == "abd q")
    assert len(qs._seen) <= 5
