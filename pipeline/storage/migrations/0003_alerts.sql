-- Incidents and their Slack deliveries. Every statement is idempotent (IF NOT EXISTS / OR REPLACE).

-- One row per incident lifecycle step (IncidentEvent, pipeline/incidents.py), written by storage/incidents.py.
-- ReplacingMergeTree on event_id: a re-emitted event (detector replay after a restart, retried insert) is stored
-- once. No partitioning: the table is small, and an event_id must always land in the same part set to collapse.
CREATE TABLE IF NOT EXISTS ${database}.incident_events
(
    event_id       String,
    incident_id    String,
    seq            UInt32,
    schema_version UInt16,
    stage          LowCardinality(String),
    brand          LowCardinality(String),
    platform       LowCardinality(Nullable(String)),
    signal         LowCardinality(String),
    severity       Enum8('low' = 0, 'medium' = 1, 'high' = 2, 'critical' = 3),
    opened_at      DateTime64(3, 'UTC'),
    at             DateTime64(3, 'UTC'),
    observed       Float64,
    expected       Float64,
    upper          Nullable(Float64),
    score          Float32,
    summary        String,
    top_posts      Nested(
        mention_id       String,
        platform         LowCardinality(String),
        url              Nullable(String),
        author_handle    String,
        author_followers Nullable(UInt64),
        text             String,
        created_at       DateTime64(3, 'UTC'),
        lang             LowCardinality(Nullable(String)),
        sentiment        LowCardinality(Nullable(String)),
        intent           LowCardinality(Nullable(String)),
        reach            UInt64
    ),
    top_topics     Nested(name String, count UInt32),
    top_intents    Nested(name String, count UInt32),
    languages      Nested(name String, count UInt32),
    terms          Array(String),
    dashboard_url  Nullable(String),
    written_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(written_at)
ORDER BY (incident_id, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- One row per incident, for analysts and dashboard annotations (opened_at .. resolved_at, summary). Correct
-- without FINAL: every column is an aggregate that copies of one event cannot change (argMax by seq, min, max,
-- distinct counts). The inner names end in _ so that no alias shadows a column another aggregate reads.
CREATE OR REPLACE VIEW ${database}.incidents_v AS
SELECT
    incident_id,
    brand_ AS brand,
    platform_ AS platform,
    signal_ AS signal,
    stage_ AS stage,
    stage_ != 'resolved' AS is_open,
    severity_ AS severity,
    peak_severity,
    opened_at_ AS opened_at,
    resolved_at,
    last_at,
    summary_ AS summary,
    observed_ AS observed,
    expected_ AS expected,
    peak_observed,
    peak_score,
    events,
    dashboard_url_ AS dashboard_url
FROM
(
    SELECT
        incident_id,
        argMax(brand, (seq, written_at)) AS brand_,
        argMax(platform, (seq, written_at)) AS platform_,
        argMax(signal, (seq, written_at)) AS signal_,
        argMax(stage, (seq, written_at)) AS stage_,
        argMax(severity, (seq, written_at)) AS severity_,
        max(severity) AS peak_severity,
        min(opened_at) AS opened_at_,
        if(countIf(stage = 'resolved') > 0, maxIf(at, stage = 'resolved'), NULL) AS resolved_at,
        max(at) AS last_at,
        argMax(summary, (seq, written_at)) AS summary_,
        argMax(observed, (seq, written_at)) AS observed_,
        argMax(expected, (seq, written_at)) AS expected_,
        max(observed) AS peak_observed,
        max(score) AS peak_score,
        uniqExact(event_id) AS events,
        argMax(dashboard_url, (seq, written_at)) AS dashboard_url_
    FROM ${database}.incident_events
    GROUP BY incident_id
);

-- The alert delivery ledger (pipeline/alerts/ledger_clickhouse.py): one row per (event, channel), first as an
-- attempt (state 1, written before the first post) and then as delivered (state 2, with Slack's ts). The highest
-- state wins. thread_ts: the root message a reply was posted under ('' for a root); ts '' for incoming webhooks.
CREATE TABLE IF NOT EXISTS ${database}.alert_deliveries
(
    incident_id  String,
    event_id     String,
    channel      LowCardinality(String),
    state        UInt8,
    ts           String,
    thread_ts    String,
    how          LowCardinality(String),
    attempted_at DateTime64(3, 'UTC'),
    delivered_at Nullable(DateTime64(3, 'UTC'))
)
ENGINE = ReplacingMergeTree(state)
ORDER BY (incident_id, event_id, channel);
