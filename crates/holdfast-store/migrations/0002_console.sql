-- Console sessions: a browser signed in with an API token. The cookie's secret is stored
-- as its SHA-256; the session ends with its expiry, at sign-out, or when the token is revoked.
CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,
    token_id TEXT NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Named verdict policies (`ci`, `admission`) as JSON, edited through the API.
CREATE TABLE policies (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);

-- The trends and the overview read finished scans by time.
CREATE INDEX scans_finished ON scans (status, finished_at);
