-- The PostgreSQL store's schema: the concepts of the SQLite schema at its version 5, with
-- PostgreSQL's types. Times are epoch milliseconds (BIGINT), enums are text words with
-- CHECKs, blobs BYTEA. Names are compared bytewise (COLLATE "C"), as SQLite compares them,
-- so every listing comes in the same order from both stores.
--
-- Migrations are append-only: never edit one that has shipped; add V2__... instead.

-- Raw results of hours not sealed yet. A result is identified by its check and start, so a
-- batch written again (a retry after a lost connection) stores nothing twice.
CREATE TABLE results (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    check_name     TEXT COLLATE "C" NOT NULL,
    plugin         TEXT NOT NULL,
    plugin_version TEXT NOT NULL,
    target         TEXT NOT NULL,
    started_at_ms  BIGINT NOT NULL,
    duration_us    BIGINT NOT NULL CHECK (duration_us >= 0),
    status         TEXT NOT NULL CHECK (status IN ('ok','warning','critical','unknown')),
    summary        TEXT NOT NULL,
    reason         TEXT,
    details        TEXT,
    state_type     TEXT CHECK (state_type IN ('soft','hard')),
    attempt        BIGINT,
    -- The metrics as one JSON array, exactly as written (NULL: none).
    metrics        JSON,
    CONSTRAINT results_check_time UNIQUE (check_name, started_at_ms)
);
CREATE INDEX results_time ON results (started_at_ms);

-- State-change events, identified by check, time and kind.
CREATE TABLE events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    check_name   TEXT COLLATE "C" NOT NULL,
    at_ms        BIGINT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('hard_change','flapping_started','flapping_stopped')),
    from_status  TEXT CHECK (from_status IN ('ok','warning','critical','unknown')),
    to_status    TEXT CHECK (to_status IN ('ok','warning','critical','unknown')),
    flap_percent DOUBLE PRECISION,
    summary      TEXT NOT NULL,
    CONSTRAINT events_check_time_kind UNIQUE (check_name, at_ms, kind)
);
-- The newest events of every check (`vitals events` without a check).
CREATE INDEX events_time ON events (at_ms);

-- One check-hour of results packed into a block (store/blocks.rs: the same bytes as SQLite's).
CREATE TABLE sealed_hours (
    check_name TEXT COLLATE "C" NOT NULL,
    hour_ms    BIGINT NOT NULL,
    results    BIGINT NOT NULL,
    block      BYTEA NOT NULL,
    PRIMARY KEY (check_name, hour_ms)
);
CREATE INDEX sealed_hours_time ON sealed_hours (hour_ms);

-- The rollup of each sealed check-hour.
CREATE TABLE hourly (
    check_name  TEXT COLLATE "C" NOT NULL,
    hour_ms     BIGINT NOT NULL,
    up_ms       BIGINT NOT NULL,
    down_ms     BIGINT NOT NULL,
    no_data_ms  BIGINT NOT NULL,
    ok          BIGINT NOT NULL,
    warning     BIGINT NOT NULL,
    critical    BIGINT NOT NULL,
    unknown     BIGINT NOT NULL,
    soft        BIGINT NOT NULL,
    hard        BIGINT NOT NULL,
    latency     BYTEA,
    degraded_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (check_name, hour_ms)
);

-- The timing-phase sketches of an hour, until its day is compacted into daily_phases.
CREATE TABLE hourly_phases (
    check_name TEXT COLLATE "C" NOT NULL,
    hour_ms    BIGINT NOT NULL,
    phases     BYTEA NOT NULL,
    PRIMARY KEY (check_name, hour_ms)
);
CREATE INDEX hourly_phases_time ON hourly_phases (hour_ms);

CREATE TABLE daily_phases (
    check_name TEXT COLLATE "C" NOT NULL,
    day_ms     BIGINT NOT NULL,
    phases     BYTEA NOT NULL,
    PRIMARY KEY (check_name, day_ms)
);

-- The runners sharing this database, stamped by the database's clock.
CREATE TABLE runners (
    id            TEXT COLLATE "C" PRIMARY KEY,
    location      TEXT NOT NULL,
    version       TEXT NOT NULL,
    started_at_ms BIGINT,
    heartbeat_ms  BIGINT,
    checks        BIGINT
);
