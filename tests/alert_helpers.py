"""Alert tests' shared parts: incident events (an opened event and its later steps) and settings that point
luister at the loopback Slack (``fake_platforms.slack``) with fast retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fake_platforms.slack import FakeSlack

from pipeline.incidents import Count, ExamplePost, IncidentEvent, event_id
from pipeline.settings import AlertSettings

T0 = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
CRISIS, WEBCARE = "C0CRISIS", "C0WEBCARE"
TOKEN_ENV, HOOK_ENV = "LUISTER_TEST_SLACK_TOKEN", "LUISTER_TEST_WEBCARE_HOOK"
GOOD_TOKEN = "xoxb-good"


def post(n: int, reach: int, **extra: Any) -> ExamplePost:
    values: dict[str, Any] = {
        "mention_id": f"mastodon:{n}",
        "platform": "mastodon",
        "url": f"https://social.example/@user{n}/{n}",
        "author_handle": f"user{n}",
        "author_followers": reach - 10,
        "text": f"Post {n}: mijn Veloxa accu is na twee weken kapot & niemand reageert <3",
        "created_at": T0 + timedelta(seconds=n),
        "lang": "nl",
        "sentiment": "negative",
        "intent": "complaint",
        "reach": reach,
    }
    values.update(extra)
    return ExamplePost(**values)


def incident(
    seq: int = 0,
    *,
    stage: str | None = None,
    incident_id: str = "veloxa/negative_volume/20261103T1400",
    severity: str = "high",
    brand: str = "veloxa",
    signal: str = "negative_volume",
    intents: tuple[tuple[str, int], ...] = (("complaint", 40), ("question", 12)),
    minutes: int | None = None,
    **extra: Any,
) -> IncidentEvent:
    """Step ``seq`` of one incident (stage: opened for 0, updated after, unless given); ``at`` = T0 + 5 min/step."""
    at = T0 + timedelta(minutes=5 * seq if minutes is None else minutes)
    values: dict[str, Any] = {
        "incident_id": incident_id,
        "event_id": event_id(incident_id, seq),
        "seq": seq,
        "stage": stage or ("opened" if seq == 0 else "updated"),
        "brand": brand,
        "platform": None,
        "signal": signal,
        "severity": severity,
        "opened_at": T0,
        "at": at,
        "observed": 140.0,
        "expected": 10.0,
        "upper": 22.0,
        "score": 0.97,
        "summary": "negative mentions 14x baseline",
        "top_posts": [post(1, 12_000), post(2, 90_000), post(3, 450)],
        "top_topics": [Count(name="battery", count=60), Count(name="customer service", count=30)],
        "top_intents": [Count(name=n, count=c) for n, c in intents],
        "languages": [Count(name="nl", count=70), Count(name="en", count=20)],
    }
    values.update(extra)
    return IncidentEvent(**values)


def alert_settings(slack: FakeSlack, **overrides: Any) -> AlertSettings:
    """crisis (bot) gets severity >= high, webcare (webhook) complaints; nothing else routed. Fast retries."""
    values: dict[str, Any] = {
        "channels": {
            "crisis": {"transport": "bot", "channel_id": CRISIS, "token_env": TOKEN_ENV},
            "webcare": {"transport": "webhook", "webhook_url_env": HOOK_ENV},
        },
        "routes": [
            {"name": "crisis", "min_severity": "high", "channels": ["crisis"]},
            {"name": "complaints", "intents": ["complaint"], "channels": ["webcare"]},
        ],
        "dashboard_url": "https://grafana.example/d/luister",
        "web_api_url": slack.api_url,
        "rate_per_channel": 20.0,
        "timeout_s": 0.5,
        "retry_base_s": 0.02,
        "retry_max_s": 0.1,
        "permanent_retry_s": 0.2,
    }
    values.update(overrides)
    return AlertSettings.model_validate(values)
