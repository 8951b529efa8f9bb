"""How demo posts read: templates rendered into texts, and the brands a text names (with their match types).

Part of the demo source (:mod:`connectors.demo`); every random choice comes from the caller's ``random.Random``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from connectors.demo_corpus import EMOJI, VOCAB, Lang, Template
from pipeline.schema import BrandMatch, MatchType


@dataclass(frozen=True, slots=True)
class DemoBrand:
    """A fictional brand: ``handle`` is tagged as ``@handle``, ``hashtag`` as ``#hashtag``."""

    name: str
    handle: str
    hashtag: str
    products: tuple[str, ...]


@dataclass(slots=True)
class _Slots:
    """The slot values of one rendering. A key in ``first`` reads so at its first occurrence only (``{b}``: as
    matched, e.g. ``@veloxa``, then the plain name); every other value is drawn once and repeated."""

    fill: Callable[[str], str]
    first: dict[str, str]
    _cache: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        if key in self.first:
            return self.first.pop(key)
        if key not in self._cache:
            self._cache[key] = self.fill(key)
        return self._cache[key]


class TextKit:
    """Renders templates for ``brand`` and its ``competitors`` and finds which of them a text names."""

    def __init__(self, rng: random.Random, brand: DemoBrand, competitors: Sequence[DemoBrand]) -> None:
        self._rng = rng
        self.brand = brand
        self.competitors = tuple(competitors)
        self._brands = (brand, *self.competitors)
        self._patterns = {b.name: _brand_patterns(b) for b in self._brands}

    def render(
        self,
        template: Template,
        lang: Lang,
        subject: DemoBrand,
        style: MatchType,
        *,
        body: str | None = None,
        reply_to: str = "",
        quote: Callable[[], str] = str,
        by_brand: bool = False,
        name_brand: bool = False,
    ) -> str:
        """The text of one post from ``template`` (or ``body``, its text trimmed) about ``subject``.

        ``style`` is how ``{b}`` names the subject the first time; ``reply_to`` fills ``{u}``, ``quote()`` ``{q}``.
        ``name_brand``: nothing else names the subject, so the first ``{p}`` reads "<brand> <product>" (a
        connector's search only finds posts that name the brand). Posts by the brand itself are not decorated;
        others sometimes get emoji, hashtags, an interjection or a lower-case start, as people write.
        """
        rng = self._rng
        vocab = VOCAB[lang]
        crisis = template.kind.startswith("crisis")
        product = subject.products[0] if crisis else rng.choice(subject.products)
        mood = "crisis" if crisis and template.sentiment == "negative" else template.sentiment
        trailing_tag = style == "hashtag" and rng.random() < 0.5
        if style == "tagged":
            first = f"@{subject.handle}"
        elif style == "hashtag" and not trailing_tag:
            first = "#" + rng.choice((subject.hashtag, subject.hashtag.capitalize()))
        else:
            first = subject.name

        def fill(key: str) -> str:
            match key:
                case "b":
                    return subject.name
                case "p":
                    return product
                case "c":
                    rival = rng.choice([b for b in self.competitors if b is not subject] or list(self.competitors))
                    return f"@{rival.handle}" if rng.random() < 0.15 else rival.name
                case "city":
                    return rng.choice(vocab.cities)
                case "n":
                    return str(rng.randint(2, 9))
                case "d":
                    return str(rng.randint(2, 21))
                case "h":
                    return str(rng.randint(1, 48))
                case "km":
                    return str(rng.randint(15, 120))
                case "pct":
                    return str(rng.randrange(5, 41, 5))
                case "eur":
                    return _money(vocab.currency, vocab.currency_before, vocab.thousands, rng.choice(_FEES))
                case "price":
                    amount = rng.randrange(1899, 4700, 100)
                    return _money(vocab.currency, vocab.currency_before, vocab.thousands, amount)
                case "order":
                    return f"{subject.name[:2].upper()}-{rng.randint(10_000, 99_999)}"
                case "e":
                    return rng.choice(EMOJI[mood])
                case "tag":
                    return rng.choice(vocab.hashtags)
                case "u":
                    return reply_to
                case "agent":
                    return rng.choice(vocab.agents)
                case "q":
                    return quote()
            raise KeyError(key)

        firsts = {"b": first, "p": f"{first} {product}"} if name_brand else {"b": first}
        text = (template.text if body is None else body).format_map(_Slots(fill, firsts))
        if trailing_tag:
            text += f" #{subject.hashtag}"
        if not by_brand and template.kind not in ("news", "crisis_news"):
            if text[:1].isupper() and rng.random() < 0.08:
                text = text[0].lower() + text[1:]
            if crisis and rng.random() < 0.35:
                text = f"{rng.choice(vocab.interjections)} {text}"
            if rng.random() < (0.25 if crisis else 0.12):
                emoji = rng.choice(EMOJI[mood])
                text += "" if text.endswith(emoji) else " " + emoji
            if crisis and rng.random() < 0.15:
                text += " " + rng.choice(vocab.crisis_hashtags)
            elif rng.random() < 0.10:
                text += " " + rng.choice(vocab.hashtags)
        return text

    def match_brands(self, text: str, own: DemoBrand | None = None) -> list[BrandMatch]:
        """The brands ``text`` names, each with its strongest match (``@handle`` > ``#hashtag`` > name), brand
        first. ``own``: a brand that counts as tagged regardless (its own account or review page)."""
        matches: list[BrandMatch] = []
        for brand in self._brands:
            tagged, hashtag, named = self._patterns[brand.name]
            match_type: MatchType | None
            if brand is own or tagged.search(text):
                match_type = "tagged"
            elif hashtag.search(text):
                match_type = "hashtag"
            elif named.search(text):
                match_type = "untagged"
            else:
                match_type = None
            if match_type is not None:
                matches.append(BrandMatch(brand=brand.name, match_type=match_type, competitor=brand is not self.brand))
        return matches


_FEES = (12, 19, 25, 29, 35, 39, 49, 59, 79, 99, 120, 149, 189)


def _money(currency: str, before: bool, thousands: str, amount: int) -> str:
    digits = f"{amount:,}".replace(",", thousands)
    return f"{currency}{digits}" if before else f"{digits} {currency}"


def _brand_patterns(brand: DemoBrand) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(tagged, hashtag, name) patterns; the name pattern ignores the name inside @handles and #hashtags."""
    return (
        re.compile(rf"(?<![\w@])@{re.escape(brand.handle)}(?![\w@])", re.IGNORECASE),
        re.compile(rf"(?<![\w#])#{re.escape(brand.hashtag)}(?!\w)", re.IGNORECASE),
        re.compile(rf"(?<![\w@#]){re.escape(brand.name)}(?!\w)", re.IGNORECASE),
    )
