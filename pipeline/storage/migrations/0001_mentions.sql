-- Raw enriched mentions, one row per write of a mention; the views below show one row per mention id.
-- Every statement is idempotent (IF NOT EXISTS / OR REPLACE): a migration interrupted half-way is re-run whole.
-- ${database} is substituted by migrate.py (a checked plain identifier). Why this shape: pipeline/storage/__init__.py.

CREATE TABLE IF NOT EXISTS ${database}.mentions
(
    id                  String,
    schema_version      UInt16,
    source              LowCardinality(String),
    platform            LowCardinality(String),
    url                 Nullable(String),
    kind                LowCardinality(String),
    in_reply_to         Nullable(String),
    author_handle       String,
    author_display_name Nullable(String),
    author_followers    Nullable(UInt64),
    author_is_brand     Bool,
    text                String CODEC(ZSTD(3)),
    created_at          DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    fetched_at          DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    ingested_at         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    likes               UInt32,
    shares              UInt32,
    replies             UInt32,
    views               Nullable(UInt64),
    brands              Nested(brand LowCardinality(String), match_type LowCardinality(String), competitor Bool),
    lang_hint           LowCardinality(Nullable(String)),
    raw_ref             Nullable(String),
    lang                LowCardinality(String),
    lang_confidence     Float32,
    sentiment           Enum8('negative' = -1, 'neutral' = 0, 'positive' = 1),
    p_negative          Float32,
    p_neutral           Float32,
    p_positive          Float32,
    intent              LowCardinality(String),
    intent_score        Float32,
    topics              Array(LowCardinality(String)),
    topic_scores        Array(Float32),
    truncated           Bool,
    embedding           Array(Float32) CODEC(ZSTD(3)),
    model               LowCardinality(String),
    model_version       LowCardinality(String),
    enriched_at         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    written_at          DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(written_at)
PARTITION BY toYYYYMM(created_at)
ORDER BY (created_at, id)
SETTINGS non_replicated_deduplication_window = 10000;

-- FINAL is the exact "latest write per mention id" (it merges on the sorting key at read time); an id's
-- created_at never changes (platform event time), so both copies of a re-written mention share a key.
CREATE OR REPLACE VIEW ${database}.mentions_v AS
SELECT * FROM ${database}.mentions FINAL;

-- One row per mention x brand (share of voice). Mentions without a brand do not appear here.
CREATE OR REPLACE VIEW ${database}.mention_brands_v AS
SELECT
    * EXCEPT (embedding, `brands.brand`, `brands.match_type`, `brands.competitor`),
    brand,
    match_type,
    competitor
FROM ${database}.mentions_v
ARRAY JOIN `brands.brand` AS brand, `brands.match_type` AS match_type, `brands.competitor` AS competitor;
