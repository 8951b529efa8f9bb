"""models.langid against the real py3langid model (it ships inside the package; nothing is downloaded)."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest

from models.langid import LanguageGuess, LanguageIdentifier, strip_social_noise

POSTS = {
    "nl": [
        "@KLM mijn koffer is alweer kwijt, dit is echt de derde keer dit jaar 😡 #klantenservice https://t.co/abc123",
        "Net de nieuwe aflevering gekeken en ik moet zeggen: wat een spannend einde! Wie kijkt er nog meer? 🍿",
    ],
    "en": [
        "Just tried the new burger at @fiveguys and honestly it was amazing 🍔🔥 #foodie https://t.co/xyz",
        "can't believe my flight got cancelled again, worst airline ever smh #travelfail",
    ],
    "de": [
        "Der Zug hat schon wieder 40 Minuten Verspätung, danke @DB_Bahn 🙄 #bahnchaos",
        "Endlich Wochenende! Heute Abend grillen wir mit Freunden im Garten 🌭☀️ https://instagram.com/p/abc",
    ],
    "fr": [
        "Franchement le service client de @Orange est une catastrophe, ça fait trois jours que j'attends 😤 #fail",
        "Trop contente de mon nouveau téléphone, la batterie tient toute la journée ! 📱 https://t.co/q1w2e3",
    ],
    "es": [
        "No puedo creer que el concierto se haya cancelado otra vez 😭 @ticketmaster_es #decepción",
        "Qué rico estuvo el desayuno de hoy, lo recomiendo muchísimo 🥐☕ https://t.co/abc",
    ],
    "it": [
        "Ma perché il treno per Milano è sempre in ritardo? Non se ne può più 😩 @trenitalia #pendolari",
        "Che bella giornata oggi a Roma, siamo andati a mangiare una pizza buonissima 🍕❤️",
    ],
    "pt": [
        "Acabei de chegar em casa e a encomenda ainda não chegou, que raiva 😠 @correiosbr #atraso",
        "Hoje o jogo foi incrível, o time jogou muito bem! Parabéns a todos ⚽🎉 https://t.co/zzz",
    ],
}
LABELLED = [(code, post) for code, posts in POSTS.items() for post in posts]


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier()


@pytest.mark.parametrize(("expected", "post"), LABELLED)
def test_identifies_short_social_posts(identifier: LanguageIdentifier, expected: str, post: str) -> None:
    [guess] = identifier.identify([post])
    assert guess.code == expected
    assert identifier.min_confidence <= guess.confidence <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t",
        "😂😂😂 🔥🔥 👍🏽❤️",
        "https://t.co/abc123 @user #2024",
        "1234 !!! ... :-)",
        "@a @b http://x.y www.z.com",
    ],
)
def test_noise_only_text_is_undetermined(identifier: LanguageIdentifier, text: str) -> None:
    assert identifier.identify([text]) == [LanguageGuess("und", 0.0)]


def test_low_confidence_is_undetermined_with_its_confidence(identifier: LanguageIdentifier) -> None:
    [guess] = identifier.identify(["lol"])
    assert guess.code == "und"
    assert 0.0 < guess.confidence < identifier.min_confidence


def test_order_and_length_are_preserved(identifier: LanguageIdentifier) -> None:
    texts = [post for _, post in reversed(LABELLED)]
    texts.insert(3, "🔥🔥🔥")
    expected = [code for code, _ in reversed(LABELLED)]
    expected.insert(3, "und")
    assert [guess.code for guess in identifier.identify(texts)] == expected
    assert identifier.identify([]) == []


def test_restriction_to_a_language_subset(identifier: LanguageIdentifier) -> None:
    restricted = LanguageIdentifier(["NL", "de"], min_confidence=0.0)
    assert restricted.languages == frozenset({"nl", "de"})
    assert {"nl", "de", "en"} < identifier.languages
    guesses = restricted.identify([*POSTS["nl"], *POSTS["de"], *POSTS["en"]])
    assert [guess.code for guess in guesses[:4]] == ["nl", "nl", "de", "de"]
    # English is not among the choices: the post must land in one of the two allowed languages.
    assert {guess.code for guess in guesses[4:]} <= {"nl", "de"}


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        LanguageIdentifier(["nl", "xx"])
    with pytest.raises(ValueError, match="at least one"):
        LanguageIdentifier([])
    with pytest.raises(ValueError, match="min_confidence"):
        LanguageIdentifier(min_confidence=1.5)


def test_identify_from_many_threads_matches_sequential(identifier: LanguageIdentifier) -> None:
    texts = [post for _, post in LABELLED]
    sequential = identifier.identify(texts)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: identifier.identify(texts), range(8)))
    assert all(result == sequential for result in results)


def test_strip_social_noise_keeps_hashtag_words() -> None:
    text = "RT @user: Love it 😍😍 #SoGood &amp; more https://t.co/x www.foo.com mail a@b.com 👍🏽❤️"
    assert strip_social_noise(text) == ": Love it SoGood & more mail"


def test_guess_is_immutable() -> None:
    guess = LanguageGuess("nl", 0.9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        guess.code = "en"  # type: ignore[misc]
