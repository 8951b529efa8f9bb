"""The webcare dashboard's queries: what customers asked the brand, what is still waiting, how fast the team answers.

Definitions (one place, composed into every query below):

- **Inbound**: a mention of the selected (own) brand addressed to it — ``match_type = 'tagged'``, i.e. its
  @handle, its own page (a review on its page, a comment or message from a webhook of an owned channel) — not
  posted by a brand account, not a news article, and whose intent is a ``question`` or a ``complaint``.
- **Answer**: a mention posted by a brand account (``author_is_brand``) about the same brand, with
  ``in_reply_to`` = the inbound mention's id. The **first-response time** is the first answer's ``created_at``
  minus the inbound's (never below 0). An inbound is counted as answered whenever the answer came, also after
  the time range; answers are looked up from the range's start on.
- **Channel** = the platform.
"""

from __future__ import annotations

from dashboards.panels.model import SqlPanelQuery

BRAND = "${brand:singlequote}"
INBOUND = (
    "NOT competitor AND match_type = 'tagged' AND NOT author_is_brand AND kind != 'article'"
    " AND intent IN ('question', 'complaint')"
)
FIRST_ANSWERS = f"""
    answers AS (
        SELECT assumeNotNull(in_reply_to) AS parent_id, min(created_at) AS first_answer_at, 1 AS answered
        FROM mention_brands_v
        WHERE brand = {BRAND} AND author_is_brand AND in_reply_to IS NOT NULL AND created_at >= $__fromTime_ms
        GROUP BY parent_id
    )"""
INBOUND_WITH_ANSWERS = f"""
WITH
    inbound AS (
        SELECT id, created_at, platform, intent, sentiment, author_handle, author_followers, text, url
        FROM mention_brands_v
        WHERE brand = {BRAND} AND {INBOUND} AND $__timeFilter_ms(created_at)
    ),{FIRST_ANSWERS},
    handled AS (
        SELECT
            inbound.*,
            ifNull(answers.answered, 0) AS answered,
            if(answered = 1, greatest(dateDiff('millisecond', created_at, first_answer_at), 0) / 1000, NULL)
                AS response_s
        FROM inbound
        LEFT JOIN answers ON answers.parent_id = inbound.id
    )"""
"""CTE ``handled``: one row per inbound mention in the range, ``answered`` (0/1) and ``response_s``."""

RESPONSE_STATS = """
    count() AS inbound,
    sum(answered) AS answered_count,
    answered_count / inbound AS response_rate,
    if(answered_count = 0, NULL, quantileExactIf(0.5)(response_s, answered = 1)) AS median_response_s,
    if(answered_count = 0, NULL, quantileExactIf(0.9)(response_s, answered = 1)) AS p90_response_s"""
STATS_COLUMNS = ("inbound", "answered_count", "response_rate", "median_response_s", "p90_response_s")

unanswered = SqlPanelQuery(
    name="webcare.unanswered",
    title="Waiting for an answer",
    description="Questions and complaints addressed to the brand in the time range that no brand account has "
    "answered yet, longest waiting first.",
    format="table",
    reads=("mention_brands_v",),
    columns=(
        "created_at",
        "waiting_s",
        "platform",
        "intent",
        "sentiment",
        "author_handle",
        "followers",
        "excerpt",
        "url",
    ),
    sql=f"""{INBOUND_WITH_ANSWERS}
SELECT
    created_at,
    greatest(dateDiff('second', created_at, least(now64(3), $__toTime_ms)), 0) AS waiting_s,
    platform,
    intent,
    sentiment,
    author_handle,
    author_followers AS followers,
    substring(text, 1, 280) AS excerpt,
    url
FROM handled
WHERE answered = 0
ORDER BY created_at, id
LIMIT 200
""",
)

summary = SqlPanelQuery(
    name="webcare.summary",
    title="Response rate and first-response time",
    description="Over the time range: inbound questions and complaints, how many got an answer, and the median and "
    "90th-percentile first-response time of those answered (seconds).",
    format="table",
    reads=("mention_brands_v",),
    columns=(*STATS_COLUMNS, "unanswered"),
    sql=f"""{INBOUND_WITH_ANSWERS}
SELECT{RESPONSE_STATS},
    inbound - answered_count AS unanswered
FROM handled
""",
)

by_channel = SqlPanelQuery(
    name="webcare.by_channel",
    title="By channel",
    description="Response rate and first-response time per platform.",
    format="table",
    reads=("mention_brands_v",),
    columns=("platform", *STATS_COLUMNS),
    sql=f"""{INBOUND_WITH_ANSWERS}
SELECT
    platform,{RESPONSE_STATS}
FROM handled
GROUP BY platform
ORDER BY inbound DESC, platform
""",
)

by_hour = SqlPanelQuery(
    name="webcare.by_hour",
    title="By hour",
    description="Inbound per hour, how many of them were answered, and the median first-response time of those.",
    format="time_series",
    reads=("mention_brands_v",),
    columns=("time", *STATS_COLUMNS),
    sql=f"""{INBOUND_WITH_ANSWERS}
SELECT
    toStartOfHour(created_at) AS time,{RESPONSE_STATS}
FROM handled
GROUP BY time
ORDER BY time
""",
)

by_hour_of_day = SqlPanelQuery(
    name="webcare.by_hour_of_day",
    title="By hour of day",
    description="When questions come in and how fast they are answered, by hour of day (server time zone).",
    format="table",
    reads=("mention_brands_v",),
    columns=("hour_of_day", *STATS_COLUMNS),
    sql=f"""{INBOUND_WITH_ANSWERS}
SELECT
    toHour(created_at) AS hour_of_day,{RESPONSE_STATS}
FROM handled
GROUP BY hour_of_day
ORDER BY hour_of_day
""",
)

QUERIES: tuple[SqlPanelQuery, ...] = (unanswered, summary, by_channel, by_hour, by_hour_of_day)
