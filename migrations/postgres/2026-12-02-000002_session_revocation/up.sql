-- Signing out revokes that one token: its id (the JWT's jti) is refused, cookie or Bearer, until the token
-- would have expired anyway (expires_at, with a margin over the token's leeway); expired rows are swept by
-- the scheduler. Other sessions of the user stay signed in (token_version ends them all at once).
CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    revoked_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX revoked_tokens_user_id_idx ON revoked_tokens (user_id);
CREATE INDEX revoked_tokens_expires_at_idx ON revoked_tokens (expires_at);
