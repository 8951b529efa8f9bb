"""The wall page in a real browser: a real worker (Tansu, the worker's model path, the embedded engine) fed demo
mentions through ``mentions.raw``, an incident through ``alerts`` (the detector's path to the alert agent), and
Debian's headless Chromium reading the page after its script ran.

The page marks its state in the DOM (``data-state``, ``data-points`` per chart, the banner's ``hidden``), so the
test checks that the charts were drawn with data, that the numbers are the database's, and that the incident
banner shows exactly while an incident is open. A screenshot goes to ``$LUISTER_TEST_ARTIFACTS`` (default
``tests/artifacts/``) for a person to look at.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import REPO, Worker, produce, produce_mentions, wait_for
from system_tools import require_tool

from connectors.demo import CrisisShape, DemoStream
from pipeline.incidents import ExamplePost, IncidentEvent, event_id
from pipeline.schema import Mention

pytestmark = pytest.mark.slow

BRAND = "Veloxa"
HISTORY = timedelta(minutes=55)
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


def artifacts_dir() -> Path:
    path = Path(os.environ.get("LUISTER_TEST_ARTIFACTS") or REPO / "tests" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------- reading the rendered DOM


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    inside: tuple[str, ...]
    """Ids of the enclosing elements."""


class Dom(HTMLParser):
    """Every element of a serialized DOM with the ids around it, and the text under each id."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self.texts: dict[str, list[str]] = defaultdict(list)
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.elements.append(Element(tag, values, tuple(i for _, i in self._open if i)))
        if tag not in VOID:
            self._open.append((tag, values.get("id")))

    def handle_endtag(self, tag: str) -> None:
        for at in range(len(self._open) - 1, -1, -1):
            if self._open[at][0] == tag:
                del self._open[at:]
                return

    def handle_data(self, data: str) -> None:
        for _, element_id in self._open:
            if element_id:
                self.texts[element_id].append(data)

    def by_id(self, element_id: str) -> Element:
        (found,) = [e for e in self.elements if e.attrs.get("id") == element_id]
        return found

    def body(self) -> Element:
        (found,) = [e for e in self.elements if e.tag == "body"]
        return found

    def count(self, tag: str, inside: str) -> int:
        return sum(1 for e in self.elements if e.tag == tag and inside in e.inside)

    def text(self, element_id: str) -> str:
        return " ".join("".join(self.texts[element_id]).split())


def open_in_chromium(url: str, profile: Path, screenshot: Path | None = None) -> Dom:
    """The page's DOM after its script ran (virtual time lets fetches and rendering finish), optionally a PNG."""
    chromium = require_tool("chromium", "chromium")
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=8000",
        "--run-all-compositor-stages-before-draw",
        "--hide-scrollbars",
        "--window-size=1920,1080",
        "--dump-dom",
    ]
    if screenshot is not None:
        command.append(f"--screenshot={screenshot}")
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = Dom()
    dom.feed(done.stdout)
    return dom


# ---------------------------------------------------------------- feeding the worker


def demo_mentions(now: datetime) -> list[Mention]:
    """The last ``HISTORY`` of the demo stream, the crisis in its last quarter hour."""
    stream = DemoStream(
        seed=23,
        start=now - HISTORY,
        rate_per_s=0.15,
        crisis_after_s=(HISTORY - timedelta(minutes=15)).total_seconds(),
        crisis=CrisisShape(ramp_s=300, hold_s=1200, half_life_s=1200),
    )
    out: list[Mention] = []
    for mention in stream:
        if mention.created_at >= now:
            return out
        out.append(mention)
    return out


def as_utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def open_incident(worker: Worker, now: datetime) -> IncidentEvent:
    """An incident as the detector sends it, with the brand's top negative posts as its examples."""
    posts = worker.sql(
        f"SELECT id, platform, author_handle, text, created_at, reach FROM ("
        f" SELECT id, platform, author_handle, text, created_at,"
        f" coalesce(author_followers, 0) + likes + shares + replies AS reach"
        f" FROM mention_brands_v WHERE brand = '{BRAND}' AND sentiment = 'negative')"
        f" ORDER BY reach DESC LIMIT 3"
    )
    incident_id = f"{BRAND}/negative_share/wall-test"
    opened_at = now - timedelta(minutes=14)
    return IncidentEvent(
        incident_id=incident_id,
        event_id=event_id(incident_id, 0),
        seq=0,
        stage="opened",
        brand=BRAND,
        signal="negative_share",
        severity="critical",
        opened_at=opened_at,
        at=opened_at + timedelta(minutes=5),
        observed=0.61,
        expected=0.24,
        upper=0.33,
        score=0.99,
        summary="negative share 2.5x its baseline",
        top_posts=[
            ExamplePost(
                mention_id=p[0],
                platform=p[1],
                author_handle=p[2],
                text=p[3][:2000],
                created_at=as_utc(datetime.fromisoformat(p[4])),
                reach=p[5],
            )
            for p in posts
        ],
    )


# ---------------------------------------------------------------- the test


def test_wall_page_in_headless_chromium(new_worker: Any, tmp_path: Path) -> None:
    require_tool("chromium", "chromium")
    worker: Worker = new_worker()
    bootstrap = worker.env["KAFKA_BOOTSTRAP_SERVERS"]
    url = f"{worker.url}/wall?hours=1"

    # Nothing written yet: the page says it waits, instead of empty charts.
    empty = open_in_chromium(url, tmp_path / "profile-empty")
    assert empty.body().attrs.get("data-state") == "waiting", empty.text("status")
    assert "hidden" not in empty.by_id("waiting").attrs and "hidden" in empty.by_id("grid").attrs

    now = datetime.now(UTC)
    mentions = demo_mentions(now)
    produce_mentions(bootstrap, mentions)
    wait_for(lambda: worker.sql("SELECT count() FROM mentions_v")[0][0] == len(mentions), 90, "every mention written")
    ((veloxa,),) = worker.sql(f"SELECT count() FROM mention_brands_v WHERE brand = '{BRAND}'")
    ((negative_posts,),) = worker.sql(
        f"SELECT count() FROM mention_brands_v WHERE brand = '{BRAND}' AND sentiment = 'negative'"
    )

    # The routes themselves: types, and nothing outside the static files.
    script = httpx.get(f"{worker.url}/wall/static/vendor/uPlot.iife.min.js", timeout=10)
    assert script.status_code == 200 and script.headers["content-type"] == "text/javascript; charset=utf-8"
    page = httpx.get(f"{worker.url}/wall", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    for sneaky in ("..%2Fapp.py", "vendor/..%2F..%2Fapp.py", "vendor/README.md", "%2Fetc%2Fpasswd"):
        assert httpx.get(f"{worker.url}/wall/static/{sneaky}", timeout=10).status_code == 404, sneaky
    assert httpx.get(f"{worker.url}/wall/data?hours=soon", timeout=10).status_code == 400

    # No incident yet: charts drawn with the database's numbers, no banner.
    calm = open_in_chromium(url, tmp_path / "profile-calm")
    assert calm.body().attrs.get("data-state") == "ready", calm.text("status")
    volume = calm.by_id("chart-volume")
    assert int(volume.attrs["data-points"] or 0) > 0
    assert int(volume.attrs["data-total"] or 0) == veloxa
    for chart in ("chart-volume", "chart-negative", "chart-sov-time"):
        assert int(calm.by_id(chart).attrs["data-points"] or 0) > 0, chart
        assert calm.count("canvas", inside=chart) >= 1, f"{chart}: uPlot drew no canvas"
    assert calm.text("kpi-mentions").startswith(f"Mentions {veloxa:,}")
    assert int(calm.by_id("list-sov").attrs["data-rows"] or 0) == 3  # Veloxa and both competitors
    posts = calm.by_id("list-posts").attrs
    assert int(posts["data-rows"] or 0) == min(4, negative_posts)
    assert (int(posts["data-shown"] or 0) > 0) == (negative_posts > 0), "at least one post fits on the screen"
    banner = calm.by_id("incident-banner")
    assert "hidden" in banner.attrs and banner.attrs["data-count"] == "0"

    # An open incident, sent the way the detector sends it: the alert agent stores it, the banner appears.
    event = open_incident(worker, now)
    asyncio.run(produce(bootstrap, "alerts", [(event.incident_id.encode(), event.model_dump_json().encode())]))

    def incident_served() -> bool:
        body = httpx.get(f"{worker.url}/wall/data", params={"hours": "1"}, timeout=30).json()
        return bool(body["incidents"])

    wait_for(incident_served, 60, "the open incident in /wall/data", every=1.0)
    screenshot = artifacts_dir() / "wall-incident.png"
    alarm = open_in_chromium(url, tmp_path / "profile-alarm", screenshot=screenshot)
    print(f"wall screenshot: {screenshot}")
    banner = alarm.by_id("incident-banner")
    assert "hidden" not in banner.attrs and banner.attrs["data-count"] == "1"
    assert "critical" in alarm.text("incident-title").lower()
    assert event.summary in alarm.text("incident-text")
    assert alarm.body().attrs.get("data-state") == "ready"
    assert screenshot.stat().st_size > 20_000, "a blank page compresses to almost nothing"
