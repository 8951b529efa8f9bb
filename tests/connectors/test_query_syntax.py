"""The query parser: every construct, precedence, and errors that point at the problem."""

from __future__ import annotations

import pytest

from connectors.query import QuerySyntaxError, parse, to_text
from connectors.query.nodes import And, Filter, Near, Not, Or, Phrase, Term
from connectors.query.normalize import fold, tokens

a, b, c, d = Term("a"), Term("b"), Term("c"), Term("d")


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("veloxa", Term("veloxa")),
        ("@Veloxa", Term("@veloxa")),
        ("#VeloxaFail", Term("#veloxafail")),
        ('"Cargo Max"', Phrase(("cargo", "max"))),
        ('"veloxa"', Term("veloxa")),
        ("e-bike", Phrase(("e", "bike"))),
        ("veloxa*", Term("veloxa", prefix=True)),
        ("@velo*", Term("@velo", prefix=True)),
        ("lang:NL", Filter("lang", "nl")),
        ("lang:nl-BE", Filter("lang", "nl")),
        ("platform:Reddit", Filter("platform", "reddit")),
        ("a AND b", And((a, b))),
        ("a b", And((a, b))),
        ("a OR b", Or((a, b))),
        ("NOT a", Not(a)),
        ("-a", Not(a)),
        ('-"a b"', Not(Phrase(("a", "b")))),
        ("-(a OR b)", Not(Or((a, b)))),
        ("a -b", And((a, Not(b)))),
        # NOT > AND > OR
        ("a OR b AND c", Or((a, And((b, c))))),
        ("a b OR c d", Or((And((a, b)), And((c, d))))),
        ("NOT a b", And((Not(a), b))),
        ("NOT a OR b", Or((Not(a), b))),
        ("(a OR b) c", And((Or((a, b)), c))),
        ("a AND (b AND c)", And((a, b, c))),
        ("a OR (b OR c)", Or((a, b, c))),
        # NEAR binds tighter than AND and NOT
        ("a NEAR/3 b", Near((a,), (b,), 3)),
        ("a NEAR/3 b c", And((Near((a,), (b,), 3), c))),
        ("NOT a NEAR/2 b", Not(Near((a,), (b,), 2))),
        ('(a OR "b c") NEAR/5 d', Near((a, Phrase(("b", "c"))), (d,), 5)),
        ("and or not", And((Term("and"), Term("or"), Term("not")))),
        ("Café", Term("cafe")),
        ("  a\tOR\nb  ", Or((a, b))),
    ],
)
def test_parses_to(query: str, tree: object) -> None:
    assert parse(query) == tree


@pytest.mark.parametrize(
    "query",
    ["a OR b AND c", "NOT (a OR b) c", '(a OR "x y") NEAR/2 b -lang:nl', "#ab* OR @b.c -platform:x", "NOT NOT a"],
)
def test_printed_tree_parses_back(query: str) -> None:
    tree = parse(query)
    assert parse(to_text(tree)) == tree


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("", 0, "empty query"),
        ("   ", 0, "empty query"),
        ("veloxa AND", 10, "expected a term or '(' after AND"),
        ("veloxa AND OR b", 11, "expected a term or '(' after AND, not 'OR'"),
        ("veloxa OR", 9, "expected a term or '(' after OR"),
        ("veloxa NOT", 10, "expected a term or '(' after NOT"),
        ("AND veloxa", 0, "expected a term or '(', not 'AND'"),
        ("(veloxa OR trekko", 17, "expected ')' to close the '(' opened at 0"),
        ("veloxa)", 6, "unexpected ')' without a matching '('"),
        ("()", 1, "empty parentheses"),
        ("a NEAR/0 b", 7, "NEAR distance must be at least 1"),
        ("a NEAR/x b", 2, "expected NEAR/n"),
        ("a NEAR b", 2, "expected NEAR/n"),
        ("a NEAR/3", 8, "expected a term or '(' after NEAR/3"),
        ("a NEAR/2 (b c)", 9, "NEAR needs terms or quoted phrases"),
        ("lang:nl NEAR/2 b", 0, "NEAR needs terms or quoted phrases"),
        ("a NEAR/2 b NEAR/2 c", 11, "cannot be chained"),
        ('say "hello', 4, "unclosed quote"),
        ('""', 0, "empty phrase"),
        ('"a* b"', 2, "wildcards are not supported inside quoted phrases"),
        ("v*", 0, "at least 2 characters"),
        ("e-bike*", 0, "a wildcard must end a single word"),
        ("lang:", 5, "expected a value after lang:"),
        ("a - b", 2, "'-' has no letter or digit"),
        ("!!!", 0, "'!!!' has no letter or digit"),
    ],
)
def test_errors_point_at_the_problem(query: str, position: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    error = caught.value
    assert error.position == position
    assert message in error.message
    lines = str(error).splitlines()
    assert lines[0] == f"{error.message} at position {position}"
    assert lines[1] == "  " + query.replace("\t", " ")
    assert lines[2] == "  " + " " * position + "^"


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    assert parse("(" * 64 + "a" + ")" * 64) == Term("a")
    for query in ("(" * 65 + "a" + ")" * 65, "NOT " * 65 + "a", "(" * 10_000, "-" * 10_000 + "a"):
        with pytest.raises(QuerySyntaxError, match="nested more than 64 levels"):
            parse(query)


def test_the_caret_sits_under_the_offending_character() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse("veloxa AND ) trekko")
    _, shown, caret = str(caught.value).splitlines()
    assert shown[caret.index("^")] == ")"


def test_syntax_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="empty query"):
        parse("")


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Café", "cafe"),
        ("CAFÉ", "cafe"),
        ("Straße", "strasse"),
        ("naïve", "naive"),
        ("Ångström", "angstrom"),
        ("𝑨𝒃", "ab"),
        ("ﬁne", "fine"),
    ],
)
def test_folding_removes_case_and_accents(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_decomposed_input_folds_like_composed() -> None:
    assert tokens("cafe\u0301 ok") == tokens("café ok") == ["cafe", "ok"]


def test_tokens_keep_handles_and_hashtags_whole() -> None:
    text = "@Veloxa.bsky.social and @vonk@mastodon.social love #E_Bike; mail info@veloxa.com. Veloxa's app"
    assert tokens(text) == [
        "@veloxa.bsky.social",
        "and",
        "@vonk@mastodon.social",
        "love",
        "#e_bike",
        "mail",
        "info",
        "veloxa",
        "com",
        "veloxa",
        "s",
        "app",
    ]


def test_every_combining_mark_is_stripped() -> None:
    import sys
    import unicodedata

    # (U+0345, the Greek ypogegrammeni, case-folds to an iota: a letter, kept)
    marks = [
        chr(cp) for cp in range(sys.maxunicode + 1) if unicodedata.combining(chr(cp)) and chr(cp).casefold() == chr(cp)
    ]
    assert fold("a" + "".join(marks) + "b") == "ab"


def test_full_width_sigils_and_accented_handles() -> None:
    assert tokens("＠Véloxa ＃ＶＥＬＯ İstanbul") == ["@veloxa", "#velo", "istanbul"]
