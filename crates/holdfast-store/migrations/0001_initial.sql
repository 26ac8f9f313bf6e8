-- One schema for SQLite and PostgreSQL: TEXT ids made by the store (time-ordered),
-- BIGINT unix milliseconds, JSON kept as TEXT.

-- A scan is also its own work item: queued, leased by one worker while it runs
-- (lease_owner, lease_expires), finished or failed.
CREATE TABLE scans (
    id TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    scanners TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_expires BIGINT,
    schedule_id TEXT,
    retry_of TEXT,
    not_before BIGINT,
    duration_ms BIGINT,
    result TEXT
);
CREATE INDEX scans_status_created ON scans (status, created_at);
CREATE INDEX scans_target_created ON scans (target, created_at);

-- One row per target of a finished scan, with its counts by severity.
CREATE TABLE scan_targets (
    scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    image_id TEXT,
    os TEXT,
    packages BIGINT NOT NULL,
    critical BIGINT NOT NULL,
    high BIGINT NOT NULL,
    medium BIGINT NOT NULL,
    low BIGINT NOT NULL,
    unknown BIGINT NOT NULL,
    PRIMARY KEY (scan_id, idx)
);
CREATE INDEX scan_targets_name ON scan_targets (name);
CREATE INDEX scan_targets_image ON scan_targets (image_id);

-- Every finding of a finished scan, flattened for the cross-image views.
CREATE TABLE findings (
    scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    target_idx BIGINT NOT NULL,
    kind TEXT NOT NULL,
    finding_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    title TEXT NOT NULL,
    package TEXT,
    installed_version TEXT,
    fixed_version TEXT,
    path TEXT
);
CREATE INDEX findings_scan ON findings (scan_id, target_idx);
CREATE INDEX findings_id ON findings (finding_id);

-- Every package of a finished scan: the inventory a new database is matched against.
CREATE TABLE packages (
    scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    target_idx BIGINT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    purl TEXT,
    layer TEXT
);
CREATE INDEX packages_scan ON packages (scan_id, target_idx);
CREATE INDEX packages_name ON packages (name);

-- API tokens, stored as the SHA-256 of the token.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

-- Advisory allow-list entries.
CREATE TABLE exceptions (
    id TEXT PRIMARY KEY,
    advisory TEXT NOT NULL,
    target TEXT,
    package TEXT,
    reason TEXT NOT NULL,
    owner TEXT NOT NULL,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX exceptions_advisory ON exceptions (advisory);

-- Recurring scans: `every 12h` or a cron expression.
CREATE TABLE schedules (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL,
    scanners TEXT NOT NULL,
    spec TEXT NOT NULL,
    next_run_at BIGINT NOT NULL,
    last_run_at BIGINT,
    last_digest TEXT,
    enabled BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE INDEX schedules_next ON schedules (enabled, next_run_at);

-- Who changed what, when.
CREATE TABLE audit (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at);
