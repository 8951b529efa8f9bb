"""Block Kit rendering (pure): content, Slack's limits, escaping, thread replies, the resolved marker."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from alert_helpers import T0, incident, post
from fake_platforms.slack import check_blocks

from pipeline.alerts.render import (
    MAX_BLOCKS,
    SECTION_TEXT,
    clip_mrkdwn,
    escape,
    incident_metadata,
    link,
    mark_resolved,
    number,
    ratio,
    render_reply,
    render_root,
)
from pipeline.incidents import Count


def texts(blocks: list[dict[str, Any]]) -> str:
    """Every text the blocks show, joined (what a reader sees, in mrkdwn)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(out)


def test_root_shows_brand_signal_size_severity_posts_topics_and_dashboard() -> None:
    message = render_root(incident(), dashboard_url="https://grafana.example/d/luister")
    check_blocks(message.blocks)
    shown = texts(message.blocks)
    header = message.blocks[0]["text"]["text"]
    assert message.blocks[0]["type"] == "header"
    assert "HIGH" in header and "veloxa" in header and "negative mentions" in header
    assert "140" in shown and "10" in shown and "14×" in shown and "band ≤ 22" in shown
    assert "battery (60)" in shown and "complaint (40)" in shown and "nl (70)" in shown
    # top posts ordered by reach, with links, followers, platform, language
    order = [shown.index(f"@user{n}") for n in (2, 1, 3)]
    assert order == sorted(order)
    assert "<https://social.example/@user2/2|@user2>" in shown and "89,990 followers" in shown
    button = message.blocks[-1]["elements"][0]
    assert button["type"] == "button" and button["url"].startswith("https://grafana.example/d/luister?var-brand=veloxa")
    assert "[HIGH]" in message.text and "veloxa" in message.text and "14×" in message.text


def test_text_from_posts_is_escaped_and_cannot_ping_or_link() -> None:
    nasty = "<!channel> klik <https://evil.example|hier> & win"
    event = incident(
        top_posts=[post(1, 100, text=nasty, author_handle="a|b>c")],
        summary="5 < 7 & <@U123>",
        top_topics=[Count(name="<script>", count=1)],
    )
    message = render_root(event)
    shown = texts(message.blocks)
    assert "<!channel>" not in shown and "<@U123>" not in shown and "<https://evil" not in shown
    assert "&lt;!channel&gt; klik &lt;https://evil.example|hier&gt; &amp; win" in shown
    assert "5 &lt; 7 &amp; &lt;@U123&gt;" in shown and "&lt;script&gt;" in shown
    assert "&lt;!channel&gt;" not in message.text and "5 &lt; 7" in message.text
    assert "a¦b&gt;c" in shown  # a link label cannot end the link early
    for block in message.blocks:
        if block["type"] == "section":
            assert block["text"]["verbatim"] is True


def test_limits_hold_for_huge_incidents() -> None:
    huge = "x&" * 2_000
    event = incident(
        summary=huge,
        top_posts=[post(n, 1000 + n, text=huge[:2000], author_handle="h" * 300) for n in range(60)],
        top_topics=[Count(name=huge[:500], count=n) for n in range(40)],
        top_intents=[Count(name=huge[:500], count=n) for n in range(40)],
        languages=[Count(name=huge[:500], count=n) for n in range(40)],
        terms=[huge[:200]] * 40,
        brand="b" * 300,
    )
    message = render_root(event, max_posts=60)
    check_blocks(message.blocks)
    assert len(message.blocks) <= MAX_BLOCKS
    assert message.blocks[-1]["type"] == "actions" or event.dashboard_url is None
    sections = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert max(len(t) for t in sections) >= SECTION_TEXT - 5, "the test must actually hit the limit"
    for block in message.blocks:
        if block["type"] == "section":
            text = block["text"]["text"]
            assert len(text) <= SECTION_TEXT
            tail = text[-8:]
            assert "&" not in tail or ";" in tail[tail.index("&") :], "an entity was cut in half"
    assert len(message.text) <= 3000
    reply = render_reply(event, threaded=False)
    check_blocks(reply.blocks)


def test_fifty_blocks_at_most_even_with_every_post() -> None:
    event = incident(top_posts=[post(n, n + 1) for n in range(80)], dashboard_url="https://d.example/x")
    message = render_root(event, max_posts=80)
    assert len(message.blocks) == MAX_BLOCKS
    assert message.blocks[-1]["type"] == "actions", "the dashboard button survives the cut"
    check_blocks(message.blocks)


def test_theme_incident_shows_its_terms() -> None:
    event = incident(signal="theme", terms=["accu", "`brand`", "recall"], summary="new theme: battery fires")
    shown = texts(render_root(event).blocks)
    assert "emerging theme" in shown and "`accu`" in shown and "`brand`" in shown and "`recall`" in shown


def test_share_signals_read_as_percentages() -> None:
    assert number(0.42, "negative_share") == "42%"
    assert number(0.042, "negative_share") == "4.2%"
    assert number(1234.0, "volume") == "1,234" and number(2.5, "volume") == "2.5"
    assert ratio(140, 10) == "14×" and ratio(5, 0) == "new (baseline 0)" and ratio(3000, 10) == "300×"


def test_replies_are_short_and_say_what_changed() -> None:
    escalated = render_reply(incident(1, stage="escalated", severity="critical"))
    check_blocks(escalated.blocks)
    assert len(escalated.blocks) == 1
    shown = texts(escalated.blocks)
    assert "Escalated to CRITICAL" in shown and "14×" in shown and "@user2" in shown
    assert "veloxa" not in shown, "a threaded reply need not repeat the incident"
    standalone = render_reply(incident(1, stage="updated"), dashboard_url="https://d.example", threaded=False)
    check_blocks(standalone.blocks)
    assert "veloxa: negative mentions" in texts(standalone.blocks) and standalone.blocks[-1]["type"] == "actions"


def test_resolved_is_marked_in_reply_and_in_the_edited_root() -> None:
    resolved = incident(3, stage="resolved", severity="low", minutes=95)
    reply = render_reply(resolved)
    assert ":white_check_mark: *Resolved*" in texts(reply.blocks) and "Lasted 1 h 35 min" in texts(reply.blocks)
    assert reply.text.startswith("[RESOLVED]")

    root = render_root(incident())
    edited = mark_resolved(json.loads(json.dumps(root.blocks)), resolved)
    check_blocks(edited.blocks)
    assert edited.blocks[0]["text"]["text"].startswith(":white_check_mark: RESOLVED")
    assert "after 1 h 35 min" in texts(edited.blocks[:2])
    assert texts(edited.blocks[2:]) == texts(root.blocks[1:]), "the posted content stays as it was"
    again = mark_resolved(edited.blocks, resolved)
    assert len(again.blocks) == len(edited.blocks), "marking twice does not stack markers"

    rerendered = render_root(resolved, resolved=True)
    assert rerendered.blocks[0]["text"]["text"].startswith(":white_check_mark: RESOLVED")


def test_dashboard_link_without_base_or_event_url_is_left_out() -> None:
    message = render_root(incident())
    assert all(block["type"] != "actions" for block in message.blocks)
    own = render_root(incident(dashboard_url="https://own.example/inc/1"), dashboard_url="https://base.example")
    assert own.blocks[-1]["elements"][0]["url"] == "https://own.example/inc/1"
    bad = render_root(incident(dashboard_url="javascript:alert(1)"))
    assert all(block["type"] != "actions" for block in bad.blocks)


def test_metadata_names_the_event() -> None:
    meta = incident_metadata(incident(2))
    assert meta["event_type"] == "luister_incident"
    assert meta["event_payload"]["event_id"] == "veloxa/negative_volume/20261103T1400/2"


def test_helpers() -> None:
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"
    assert clip_mrkdwn("abc &amp; def", 8) == "abc…"
    assert clip_mrkdwn("see <https://x.example|here> now", 20) == "see…"
    assert link("ftp://x", "label") == "label"
    assert link("https://x.example/a?b=1&c=2|3", "l") == "<https://x.example/a?b=1&amp;c=2%7C3|l>"
    assert T0 + timedelta(minutes=5) == incident(1).at
