"""IncidentEvent → a Slack message (Block Kit ``blocks`` + a plain ``text`` fallback). Pure: no I/O.

Two shapes: a *root* message (the incident's first message in a channel: header, size vs baseline, top posts,
topics, intents, languages, characterising terms, dashboard button) and a short *reply* for later steps (escalated,
updated, resolved), posted in the root's thread where the transport allows it. ``render_root(..., resolved=True)``
is the edited root of a resolved incident.

Slack's limits are enforced here, so a message never fails for its size: at most 50 blocks, 3,000 characters per
section text, 150 per header, 2,000 per field, 10 fields and 10 context elements, 75 per button label; text from
posts, brands and topics is escaped (``&``, ``<``, ``>``) so a post can never ping ``<!channel>`` or inject links,
and is shown ``verbatim`` (no auto-linking of names).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from pipeline.incidents import Count, ExamplePost, IncidentEvent

MAX_BLOCKS = 50
SECTION_TEXT = 3_000
HEADER_TEXT = 150
FIELD_TEXT = 2_000
MAX_FIELDS = 10
CONTEXT_ELEMENTS = 10
BUTTON_TEXT = 75
URL_CHARS = 3_000
FALLBACK_TEXT = 3_000
POST_TEXT_CHARS = 300
"""Characters of a post shown (before escaping, which at most quintuples them)."""

METADATA_EVENT_TYPE = "luister_incident"

SEVERITY_EMOJI = {
    "low": ":large_blue_circle:",
    "medium": ":large_yellow_circle:",
    "high": ":large_orange_circle:",
    "critical": ":red_circle:",
}
RESOLVED_EMOJI = ":white_check_mark:"
SIGNAL_LABEL = {
    "volume": "mention volume",
    "negative_volume": "negative mentions",
    "negative_share": "negative share",
    "reach_negativity": "reach-weighted negativity",
    "near_duplicates": "near-duplicate posts",
    "theme": "emerging theme",
}
SHARE_SIGNALS = frozenset({"negative_share", "near_duplicates"})
STAGE_VERB = {"opened": "Opened", "escalated": "Escalated", "updated": "Update", "resolved": "Resolved"}


@dataclass(frozen=True)
class Message:
    """What is posted: ``text`` (notifications, screen readers, clients without blocks) and ``blocks``."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.blocks:
            out["blocks"] = self.blocks
        return out


# ---------------------------------------------------------------- text helpers


def escape(text: str) -> str:
    """Escape Slack's three control characters for mrkdwn and the ``text`` field."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (plain text)."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def clip_mrkdwn(text: str, limit: int) -> str:
    """Escaped mrkdwn cut to ``limit`` characters without splitting an entity (``&amp;``) or a ``<link|label>``."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    if cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")]
    return cut.rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    """An http(s) URL usable inside ``<url|label>`` (``|``, ``<``, ``>``, spaces encoded; ``&`` escaped), or None."""
    if not url or urlsplit(url).scheme.lower() not in ("http", "https") or len(url) > URL_CHARS:
        return None
    encoded = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    return encoded.replace("&", "&amp;")


def link(url: str | None, label: str) -> str:
    """``<url|label>`` in mrkdwn (label escaped and ``|``-free), or the escaped label alone without a usable URL."""
    label = escape(label).replace("|", "¦")
    target = safe_url(url)
    return f"<{target}|{label}>" if target else label


def slack_date(moment: datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """A date Slack shows in each reader's own time zone, with an ISO UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"


def number(value: float, signal: str) -> str:
    """A signal value as a human reads it: shares as percentages, counts without decimals."""
    if not math.isfinite(value):
        return str(value)
    if signal in SHARE_SIGNALS:
        return f"{value:.0%}" if value >= 0.1 else f"{value:.1%}"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}"


def ratio(observed: float, expected: float) -> str:
    if expected <= 0:
        return "new (baseline 0)"
    value = observed / expected
    return f"{value:.1f}×" if value < 10 else f"{value:,.0f}×"


def duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h"


def counts(items: list[Count], limit: int = 5) -> str:
    return ", ".join(f"{escape(c.name)} ({c.count:,})" for c in items[:limit])


def signal_label(event: IncidentEvent) -> str:
    return SIGNAL_LABEL.get(event.signal, event.signal.replace("_", " "))


def dashboard_link(event: IncidentEvent, base_url: str | None) -> str | None:
    """The event's own dashboard URL, else ``base_url`` with Grafana-style brand and time-range parameters."""
    if event.dashboard_url:
        return event.dashboard_url
    if not base_url:
        return None
    start = event.opened_at - timedelta(hours=1)
    params: dict[str, str] = {"var-brand": event.brand, "from": str(int(start.timestamp() * 1000))}
    params["to"] = (
        str(int((event.at + timedelta(minutes=30)).timestamp() * 1000)) if event.stage == "resolved" else "now"
    )
    if event.platform:
        params["var-platform"] = event.platform
    separator = "&" if "?" in base_url else "?"
    return base_url + separator + urlencode(params, quote_via=quote)


# ---------------------------------------------------------------- blocks


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, HEADER_TEXT), "emoji": True}}


def _section(mrkdwn: str, fields: list[str] | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip_mrkdwn(mrkdwn, SECTION_TEXT), "verbatim": True},
    }
    if fields:
        block["fields"] = [
            {"type": "mrkdwn", "text": clip_mrkdwn(f, FIELD_TEXT), "verbatim": True} for f in fields[:MAX_FIELDS]
        ]
    return block


def _context(parts: list[str]) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": clip_mrkdwn(p, SECTION_TEXT), "verbatim": True} for p in parts[:CONTEXT_ELEMENTS]
        ],
    }


def _button(url: str | None) -> dict[str, Any] | None:
    if not url or len(url) > URL_CHARS or urlsplit(url).scheme.lower() not in ("http", "https"):
        return None
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": clip("Open the dashboard", BUTTON_TEXT)},
                "url": url,
                "action_id": "luister_open_dashboard",
            }
        ],
    }


def _post_block(post: ExamplePost) -> dict[str, Any]:
    who = link(post.url, f"@{clip(post.author_handle, 80)}")
    facts = [who]
    if post.author_followers is not None:
        facts.append(f"{post.author_followers:,} followers")
    facts.append(escape(clip(post.platform, 40)))
    if post.lang:
        facts.append(escape(clip(post.lang, 10)))
    if post.intent:
        facts.append(escape(clip(post.intent, 40)))
    facts.append(f"reach {post.reach:,}")
    body = " ".join(clip(post.text, POST_TEXT_CHARS).split())  # one quoted paragraph: newlines would end the quote
    return _section(" · ".join(facts) + "\n>" + escape(body))


def _about_lines(event: IncidentEvent) -> list[str]:
    lines = []
    if event.top_topics:
        lines.append(f"*Topics* {counts(event.top_topics)}")
    if event.top_intents:
        lines.append(f"*Intents* {counts(event.top_intents)}")
    if event.languages:
        lines.append(f"*Languages* {counts(event.languages)}")
    if event.terms:
        terms = ", ".join(f"`{escape(t.replace('`', ''))}`" for t in event.terms[:15])
        lines.append(f"*Characterising terms* {terms}")
    return lines


def _fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most ``MAX_BLOCKS``: drop from the middle (the last posts), keep the head and the button."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return [*blocks[: MAX_BLOCKS - 1], blocks[-1]]


def _brand_signal(event: IncidentEvent) -> str:
    where = f" on {event.platform}" if event.platform else ""
    return f"{event.brand}: {signal_label(event)}{where}"


def fallback_text(event: IncidentEvent, *, resolved: bool = False, reply: bool = False) -> str:
    """The plain ``text`` of a message (notifications): severity, brand, signal, size vs baseline."""
    tag = "RESOLVED" if resolved or event.stage == "resolved" else event.severity.upper()
    verb = "" if event.stage == "opened" or not reply else f"{STAGE_VERB[event.stage]}: "
    size = (
        f"observed {number(event.observed, event.signal)} vs expected {number(event.expected, event.signal)}"
        f" ({ratio(event.observed, event.expected)})"
    )
    summary = f" {event.summary}." if event.summary else ""
    return clip_mrkdwn(escape(f"[{tag}] {verb}{_brand_signal(event)}.{summary} {size}"), FALLBACK_TEXT)


def render_root(
    event: IncidentEvent, *, dashboard_url: str | None = None, max_posts: int = 5, resolved: bool = False
) -> Message:
    """The incident's first message in a channel (any stage), or with ``resolved`` its edited, resolved form."""
    resolved = resolved or event.stage == "resolved"
    emoji = RESOLVED_EMOJI if resolved else SEVERITY_EMOJI[event.severity]
    state = "RESOLVED" if resolved else event.severity.upper()
    stage = "" if event.stage in ("opened", "resolved") else f" ({event.stage})"
    blocks: list[dict[str, Any]] = [_header(f"{emoji} {state} · {_brand_signal(event)}{stage}")]

    lead = f"*{escape(event.summary)}*" if event.summary else f"*{escape(signal_label(event).capitalize())}*"
    if resolved:
        lead += f"\nResolved {slack_date(event.at)} after {duration(event.at - event.opened_at)}."
    fields = [
        f"*Observed*\n{number(event.observed, event.signal)}",
        f"*Expected*\n{number(event.expected, event.signal)}"
        + (f" (band ≤ {number(event.upper, event.signal)})" if event.upper is not None else ""),
        f"*Size vs baseline*\n{ratio(event.observed, event.expected)}",
        f"*Severity*\n{event.severity} (score {event.score:.2f})",
        f"*Since*\n{slack_date(event.opened_at)}",
        f"*Platform*\n{escape(event.platform) if event.platform else 'all'}",
    ]
    blocks.append(_section(lead, fields))

    about = _about_lines(event)
    if about:
        blocks.append(_section("\n".join(about)))

    posts = sorted(event.top_posts, key=lambda p: p.reach, reverse=True)[:max_posts]
    if posts:
        blocks.append({"type": "divider"})
        blocks.append(_section("*Top posts by reach*"))
        blocks.extend(_post_block(p) for p in posts)

    blocks.append(_context([f"incident `{escape(event.incident_id)}` · event {event.seq} · luister"]))
    button = _button(dashboard_link(event, dashboard_url))
    if button is not None:
        blocks.append(button)
    return Message(fallback_text(event, resolved=resolved), _fit(blocks))


def render_reply(event: IncidentEvent, *, dashboard_url: str | None = None, threaded: bool = True) -> Message:
    """A later step of an incident: short. ``threaded=False`` (no thread to post in, e.g. an incoming webhook)
    names the incident in full so the message stands on its own."""
    resolved = event.stage == "resolved"
    emoji = RESOLVED_EMOJI if resolved else SEVERITY_EMOJI[event.severity]
    verb = STAGE_VERB[event.stage]
    if event.stage == "escalated":
        verb = f"Escalated to {event.severity.upper()}"
    head = f"{emoji} *{verb}*"
    if not threaded:
        head += f" · *{escape(_brand_signal(event))}* (opened {slack_date(event.opened_at)})"
    if event.summary:
        head += f" — {escape(event.summary)}"
    size = (
        f"Observed {number(event.observed, event.signal)} vs expected {number(event.expected, event.signal)}"
        f" ({ratio(event.observed, event.expected)}) at {slack_date(event.at, '{time}')}."
    )
    if resolved:
        size += f" Lasted {duration(event.at - event.opened_at)}."
    lines = [head, size]
    if not resolved:
        about = _about_lines(event)[:2]
        lines.extend(about)
        if event.top_posts:
            top = max(event.top_posts, key=lambda p: p.reach)
            lines.append(f"Top post: {link(top.url, '@' + clip(top.author_handle, 80))} ({top.reach:,} reach)")
    blocks: list[dict[str, Any]] = [_section("\n".join(lines))]
    if not threaded:
        button = _button(dashboard_link(event, dashboard_url))
        if button is not None:
            blocks.append(button)
    return Message(fallback_text(event, reply=True), blocks)


def incident_metadata(event: IncidentEvent) -> dict[str, Any]:
    """Slack message metadata that lets a later process recognise the message as this event's (crash recovery)."""
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {
            "event_id": event.event_id,
            "incident_id": event.incident_id,
            "stage": event.stage,
            "severity": event.severity,
            "brand": event.brand,
        },
    }


def mark_resolved(root_blocks: list[dict[str, Any]], event: IncidentEvent) -> Message:
    """The root message as it was posted (``root_blocks``, read back from Slack), marked resolved by ``event``:
    the header says RESOLVED and a line under it says when and after how long. Posts and figures stay as posted."""
    note = _context(
        [f"{RESOLVED_EMOJI} *Resolved* {slack_date(event.at)} after {duration(event.at - event.opened_at)}"]
    )
    header = _header(f"{RESOLVED_EMOJI} RESOLVED · {_brand_signal(event)}")
    rest = [b for b in root_blocks if b.get("type") != "header" and b.get("block_id") != "luister_resolved"]
    note["block_id"] = "luister_resolved"
    return Message(fallback_text(event, resolved=True), _fit([header, note, *rest]))
