"""What each platform's records look like: native ids, urls, accounts, engagement, fetch delays, declared languages.

Used by :mod:`connectors.demo` so that demo mentions are shaped like the real connectors' output. Every random
choice comes from the caller's ``random.Random``, so a seed reproduces the same accounts and ids.

Native ids (``Mention.id`` is ``mention_id(platform, native)``):

- mastodon: the status's ActivityPub URI (``https://<instance>/users/<user>/statuses/<snowflake>``), unique across
  instances, unlike the numeric status id, which each server assigns itself;
- bluesky: the post's AT URI (``at://did:plc:…/app.bsky.feed.post/<TID>``);
- reddit: the fullname (``t3_…`` post, ``t1_…`` comment);
- trustpilot: the review id (24 hex digits);
- rss: the article URL (the feed item's guid).
"""

from __future__ import annotations

import math
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from connectors.demo_corpus import VOCAB, Lang
from pipeline.schema import Author, Engagement, MentionKind

Platform = Literal["mastodon", "bluesky", "reddit", "trustpilot", "rss"]
SOCIAL: tuple[Platform, ...] = ("mastodon", "bluesky", "reddit")

MAX_FETCH_DELAY_S = 120.0
"""Upper bound of ``fetched_at - created_at`` for a first fetch (RSS and review pages are polled)."""

_FETCH_DELAY_S: dict[Platform, tuple[float, float]] = {
    "mastodon": (0.3, 2.5),  # streaming API
    "bluesky": (0.1, 1.5),  # firehose / Jetstream
    "reddit": (3.0, 45.0),  # search polled every ~minute
    "trustpilot": (20.0, MAX_FETCH_DELAY_S),
    "rss": (15.0, MAX_FETCH_DELAY_S),
}
_RSS_LANGUAGE = {"nl": "nl-NL", "en": "en-GB", "de": "de-DE", "fr": "fr-FR", "es": "es-ES"}
_SOURCE = {"mastodon": "mastodon:mastodon.social", "bluesky": "bluesky:jetstream", "reddit": "reddit:search"}
_BASE32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_POOL_LIMIT = 3000
_REUSE_SHARE = 0.35


@dataclass(frozen=True, slots=True)
class Persona:
    """An account on one platform. ``at`` is how a post names it (``@sanne83``, ``u/sanne83``)."""

    platform: Platform
    lang: Lang
    author: Author
    at: str
    home: str = ""
    """mastodon: the account's instance; bluesky: its DID; trustpilot: its consumer id; else ''."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where a post lives: its native id, url, connector instance and kind, plus the reddit thread it belongs to."""

    native_id: str
    url: str
    source: str
    kind: MentionKind
    thread: tuple[str, str] | None = None
    """reddit only: (subreddit, base-36 id of the thread's post)."""


@dataclass
class PlatformKit:
    """Draws platform-shaped accounts, ids, urls, engagement and delays from ``rng``."""

    rng: random.Random
    _pools: dict[tuple[Platform, Lang], list[Persona]] = field(default_factory=dict)
    _handles: set[tuple[Platform, str]] = field(default_factory=set)
    _brands: dict[tuple[Platform, str], Persona] = field(default_factory=dict)

    # --- accounts ---------------------------------------------------------------------------------------------

    def persona(self, platform: Platform, lang: Lang, *, influencer: bool = False) -> Persona:
        """A person posting in ``lang``: about a third of the time one who posted before (people post again), and
        always one of the first ``_POOL_LIMIT`` once that many exist (influencers are always new)."""
        pool = self._pools.setdefault((platform, lang), [])
        # A full pool is the whole population: a long-running demo then stops growing memory.
        if pool and not influencer and (len(pool) >= _POOL_LIMIT or self.rng.random() < _REUSE_SHARE):
            return self.rng.choice(pool)
        persona = self._new_persona(platform, lang, influencer)
        if len(pool) < _POOL_LIMIT:
            pool.append(persona)
        return persona

    def brand_account(self, platform: Platform, name: str, handle: str) -> Persona:
        """The brand's own (webcare) account on ``platform`` (the same one every time)."""
        key = (platform, handle)
        if key not in self._brands:
            self._brands[key] = self._new_brand_account(platform, name, handle)
        return self._brands[key]

    def _new_brand_account(self, platform: Platform, name: str, handle: str) -> Persona:
        lang: Lang = "en"  # an account has no language of its own; its posts do
        if platform == "mastodon":
            author = Author(handle=f"{handle}@mastodon.social", display_name=name, followers=4_800)
            return Persona(platform, lang, author, f"@{handle}", "mastodon.social")
        if platform == "bluesky":
            author = Author(handle=f"{handle}.bsky.social", display_name=name, followers=7_300)
            return Persona(
                platform, lang, author, f"@{handle}.bsky.social", "did:plc:" + self._token(_BASE32_SORTABLE, 24)
            )
        if platform == "reddit":
            return Persona(platform, lang, Author(handle=f"{name}_Official"), f"u/{name}_Official")
        raise ValueError(f"brands do not reply on {platform}")

    def news_outlet(self, lang: Lang) -> Persona:
        domain, name = self.rng.choice(VOCAB[lang].news_sites)
        return Persona("rss", lang, Author(handle=domain, display_name=name), domain, domain)

    def _new_persona(self, platform: Platform, lang: Lang, influencer: bool) -> Persona:
        vocab = VOCAB[lang]
        first = self.rng.choice(vocab.first_names)
        last = self.rng.choice(vocab.last_names)
        user = self._unique_handle(platform, first, last, vocab.handle_words)
        display = self.rng.choice((first, f"{first} {last}", f"{first} {last[0]}.", f"{first} 🚲", user))
        if platform == "trustpilot":
            consumer = self._token("0123456789abcdef", 24)
            author = Author(handle=consumer, display_name=f"{first} {last[0]}.")
            return Persona(platform, lang, author, f"{first} {last[0]}.", consumer)
        if platform == "reddit":
            return Persona(platform, lang, Author(handle=user), f"u/{user}")
        followers = self._followers(influencer)
        if platform == "mastodon":
            instance = self.rng.choice(vocab.mastodon_instances)
            author = Author(handle=f"{user}@{instance}", display_name=display, followers=followers)
            return Persona(platform, lang, author, f"@{user}", instance)
        handle = f"{user}.bsky.social"
        author = Author(handle=handle, display_name=display, followers=followers)
        return Persona(platform, lang, author, f"@{handle}", "did:plc:" + self._token(_BASE32_SORTABLE, 24))

    def _unique_handle(self, platform: Platform, first: str, last: str, words: tuple[str, ...]) -> str:
        first_a, last_a = _ascii(first), _ascii(last).replace(" ", "")
        candidates = (
            f"{first_a}{self.rng.randint(70, 99)}",
            f"{first_a}_{self.rng.choice(words)}",
            f"{first_a[0]}{last_a}",
            f"{first_a}_{last_a}",
            f"{self.rng.choice(words)}_{first_a}",
        )
        user = self.rng.choice(candidates)
        while (platform, user) in self._handles:
            user = f"{user}{self.rng.randint(0, 9)}"
        self._handles.add((platform, user))
        return user

    def _followers(self, influencer: bool) -> int:
        if influencer:
            return min(2_000_000, round(self.rng.lognormvariate(math.log(40_000), 0.9)))
        return min(500_000, round(self.rng.lognormvariate(math.log(150), 1.4)))

    # --- posts --------------------------------------------------------------------------------------------------

    def locate(
        self,
        persona: Persona,
        created_at: datetime,
        seq: int,
        text: str,
        *,
        parent: Location | None = None,
        source_tag: str = "",
    ) -> Location:
        """Native id, url, source and kind of a new post by ``persona``; ``parent`` makes it a reply/comment.

        ``seq`` is unique per generated post and keeps ids unique; ``source_tag`` names the review page or feed.
        """
        platform = persona.platform
        ms = int(created_at.timestamp() * 1000)
        if platform == "mastodon":
            user, instance = persona.author.handle.split("@", 1)
            status = (ms << 16) | (seq & 0xFFFF)
            native = f"https://{instance}/users/{user}/statuses/{status}"
            kind: MentionKind = "reply" if parent else "post"
            return Location(native, f"https://{instance}/@{user}/{status}", _SOURCE[platform], kind)
        if platform == "bluesky":
            rkey = _tid(ms * 1000 + self.rng.randrange(1000), seq)
            native = f"at://{persona.home}/app.bsky.feed.post/{rkey}"
            url = f"https://bsky.app/profile/{persona.author.handle}/post/{rkey}"
            return Location(native, url, _SOURCE[platform], "reply" if parent else "post")
        if platform == "reddit":
            if parent is not None and parent.thread is not None:
                sub, post36 = parent.thread
                comment36 = _base36(0x4000_0000 + seq * 7 + self.rng.randrange(7))
                url = f"https://www.reddit.com/r/{sub}/comments/{post36}/comment/{comment36}/"
                return Location(f"t1_{comment36}", url, _SOURCE[platform], "comment", parent.thread)
            sub = self.rng.choice(VOCAB[persona.lang].subreddits)
            post36 = _base36(0x5800_0000 + seq * 7 + self.rng.randrange(7))
            url = f"https://www.reddit.com/r/{sub}/comments/{post36}/{_slug(text, 6, '_')}/"
            return Location(f"t3_{post36}", url, _SOURCE[platform], "post", (sub, post36))
        if platform == "trustpilot":
            review = f"{ms // 1000:08x}{self.rng.getrandbits(40):010x}{seq & 0xFFFFFF:06x}"
            return Location(
                review, f"https://www.trustpilot.com/reviews/{review}", f"trustpilot:{source_tag}", "review"
            )
        vocab = VOCAB[persona.lang]
        day = created_at.strftime("%Y/%m/%d")
        url = f"https://{persona.home}/{vocab.news_section}/{day}/{_slug(text, 8, '-')}-{100_000 + seq}"
        return Location(url, url, f"rss:{persona.home}", "article")

    def engagement(self, persona: Persona, boost: float = 1.0) -> Engagement:
        """Counts as a connector sees them at fetch time; ``boost`` > 1 for posts that are spreading."""
        platform = persona.platform
        if platform in ("mastodon", "bluesky"):
            base = (persona.author.followers or 50) * 0.004 * self.rng.lognormvariate(0, 0.9) * boost
            return Engagement(
                likes=int(base),
                shares=int(base * self.rng.uniform(0.1, 0.5)),
                replies=int(base * self.rng.uniform(0.05, 0.3)),
            )
        if platform == "reddit":
            score = int(self.rng.lognormvariate(math.log(4), 1.1) * boost)
            return Engagement(likes=score, replies=int(score * self.rng.uniform(0.1, 0.6)))
        if platform == "trustpilot":
            return Engagement(likes=self.rng.choice((0, 0, 0, 1, 2)))
        return Engagement()

    def fetch_delay(self, platform: Platform) -> float:
        low, high = _FETCH_DELAY_S[platform]
        return self.rng.uniform(low, high)

    def lang_hint(self, platform: Platform, lang: Lang) -> str | None:
        """What the platform declares: Mastodon and Bluesky posts carry the author's chosen (sometimes default,
        wrong) language, reddit none, review sites and feeds their page's or feed's language."""
        if platform in ("mastodon", "bluesky"):
            roll = self.rng.random()
            if roll < 0.06:
                return None
            if roll < 0.12:
                return "en"  # the client's default language, left unchanged
            return lang
        if platform == "reddit":
            return None
        if platform == "rss":
            return _RSS_LANGUAGE[lang]
        return lang

    def _token(self, alphabet: str, length: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(length))


def _tid(microseconds: int, clock: int) -> str:
    """A Bluesky record key: 53 bits of microseconds and 10 bits of clock id, base32-sortable, 13 characters."""
    value = (microseconds << 10) | (clock & 0x3FF)
    return "".join(_BASE32_SORTABLE[(value >> shift) & 31] for shift in range(60, -1, -5))


def _base36(value: int) -> str:
    digits = []
    while value:
        value, rest = divmod(value, 36)
        digits.append(_BASE36[rest])
    return "".join(reversed(digits)) or "0"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _slug(text: str, words: int, sep: str) -> str:
    kept = [w for w in (_ascii(part).strip(".,:;!?¿¡\"'“”„«»()—-") for part in text.split()) if w.isalnum()]
    return sep.join(kept[:words]) or "post"
