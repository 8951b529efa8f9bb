-- Per-minute rollup per brand x competitor x platform x lang x sentiment, recomputed (never incremented) from
-- mentions_v by pipeline/storage/rollups.py. One row per minute holds all of that minute's groups, so a
-- recomputation replaces the minute as a whole: groups that no longer exist vanish with the older version.
-- brand '' collects the mentions that match no brand, so per-platform totals are available too.

CREATE TABLE IF NOT EXISTS ${database}.sentiment_minute
(
    minute       DateTime('UTC'),
    version      UInt64,
    groups       Nested(
        brand      LowCardinality(String),
        competitor Bool,
        platform   LowCardinality(String),
        lang       LowCardinality(String),
        sentiment  Enum8('negative' = -1, 'neutral' = 0, 'positive' = 1),
        mentions   UInt32,
        tagged     UInt32,
        likes      UInt64,
        shares     UInt64,
        replies    UInt64,
        views      UInt64,
        reach      UInt64,
        p_negative Float64,
        p_positive Float64
    ),
    refreshed_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(minute)
ORDER BY minute;

-- One row per minute x group, latest recomputation only. Columns: mentions (count; a mention naming two
-- brands counts once for each), tagged (of which @-tagged the brand), likes/shares/replies/views/reach (sums;
-- reach = author followers), p_negative/p_positive (sums of probabilities: divide by mentions for a mean).
CREATE OR REPLACE VIEW ${database}.sentiment_minute_v AS
SELECT
    minute,
    groups.brand AS brand,
    groups.competitor AS competitor,
    groups.platform AS platform,
    groups.lang AS lang,
    groups.sentiment AS sentiment,
    groups.mentions AS mentions,
    groups.tagged AS tagged,
    groups.likes AS likes,
    groups.shares AS shares,
    groups.replies AS replies,
    groups.views AS views,
    groups.reach AS reach,
    groups.p_negative AS p_negative,
    groups.p_positive AS p_positive
FROM ${database}.sentiment_minute FINAL
ARRAY JOIN groups;
