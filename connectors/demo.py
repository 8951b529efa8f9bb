"""A deterministic, multilingual stream of demo mentions about a fictional e-bike brand, with a crisis part-way.

:class:`DemoStream` simulates what luister's connectors would fetch about the brand ("Veloxa", ``@veloxa``,
``#veloxa``) and two competitors on Mastodon, Bluesky, reddit, a review site and news feeds, in Dutch, English,
German, French and Spanish: praise, complaints, questions, suggestions, chatter, news, threads of replies and the
brand's own webcare answers. ``crisis_after_s`` seconds in, one post about a battery fire snowballs: replies,
quote posts, copycat complaints and worried questions spread across platforms and languages, then news articles
and the brand's statement, while volume and the negative share rise over several minutes and slowly decay.

Time is simulated: mentions arrive as a Poisson process (``rate_per_s``, plus the crisis's extra rate) on a clock
that starts at ``start``, so ``take(10_000)`` returns instantly; :meth:`DemoStream.run` paces them in real time.
The same ``seed``, ``start`` and options give exactly the same mentions.

What the texts were written to say (language, sentiment, intent, topics, crisis or not) is known for every
mention: see :class:`Truth`, :meth:`DemoStream.ground_truth` and :meth:`DemoStream.events`. It is deliberately
not part of the :class:`~pipeline.schema.Mention`: no real connector could know it.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Literal, Self, TypeVar

from connectors.demo_corpus import LANGS, TEMPLATES, Intent, Lang, Template, TemplateKind
from connectors.demo_platforms import SOCIAL, Location, Persona, Platform, PlatformKit
from connectors.demo_text import DemoBrand, TextKit
from connectors.pacing import Pacer, send_paced
from connectors.sink import MentionSink
from pipeline.schema import MatchType, Mention, Sentiment, mention_id, utcnow

DEFAULT_LANGUAGES: Mapping[Lang, float] = {"nl": 0.35, "en": 0.25, "de": 0.20, "fr": 0.10, "es": 0.10}

_BASELINE_MIX: Mapping[TemplateKind, float] = {
    "praise": 0.20,
    "complaint": 0.24,
    "question": 0.15,
    "suggestion": 0.06,
    "chatter": 0.12,
    "news": 0.005,
    "reply": 0.12,
    "comparison": 0.05,
}
_CRISIS_MIX: Mapping[TemplateKind, float] = {
    "crisis_reply": 0.24,
    "crisis_quote": 0.14,
    "crisis_copycat": 0.24,
    "crisis_question": 0.12,
    "crisis_defend": 0.06,
    "crisis_competitor": 0.05,
    "crisis_webcare": 0.07,
}
# (mastodon, bluesky, reddit): German posters favour Mastodon, English ones reddit.
_SOCIAL_WEIGHTS: Mapping[Lang, tuple[float, float, float]] = {
    "nl": (0.40, 0.40, 0.20),
    "en": (0.25, 0.40, 0.35),
    "de": (0.50, 0.25, 0.25),
    "fr": (0.40, 0.40, 0.20),
    "es": (0.35, 0.45, 0.20),
}
_MATCH_STYLE: Mapping[bool, tuple[float, float, float]] = {False: (0.45, 0.15, 0.40), True: (0.25, 0.10, 0.65)}
"""(tagged, hashtag, untagged) for the brand (False) and for competitors (True)."""
_MAIN_BRAND_SHARE = 0.68
_REVIEW_SHARE = 0.12
_WEBCARE_SHARE = 0.35
_WEBCARE_THANKS_SHARE = 0.10
_WEBCARE_MEDIAN_DELAY_S = 12 * 60
_RECENT = 400

T = TypeVar("T")


VELOXA = DemoBrand("Veloxa", "veloxa", "veloxa", ("Urban 3", "Cargo Max", "Trail X", "Fold S", "City 2"))
TREKKO = DemoBrand("Trekko", "trekko", "trekko", ("T5 Commute", "Kargo", "Tour 8"))
VONK = DemoBrand("Vonk", "vonkbikes", "vonk", ("S1", "City+", "Flow 2"))


@dataclass(frozen=True, slots=True)
class CrisisShape:
    """How the crisis unfolds, in seconds after its first post.

    Its extra mention rate is ``peak_multiplier × rate_per_s × intensity``: intensity rises smoothly from 0 to 1 over
    ``ramp_s``, holds for ``hold_s``, then halves every ``half_life_s``. It starts in ``lang`` on ``platform``; other
    languages join over ``spread_s``. The brand's webcare answers crisis posts from ``webcare_after_s`` on (each
    post at most once). From ``news_after_s`` on, ``news_articles`` articles appear about
    ``news_every_s`` apart; the brand's statement comes after ``statement_after_s``. The product involved is the
    brand's first.
    """

    ramp_s: float = 300.0
    hold_s: float = 300.0
    half_life_s: float = 600.0
    peak_multiplier: float = 4.0
    lang: Lang = "nl"
    platform: Literal["mastodon", "bluesky", "reddit"] = "bluesky"
    spread_s: float = 300.0
    news_after_s: float = 240.0
    news_every_s: float = 90.0
    news_articles: int = 10
    statement_after_s: float = 480.0
    webcare_after_s: float = 180.0

    def intensity(self, since_start_s: float) -> float:
        """0 before the crisis, 1 at its plateau."""
        if since_start_s <= 0:
            return 0.0
        if since_start_s < self.ramp_s:
            x = since_start_s / self.ramp_s
            return x * x * (3 - 2 * x)
        if since_start_s < self.ramp_s + self.hold_s:
            return 1.0
        return float(0.5 ** ((since_start_s - self.ramp_s - self.hold_s) / self.half_life_s))


@dataclass(frozen=True, slots=True)
class Truth:
    """What a demo mention was written to say. ``brand`` is the brand it is about (its subject)."""

    lang: Lang
    sentiment: Sentiment
    intent: Intent
    topics: tuple[str, ...]
    template: TemplateKind
    brand: str
    crisis: bool


@dataclass(frozen=True, slots=True)
class DemoEvent:
    """One mention as the stream emits it; ``refetch`` marks a deliberate re-fetch of an earlier mention."""

    mention: Mention
    truth: Truth
    refetch: bool = False


@dataclass(frozen=True, slots=True)
class _Posted:
    mention: Mention
    truth: Truth
    persona: Persona
    location: Location


class DemoStream:
    """An endless, seeded stream of demo mentions in ``created_at`` order (see the module docstring).

    Iterating (or :meth:`take`, :meth:`events`, :meth:`run`) advances one shared simulation. ``created_at`` never
    decreases, except for re-fetches: with ``duplicate_share`` > 0 (default 0), that share of emissions is an
    earlier mention fetched again (same id, text, author, created_at and engagement, so the same
    ``content_hash()``; only ``fetched_at`` is later), as connectors that poll overlapping windows produce.
    ``fetched_at`` is ``created_at`` plus the platform's fetch delay (≤ ``MAX_FETCH_DELAY_S``).

    ``start`` must be timezone-aware; None means the current time when the first mention is generated (then the
    stream is not reproducible). ``crisis_after_s`` None: no crisis. Ground truth is remembered for the last
    ``truth_capacity`` mentions.
    """

    def __init__(
        self,
        seed: int = 0,
        start: datetime | None = None,
        rate_per_s: float = 5.0,
        crisis_after_s: float | None = 120.0,
        *,
        crisis: CrisisShape = CrisisShape(),
        brand: DemoBrand = VELOXA,
        competitors: Sequence[DemoBrand] = (TREKKO, VONK),
        languages: Mapping[Lang, float] = DEFAULT_LANGUAGES,
        duplicate_share: float = 0.0,
        truth_capacity: int = 200_000,
    ) -> None:
        if start is not None and start.utcoffset() is None:
            raise ValueError("start must be timezone-aware")
        if not rate_per_s > 0:
            raise ValueError("rate_per_s must be positive")
        if not 0 <= duplicate_share < 1:
            raise ValueError("duplicate_share must be in [0, 1)")
        if not languages or any(lang not in LANGS or weight < 0 for lang, weight in languages.items()):
            raise ValueError(f"languages: weights (>= 0) for some of {LANGS}")
        if not competitors:
            raise ValueError("at least one competitor is needed")
        self.seed = seed
        self.rate_per_s = rate_per_s
        self.crisis_after_s = crisis_after_s
        self.crisis = crisis
        self.brand = brand
        self.competitors = tuple(competitors)
        self.languages = {lang: weight for lang, weight in languages.items() if weight > 0}
        self.duplicate_share = duplicate_share
        self._start = None if start is None else start.astimezone(UTC)
        self._rng = random.Random(seed)
        self._kit = PlatformKit(self._rng)
        self._brands = (brand, *self.competitors)
        self._by_name = {b.name: b for b in self._brands}
        self._text = TextKit(self._rng, brand, self.competitors)
        self._templates: dict[tuple[Lang, TemplateKind], list[Template]] = {}
        for lang, templates in TEMPLATES.items():
            for template in templates:
                self._templates.setdefault((lang, template.kind), []).append(template)
        self._truth: OrderedDict[str, Truth] = OrderedDict()
        self._truth_capacity = truth_capacity
        self._scheduled: list[tuple[float, int, Callable[[float], _Posted | None]]] = []
        self._seq = 0
        self._recent_social: deque[_Posted] = deque(maxlen=_RECENT)
        self._crisis_posts: deque[_Posted] = deque(maxlen=_RECENT)
        self._recent_all: deque[_Posted] = deque(maxlen=_RECENT)
        self._origin: _Posted | None = None
        self._answered: set[str] = set()
        self._events = self._generate()

    # --- public --------------------------------------------------------------------------------------------------

    @property
    def start(self) -> datetime:
        """The simulated clock's zero (UTC)."""
        if self._start is None:
            self._start = utcnow()
        return self._start

    @property
    def crisis_start(self) -> datetime | None:
        """When the crisis's first post is created (None without a crisis)."""
        return None if self.crisis_after_s is None else self.start + timedelta(seconds=self.crisis_after_s)

    @property
    def crisis_origin_id(self) -> str | None:
        """The id of the crisis's first post, once it has been generated."""
        return None if self._origin is None else self._origin.mention.id

    def crisis_intensity(self, at: datetime) -> float:
        """The crisis's intensity (0–1) at ``at``; 0 without a crisis."""
        if self.crisis_after_s is None:
            return 0.0
        return self.crisis.intensity((at - self.start).total_seconds() - self.crisis_after_s)

    def expected_rate(self, at: datetime) -> float:
        """Expected fresh mentions per second at ``at`` (webcare answers and re-fetches come on top)."""
        return self.rate_per_s * (1 + self.crisis.peak_multiplier * self.crisis_intensity(at))

    def ground_truth(self, mention_id: str) -> Truth | None:
        """What the mention with this id was written to say; None if unknown or forgotten (``truth_capacity``)."""
        return self._truth.get(mention_id)

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Mention:
        return next(self._events).mention

    def events(self) -> Iterator[DemoEvent]:
        """The stream with each mention's ground truth and re-fetch flag (advances the same simulation)."""
        return self._events

    def take(self, n: int) -> list[Mention]:
        """The next ``n`` mentions."""
        return [next(self) for _ in range(n)]

    async def run(
        self, sink: MentionSink, *, realtime: bool = True, speed: float = 1.0, limit: int | None = None
    ) -> int:
        """Send mentions to ``sink`` in ``fetched_at`` order (the order a live connector publishes them) until
        ``limit`` (None: forever, until cancelled). Returns how many were sent.

        ``realtime``: each mention is sent when the wall clock reaches its ``fetched_at``, the simulated clock
        running ``speed`` times faster than real time from now on. With the default ``start`` (now) the timestamps
        then match the wall clock at ``speed`` 1; a ``start`` in the past is caught up at once (history for the
        dashboards), then followed live. Without ``realtime`` mentions go out as fast as the sink accepts them.
        """
        pacer = Pacer(speed, origin=utcnow()) if realtime else None
        return await send_paced(in_fetch_order(self), sink, pacer, limit)

    # --- the simulation ----------------------------------------------------------------------------------------

    def _generate(self) -> Iterator[DemoEvent]:
        rng = self._rng
        base = self.rate_per_s
        peak = 0.0 if self.crisis_after_s is None else base * self.crisis.peak_multiplier
        ceiling = base + peak
        if self.crisis_after_s is not None:
            t0 = self.crisis_after_s
            self._schedule(t0, self._crisis_origin)
            if self.crisis.news_articles > 0:
                self._schedule(t0 + self.crisis.news_after_s, partial(self._crisis_article, 1))
            self._schedule(t0 + self.crisis.statement_after_s, partial(self._crisis_statement, self.crisis.lang))
            if self.crisis.lang != "en":
                self._schedule(t0 + self.crisis.statement_after_s + 90, partial(self._crisis_statement, "en"))
        arrival = rng.expovariate(ceiling)
        while True:
            posted: _Posted | None
            if self._scheduled and self._scheduled[0][0] <= arrival:
                now, _, action = heapq.heappop(self._scheduled)
                posted = action(now)
            else:
                # Thinning: candidates at the peak rate, kept with probability rate(t) / peak rate.
                now, arrival = arrival, arrival + rng.expovariate(ceiling)
                roll = rng.random() * ceiling
                if roll < base:
                    posted = self._baseline(now)
                elif roll < base + peak * self._intensity(now):
                    posted = self._crisis_event(now)
                else:
                    continue
            if posted is None:
                continue
            yield DemoEvent(posted.mention, posted.truth)
            if self.duplicate_share and rng.random() < self.duplicate_share:
                yield self._refetch(now)

    def _intensity(self, t: float) -> float:
        assert self.crisis_after_s is not None
        return self.crisis.intensity(t - self.crisis_after_s)

    def _schedule(self, t: float, action: Callable[[float], _Posted | None]) -> None:
        self._seq += 1
        heapq.heappush(self._scheduled, (t, self._seq, action))

    def _baseline(self, t: float) -> _Posted:
        rng = self._rng
        kind = _weighted(rng, _BASELINE_MIX)
        parent = self._pick(self._recent_social) if kind == "reply" else None
        if kind == "reply" and parent is None:
            kind = "complaint"
        if parent is not None:
            lang = parent.truth.lang
            subject = self._by_name[parent.truth.brand]
            persona = self._kit.persona(parent.persona.platform, lang)
            template = rng.choice(self._reply_templates(lang, "reply", parent))
            return self._post(t, template, lang, subject, persona, parent=parent)
        lang = _weighted(rng, self.languages)
        subject = self.brand if kind == "comparison" else self._pick_subject()
        template = rng.choice(self._templates[lang, kind])
        if kind == "news":
            return self._post(t, template, lang, subject, self._kit.news_outlet(lang), style="untagged")
        if kind in ("praise", "complaint") and rng.random() < _REVIEW_SHARE:
            persona = self._kit.persona("trustpilot", lang)
            return self._post(t, template, lang, subject, persona, style="untagged", addressed=True)
        posted = self._post(t, template, lang, subject, self._kit.persona(self._social(lang), lang))
        self._maybe_schedule_webcare(t, posted)
        return posted

    def _crisis_origin(self, t: float) -> _Posted:
        lang = self.crisis.lang
        template = self._templates[lang, "crisis_origin"][0]
        persona = self._kit.persona(self.crisis.platform, lang)
        self._origin = self._post(t, template, lang, self.brand, persona, crisis=True, style="tagged", boost=3.0)
        return self._origin

    def _crisis_statement(self, lang: Lang, t: float) -> _Posted:
        statements = [tpl for tpl in self._templates[lang, "crisis_webcare"] if "{u}" not in tpl.text]
        platform = self.crisis.platform if lang == self.crisis.lang else "mastodon"
        persona = self._kit.brand_account(platform, self.brand.name, self.brand.handle)
        boost = 1 + 20 * self._intensity(t)
        template = self._rng.choice(statements)
        return self._post(t, template, lang, self.brand, persona, crisis=True, by_brand=True, boost=boost)

    def _crisis_event(self, t: float) -> _Posted:
        rng = self._rng
        since = t - (self.crisis_after_s or 0.0)
        kind = _weighted(rng, _CRISIS_MIX)
        boost = 1 + 20 * self._intensity(t)
        parent = None
        if kind == "crisis_webcare":
            parent = self._unanswered_crisis_post(t) if since >= self.crisis.webcare_after_s else None
            kind = kind if parent is not None else "crisis_copycat"
        elif kind == "crisis_reply":
            parent = self._crisis_parent(since)
        if parent is not None:
            lang = parent.truth.lang
            platform = parent.persona.platform
            template = rng.choice(self._reply_templates(lang, kind, parent))
            by_brand = kind == "crisis_webcare"
            if by_brand:
                persona = self._kit.brand_account(platform, self.brand.name, self.brand.handle)
            else:
                persona = self._kit.persona(platform, lang)
            return self._post(
                t, template, lang, self.brand, persona, parent=parent, crisis=True, by_brand=by_brand, boost=boost
            )
        lang = self._crisis_lang(since)
        template = rng.choice(self._templates[lang, kind])
        influencer = kind == "crisis_quote" and rng.random() < 0.08
        persona = self._kit.persona(self._social(lang), lang, influencer=influencer)
        return self._post(t, template, lang, self.brand, persona, crisis=True, boost=boost)

    def _crisis_article(self, number: int, t: float) -> _Posted:
        if number < self.crisis.news_articles:
            gap = self._rng.expovariate(1 / self.crisis.news_every_s) if self.crisis.news_every_s > 0 else 0.0
            self._schedule(t + gap, partial(self._crisis_article, number + 1))
        lang = self._crisis_lang(t - (self.crisis_after_s or 0.0))
        template = self._rng.choice(self._templates[lang, "crisis_news"])
        outlet = self._kit.news_outlet(lang)
        return self._post(t, template, lang, self.brand, outlet, crisis=True, style="untagged")

    def _crisis_parent(self, since: float) -> _Posted:
        assert self._origin is not None
        if not self._crisis_posts or self._rng.random() < max(0.15, 0.5 - since / 1200):
            return self._origin
        return self._rng.choice(self._crisis_posts)

    def _unanswered_crisis_post(self, t: float) -> _Posted | None:
        """The origin, else one of a few random crisis posts, not yet answered and at least a minute old."""
        assert self._origin is not None
        seen_by = self._at(t) - timedelta(seconds=60)
        candidates = [self._origin] + [self._rng.choice(self._crisis_posts) for _ in range(5) if self._crisis_posts]
        return next(
            (p for p in candidates if p.mention.id not in self._answered and p.mention.created_at <= seen_by), None
        )

    def _crisis_lang(self, since: float) -> Lang:
        spread = 0.35 * min(1.0, since / self.crisis.spread_s) if self.crisis.spread_s > 0 else 0.35
        weights = {lang: 1.0 if lang == self.crisis.lang else spread for lang in self.languages}
        weights.setdefault(self.crisis.lang, 1.0)
        return _weighted(self._rng, weights)

    def _maybe_schedule_webcare(self, t: float, posted: _Posted) -> None:
        if posted.truth.brand != self.brand.name:
            return
        share = {"complaint": _WEBCARE_SHARE, "question": _WEBCARE_SHARE, "praise": _WEBCARE_THANKS_SHARE}
        if self._rng.random() < share.get(posted.truth.template, 0.0):
            delay = min(4 * 3600.0, max(60.0, self._rng.lognormvariate(math.log(_WEBCARE_MEDIAN_DELAY_S), 0.8)))
            self._schedule(t + delay, partial(self._webcare, posted))

    def _webcare(self, parent: _Posted, t: float) -> _Posted:
        lang = parent.truth.lang
        options = self._templates[lang, "webcare"]
        if parent.truth.sentiment == "positive":
            fitting = [tpl for tpl in options if tpl.sentiment == "positive" and not tpl.topics]
        else:
            fitting = [tpl for tpl in options if set(tpl.topics) & set(parent.truth.topics)]
            fitting = fitting or [tpl for tpl in options if tpl.topics == ("customer_service",)]
        persona = self._kit.brand_account(parent.persona.platform, self.brand.name, self.brand.handle)
        return self._post(t, self._rng.choice(fitting), lang, self.brand, persona, parent=parent, by_brand=True)

    def _refetch(self, now: float) -> DemoEvent:
        original = self._rng.choice(self._recent_all)
        again = self._at(now) + timedelta(seconds=self._kit.fetch_delay(original.persona.platform))
        fetched_at = max(original.mention.fetched_at + timedelta(seconds=1), again)
        return DemoEvent(original.mention.model_copy(update={"fetched_at": fetched_at}), original.truth, True)

    # --- one post ------------------------------------------------------------------------------------------------

    def _post(
        self,
        t: float,
        template: Template,
        lang: Lang,
        subject: DemoBrand,
        persona: Persona,
        *,
        parent: _Posted | None = None,
        crisis: bool = False,
        style: MatchType | None = None,
        addressed: bool = False,
        by_brand: bool = False,
        boost: float = 1.0,
    ) -> _Posted:
        """Render and record one new mention. ``addressed``: it sits on the subject's own page (a review), so
        the subject counts as tagged whether or not the text names it. ``by_brand``: posted by the brand's own
        account, which counts as tagged too."""
        platform = persona.platform
        body = template.text
        prefix = ""
        if parent is not None and platform in ("mastodon", "bluesky") and "{u}" not in body:
            prefix = self._auto_mentions(parent) + " "
        auto_tagged = f"@{subject.handle}" in prefix.split()
        if auto_tagged:
            # The client already put @brand in front; nobody types it a second time.
            body = body.removeprefix("{b} ")
            style = "untagged"
        text = prefix + self._text.render(
            template,
            lang,
            subject,
            style or self._style(subject),
            body=body,
            reply_to="" if parent is None else parent.persona.at,
            quote=self._quote,
            by_brand=by_brand,
            name_brand=not (by_brand or auto_tagged or "{b}" in body),
        )
        created_at = self._at(t)
        self._seq += 1
        location = self._kit.locate(
            persona,
            created_at,
            self._seq,
            text,
            parent=None if parent is None else parent.location,
            source_tag=subject.handle,
        )
        own = subject if addressed else self.brand if by_brand else None
        mention = Mention(
            id=mention_id(platform, location.native_id),
            source=location.source,
            platform=platform,
            url=location.url,
            author=persona.author,
            text=text,
            created_at=created_at,
            fetched_at=created_at + timedelta(milliseconds=round(self._kit.fetch_delay(platform) * 1000)),
            kind=location.kind,
            in_reply_to=None if parent is None else parent.mention.id,
            author_is_brand=by_brand,
            engagement=self._kit.engagement(persona, boost * (0.3 if by_brand else 1.0)),
            brands=self._text.match_brands(text, own),
            lang_hint=self._kit.lang_hint(platform, lang),
            raw_ref=f"demo://{self.seed}/{self._seq}",
        )
        truth = Truth(lang, template.sentiment, template.intent, template.topics, template.kind, subject.name, crisis)
        posted = _Posted(mention, truth, persona, location)
        self._remember(posted)
        return posted

    def _quote(self) -> str:
        assert self._origin is not None
        text = self._origin.mention.text
        if len(text) > 140 and self._rng.random() < 0.6:
            return text[: text.rfind(" ", 0, 120)] + "…"
        return text

    def _auto_mentions(self, parent: _Posted) -> str:
        # Mastodon and Bluesky clients prefill a reply with the parent's author and every account it tagged.
        names = [parent.persona.at]
        for match in parent.mention.brands:
            handle = f"@{self._by_name[match.brand].handle}"
            if match.match_type == "tagged" and handle not in names and not parent.mention.author_is_brand:
                names.append(handle)
        return " ".join(names)

    def _reply_templates(self, lang: Lang, kind: TemplateKind, parent: _Posted) -> list[Template]:
        options = self._templates[lang, kind]
        if kind.endswith("webcare"):
            return [tpl for tpl in options if "{u}" in tpl.text]
        auto_tagged = parent.persona.platform in ("mastodon", "bluesky") and any(
            m.match_type == "tagged" for m in parent.mention.brands
        )
        # A reply that names no brand is only found by a connector when the client adds the tagged brand itself.
        return options if auto_tagged else [tpl for tpl in options if "{b}" in tpl.text]

    def _remember(self, posted: _Posted) -> None:
        mention = posted.mention
        self._truth[mention.id] = posted.truth
        if mention.author_is_brand and mention.in_reply_to is not None:
            self._answered.add(mention.in_reply_to)
        while len(self._truth) > self._truth_capacity:
            self._truth.popitem(last=False)
        self._recent_all.append(posted)
        if mention.platform in SOCIAL and not mention.author_is_brand:
            self._recent_social.append(posted)
            if posted.truth.crisis:
                self._crisis_posts.append(posted)

    # --- small draws ---------------------------------------------------------------------------------------------

    def _at(self, t: float) -> datetime:
        return self.start + timedelta(milliseconds=round(t * 1000))

    def _pick_subject(self) -> DemoBrand:
        if self._rng.random() < _MAIN_BRAND_SHARE:
            return self.brand
        return self._rng.choice(self.competitors)

    def _style(self, subject: DemoBrand) -> MatchType:
        styles: tuple[MatchType, ...] = ("tagged", "hashtag", "untagged")
        weights = _MATCH_STYLE[subject is not self.brand]
        return self._rng.choices(styles, weights)[0]

    def _social(self, lang: Lang) -> Platform:
        return self._rng.choices(SOCIAL, _SOCIAL_WEIGHTS[lang])[0]

    def _pick(self, pool: Sequence[_Posted]) -> _Posted | None:
        return self._rng.choice(pool) if pool else None


def in_fetch_order(mentions: Iterable[Mention]) -> Iterator[Mention]:
    """Reorder a stream like :class:`DemoStream`'s (``created_at`` never decreasing, except re-fetches whose
    ``fetched_at`` lies ahead) into ``fetched_at`` order, holding back only what has not been fetched yet."""
    held: list[tuple[datetime, int, Mention]] = []
    clock: datetime | None = None
    for order, mention in enumerate(mentions):
        if clock is None or mention.created_at > clock:
            clock = mention.created_at
        heapq.heappush(held, (mention.fetched_at, order, mention))
        # Every mention still to come is fetched at or after its created_at >= clock.
        while held and held[0][0] <= clock:
            yield heapq.heappop(held)[2]
    while held:
        yield heapq.heappop(held)[2]


def _weighted(rng: random.Random, weights: Mapping[T, float]) -> T:
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]
