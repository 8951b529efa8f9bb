"""The wall's queries: how the selected brand is doing right now, readable from across the room.

Counts come from the per-minute rollup ``sentiment_minute_v`` wherever its dimensions suffice (brand, platform,
language, sentiment): it is small and fast. Topics, intents and single posts need ``mention_brands_v``.
Incidents come from ``incidents_v`` (issue 5's detector: one row per incident, its latest stage).
"""

from __future__ import annotations

from dashboards.panels.model import SqlPanelQuery

BRAND = "${brand:singlequote}"
REACH = "coalesce(author_followers, 0) + likes + shares + replies"
"""A post's reach: the author's followers plus its engagement (the same ordering as incident context)."""
BASELINE_DAYS = 7
BASELINE_MIN_MENTIONS = 5
"""Hours with fewer mentions than this do not enter the baseline band: a share of 1 out of 1 is noise."""
TOP = 10

headline = SqlPanelQuery(
    name="wall.headline",
    title="Mentions, negative share and reach",
    description="Totals for the selected brand over the dashboard's time range; reach = followers + engagement.",
    format="table",
    reads=("sentiment_minute_v",),
    columns=("mentions", "negative", "negative_share", "reach"),
    sql=f"""
SELECT
    sum(g.mentions) AS mentions,
    sumIf(g.mentions, g.sentiment = 'negative') AS negative,
    if(mentions = 0, 0, negative / mentions) AS negative_share,
    sum(g.reach + g.likes + g.shares + g.replies) AS reach
FROM sentiment_minute_v AS g
WHERE g.brand = {BRAND} AND $__timeFilter(g.minute)
""",
)

volume_by_sentiment = SqlPanelQuery(
    name="wall.volume_by_sentiment",
    title="Mentions by sentiment",
    description="Mentions of the selected brand per interval, split by sentiment; empty intervals are 0.",
    format="time_series",
    reads=("sentiment_minute_v",),
    columns=("time", "negative", "neutral", "positive"),
    sql=f"""
SELECT
    $__timeInterval(minute) AS time,
    sumIf(mentions, sentiment = 'negative') AS negative,
    sumIf(mentions, sentiment = 'neutral') AS neutral,
    sumIf(mentions, sentiment = 'positive') AS positive
FROM sentiment_minute_v
WHERE brand = {BRAND} AND $__timeFilter(minute)
GROUP BY time
ORDER BY time WITH FILL
    FROM toStartOfInterval($__fromTime, INTERVAL $__interval_s second)
    TO $__toTime
    STEP $__interval_s
""",
)

negative_share_band = SqlPanelQuery(
    name="wall.negative_share_band",
    title="Negative share against its baseline",
    description=(
        f"Hourly share of negative mentions, and the band between the 10th and 90th percentile of the same hour "
        f"of day over the previous {BASELINE_DAYS} days (hours with at least {BASELINE_MIN_MENTIONS} mentions; "
        f"hour of day in the server's time zone). The band is empty until 3 such days exist."
    ),
    format="time_series",
    reads=("sentiment_minute_v",),
    columns=("time", "negative_share", "baseline_low", "baseline_high", "mentions"),
    sql=f"""
WITH
    hourly AS (
        SELECT
            toStartOfHour(minute) AS hour,
            sum(mentions) AS total,
            sumIf(mentions, sentiment = 'negative') / total AS share
        FROM sentiment_minute_v
        WHERE brand = {BRAND}
            AND minute >= toStartOfHour($__fromTime) - INTERVAL {BASELINE_DAYS} DAY
            AND minute <= $__toTime
        GROUP BY hour
    ),
    banded AS (
        SELECT
            hour,
            total,
            share,
            countIf(total >= {BASELINE_MIN_MENTIONS}) OVER same_hour AS baseline_days,
            quantileExactIf(0.1)(share, total >= {BASELINE_MIN_MENTIONS}) OVER same_hour AS low,
            quantileExactIf(0.9)(share, total >= {BASELINE_MIN_MENTIONS}) OVER same_hour AS high
        FROM hourly
        WINDOW same_hour AS (
            PARTITION BY toHour(hour)
            ORDER BY toRelativeDayNum(hour)
            RANGE BETWEEN {BASELINE_DAYS} PRECEDING AND 1 PRECEDING
        )
    )
SELECT
    hour AS time,
    share AS negative_share,
    if(baseline_days >= 3, low, NULL) AS baseline_low,
    if(baseline_days >= 3, high, NULL) AS baseline_high,
    total AS mentions
FROM banded
WHERE hour >= toStartOfHour($__fromTime)
ORDER BY time
""",
)

share_of_voice = SqlPanelQuery(
    name="wall.share_of_voice",
    title="Share of voice",
    description=(
        "The selected brand and every competitor (brands flagged competitor in the brand queries): each one's "
        "mentions over all of theirs. A mention naming two brands counts for both."
    ),
    format="table",
    reads=("sentiment_minute_v",),
    columns=("brand", "is_competitor", "brand_mentions", "share"),
    sql=f"""
SELECT
    brand,
    max(competitor) AS is_competitor,
    sum(mentions) AS brand_mentions,
    brand_mentions / sum(brand_mentions) OVER () AS share
FROM sentiment_minute_v
WHERE (brand = {BRAND} OR competitor) AND brand != '' AND $__timeFilter(minute)
GROUP BY brand
ORDER BY brand_mentions DESC, brand
""",
)

share_of_voice_over_time = SqlPanelQuery(
    name="wall.share_of_voice_over_time",
    title="Share of voice over time",
    description="Share of voice per interval (one series per brand; shares of an interval sum to 1).",
    format="time_series",
    reads=("sentiment_minute_v",),
    columns=("time", "brand", "share"),
    sql=f"""
SELECT
    $__timeInterval(minute) AS time,
    brand,
    sum(mentions) / sum(sum(mentions)) OVER (PARTITION BY time) AS share
FROM sentiment_minute_v
WHERE (brand = {BRAND} OR competitor) AND brand != '' AND $__timeFilter(minute)
GROUP BY time, brand
ORDER BY time, brand
""",
)

top_topics = SqlPanelQuery(
    name="wall.top_topics",
    title="Top topics",
    description=f"The {TOP} topics most mentioned with the selected brand, with the negative share of each.",
    format="table",
    reads=("mention_brands_v",),
    columns=("topic", "topic_mentions", "negative_share"),
    sql=f"""
SELECT
    arrayJoin(topics) AS topic,
    count() AS topic_mentions,
    countIf(sentiment = 'negative') / topic_mentions AS negative_share
FROM mention_brands_v
WHERE brand = {BRAND} AND $__timeFilter_ms(created_at)
GROUP BY topic
ORDER BY topic_mentions DESC, topic
LIMIT {TOP}
""",
)

top_intents = SqlPanelQuery(
    name="wall.top_intents",
    title="What people want",
    description="Mentions of the selected brand by webcare intent (complaint, question, praise, ...).",
    format="table",
    reads=("mention_brands_v",),
    columns=("intent", "intent_mentions", "share"),
    sql=f"""
SELECT
    intent,
    count() AS intent_mentions,
    intent_mentions / sum(intent_mentions) OVER () AS share
FROM mention_brands_v
WHERE brand = {BRAND} AND $__timeFilter_ms(created_at)
GROUP BY intent
ORDER BY intent_mentions DESC, intent
""",
)

high_reach_negative = SqlPanelQuery(
    name="wall.high_reach_negative",
    title="Negative posts with the most reach",
    description=(
        f"The {TOP} negative posts about the selected brand in the time range with the highest reach "
        "(followers + likes + shares + replies); the brand's own posts are left out."
    ),
    format="table",
    reads=("mention_brands_v",),
    columns=("created_at", "platform", "author_handle", "reach", "intent", "excerpt", "url"),
    sql=f"""
SELECT
    created_at,
    platform,
    author_handle,
    {REACH} AS reach,
    intent,
    substring(text, 1, 280) AS excerpt,
    url
FROM mention_brands_v
WHERE brand = {BRAND} AND sentiment = 'negative' AND NOT author_is_brand AND $__timeFilter_ms(created_at)
ORDER BY reach DESC, created_at DESC
LIMIT {TOP}
""",
)

languages = SqlPanelQuery(
    name="wall.languages",
    title="Languages",
    description="Mentions of the selected brand by detected language.",
    format="table",
    reads=("sentiment_minute_v",),
    columns=("lang", "lang_mentions", "share"),
    sql=f"""
SELECT
    lang,
    sum(mentions) AS lang_mentions,
    lang_mentions / sum(lang_mentions) OVER () AS share
FROM sentiment_minute_v
WHERE brand = {BRAND} AND $__timeFilter(minute)
GROUP BY lang
ORDER BY lang_mentions DESC, lang
""",
)

platforms = SqlPanelQuery(
    name="wall.platforms",
    title="Platforms",
    description="Mentions of the selected brand by platform.",
    format="table",
    reads=("sentiment_minute_v",),
    columns=("platform", "platform_mentions", "share"),
    sql=f"""
SELECT
    platform,
    sum(mentions) AS platform_mentions,
    platform_mentions / sum(platform_mentions) OVER () AS share
FROM sentiment_minute_v
WHERE brand = {BRAND} AND $__timeFilter(minute)
GROUP BY platform
ORDER BY platform_mentions DESC, platform
""",
)

OPEN = "stage != 'resolved'"

open_incidents = SqlPanelQuery(
    name="wall.open_incidents",
    title="Open incidents",
    description="Incidents of the selected brand that are not resolved, newest first (whatever the time range).",
    format="table",
    reads=("incidents_v",),
    columns=("opened_at", "severity", "signal", "stage", "summary", "incident_id"),
    sql=f"""
SELECT opened_at, severity, signal, stage, summary, incident_id
FROM incidents_v
WHERE brand = {BRAND} AND {OPEN}
ORDER BY opened_at DESC, incident_id
LIMIT 20
""",
)

emerging_themes = SqlPanelQuery(
    name="wall.emerging_themes",
    title="Emerging themes",
    description="Theme incidents (new clusters of similar posts): open ones, and those opened in the time range.",
    format="table",
    reads=("incidents_v",),
    columns=("opened_at", "severity", "stage", "summary", "incident_id"),
    sql=f"""
SELECT opened_at, severity, stage, summary, incident_id
FROM incidents_v
WHERE brand = {BRAND} AND signal = 'theme' AND ({OPEN} OR $__timeFilter(opened_at))
ORDER BY opened_at DESC, incident_id
LIMIT {TOP}
""",
)

incident_annotations = SqlPanelQuery(
    name="wall.incident_annotations",
    title="Incidents",
    description="Incidents overlapping the time range, as annotation regions (open ones run up to now).",
    format="table",
    reads=("incidents_v",),
    columns=("time", "timeEnd", "title", "text", "tags"),
    sql=f"""
SELECT
    opened_at AS time,
    if({OPEN}, now64(3), resolved_at) AS timeEnd,
    concat(toString(severity), ' ', toString(signal)) AS title,
    summary AS text,
    [toString(severity), toString(signal), toString(stage)] AS tags
FROM incidents_v
WHERE brand = {BRAND} AND opened_at <= $__toTime AND ({OPEN} OR resolved_at >= $__fromTime)
ORDER BY time
""",
)

brands = SqlPanelQuery(
    name="wall.brands",
    title="Brands",
    description="The brand selector's values: every brand seen in the last 30 days, own brands first.",
    format="table",
    reads=("sentiment_minute_v",),
    columns=("brand",),
    sql="""
SELECT brand
FROM sentiment_minute_v
WHERE brand != '' AND minute >= now() - INTERVAL 30 DAY
GROUP BY brand
ORDER BY max(competitor), brand
""",
)

QUERIES: tuple[SqlPanelQuery, ...] = (
    headline,
    volume_by_sentiment,
    negative_share_band,
    share_of_voice,
    share_of_voice_over_time,
    top_topics,
    top_intents,
    high_reach_negative,
    languages,
    platforms,
    open_incidents,
    emerging_themes,
    incident_annotations,
    brands,
)
