-- Staff accounts and their one-time invitations.
-- Times are INTEGER microseconds since the Unix epoch, UTC by construction.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    -- normalized (trimmed, lower-case) by the application
    email         TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('staff', 'manager', 'owner')),
    -- '' follows the browser
    language      TEXT    NOT NULL DEFAULT '',
    -- argon2id PHC string; '' while the invitation is pending
    password_hash TEXT    NOT NULL DEFAULT '',
    disabled_at   INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- An invitation: the SHA-256 of a one-time token that lets the account set
-- its password until expires_at. The token itself is never stored.
CREATE TABLE account_invites (
    token_hash BLOB    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX account_invites_account ON account_invites (account_id);
