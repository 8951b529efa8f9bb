"""Routing rules (pure) and the ``alerts`` section of the settings file."""

from __future__ import annotations

from pathlib import Path

import pytest
from alert_helpers import incident
from pydantic import ValidationError

from pipeline.alerts.routing import route, top_intent
from pipeline.settings import AlertSettings, load_settings

CONFIG = """
alerts:
  dashboard_url: https://grafana.example/d/luister
  channels:
    crisis: {transport: bot, channel_id: C0CRISIS, token_env: SLACK_BOT_TOKEN}
    webcare: {transport: webhook, webhook_url_env: SLACK_WEBCARE_WEBHOOK}
    marketing: {transport: webhook, webhook_url_env: SLACK_MARKETING_WEBHOOK}
    everything: {transport: bot, channel_id: C0ALL}
  routes:
    - {name: crisis, min_severity: high, channels: [crisis]}
    - {name: complaints, intents: [complaint], channels: [webcare]}
    - {name: rivals, brands: [rivalbike], channels: [marketing], final: true}
    - {name: themes, signals: [theme], channels: [crisis, webcare]}
  default_channels: [everything]
  rate_per_channel: 0.5
"""


@pytest.fixture
def alerts(tmp_path: Path) -> AlertSettings:
    path = tmp_path / "luister.yaml"
    path.write_text(CONFIG)
    return load_settings(path).alerts


def test_settings_file_holds_channels_and_routes(alerts: AlertSettings) -> None:
    assert alerts.channels["crisis"].channel_id == "C0CRISIS" and alerts.channels["crisis"].transport == "bot"
    assert alerts.channels["webcare"].webhook_url_env == "SLACK_WEBCARE_WEBHOOK"
    assert alerts.channels["everything"].token_env == "SLACK_BOT_TOKEN"
    assert [r.name for r in alerts.routes] == ["crisis", "complaints", "rivals", "themes"]
    assert alerts.rate_per_channel == 0.5 and alerts.permanent_retry_s == 300


def test_rules_add_channels_in_order(alerts: AlertSettings) -> None:
    high_complaint = route(incident(severity="high"), alerts)
    assert high_complaint.channels == ["crisis", "webcare"] and high_complaint.rules == ["crisis", "complaints"]
    low_complaint = route(incident(severity="medium"), alerts)
    assert low_complaint.channels == ["webcare"]
    critical_question = route(incident(severity="critical", intents=(("question", 9), ("complaint", 3))), alerts)
    assert critical_question.channels == ["crisis"], "only the TOP intent counts"
    theme = route(incident(severity="low", signal="theme", intents=()), alerts)
    assert theme.channels == ["crisis", "webcare"] and theme.rules == ["themes"]


def test_final_rule_stops_the_search(alerts: AlertSettings) -> None:
    decision = route(incident(brand="rivalbike", severity="low", signal="theme", intents=()), alerts)
    assert decision.channels == ["marketing"] and decision.rules == ["rivals"]


def test_default_route_when_nothing_matches(alerts: AlertSettings) -> None:
    decision = route(incident(severity="low", intents=(("praise", 5),)), alerts)
    assert decision.channels == ["everything"] and decision.rules == ["default"]
    assert route(incident(severity="low", intents=()), AlertSettings()).channels == []


def test_top_intent_takes_the_largest_count() -> None:
    assert top_intent(incident(intents=(("question", 2), ("complaint", 9), ("praise", 9)))) == "complaint"
    assert top_intent(incident(intents=())) is None


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="does not define"):
        AlertSettings.model_validate({"routes": [{"name": "x", "channels": ["nowhere"]}]})
    with pytest.raises(ValidationError, match="webhook_url_env"):
        AlertSettings.model_validate({"channels": {"a": {"transport": "webhook"}}})
    with pytest.raises(ValidationError, match="channel_id"):
        AlertSettings.model_validate({"channels": {"a": {"transport": "bot"}}})
    with pytest.raises(ValidationError, match="Extra inputs"):
        AlertSettings.model_validate({"channels": {"a": {"transport": "bot", "channel_id": "C", "token": "xoxb"}}})


def test_environment_overrides_scalars(alerts: AlertSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "luister.yaml"
    path.write_text(CONFIG)
    monkeypatch.setenv("LUISTER_ALERTS__TIMEOUT_S", "3")
    assert load_settings(path).alerts.timeout_s == 3
