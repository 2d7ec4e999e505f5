-- Sign-in with the state's identity through OpenID Connect (issue 22): a provider's subject linked to a person the
-- school listed, the sign-ins under way, and the Zvonok sessions each sign-in opened.

-- A verified identifier the school entered for a person: an e-mail address, stored lower-cased (by `Validation.email`,
-- which also bounds it) and matched exactly against an address the provider reports as verified, lower-cased the same
-- way. Nothing else links a subject without an invite code.
ALTER TABLE people ADD COLUMN email text;
CREATE INDEX people_by_email ON people (email) WHERE email IS NOT NULL AND removed_at IS NULL;

-- A provider's subject (`iss` + `sub`) linked to a person. An unlink keeps the row (the audit log says who and when);
-- at most one working link per subject and one per person and issuer.
CREATE TABLE linked_identities (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issuer       text NOT NULL,
    subject      text NOT NULL,
    person_id    bigint NOT NULL REFERENCES people (id),
    linked_by    text NOT NULL CHECK (linked_by IN ('invite', 'email')),
    linked_at    timestamptz NOT NULL DEFAULT now(),
    unlinked_at  timestamptz
);
CREATE UNIQUE INDEX linked_identities_subject ON linked_identities (issuer, subject) WHERE unlinked_at IS NULL;
CREATE UNIQUE INDEX linked_identities_person ON linked_identities (person_id, issuer) WHERE unlinked_at IS NULL;

-- A sign-in under way: what the server sent the browser to the provider with. The state is kept only as its SHA-256
-- hash; the row is used once (used_at) and only until it expires. The PKCE verifier and the nonce are in clear because
-- the server must send and compare them; both are worthless without the provider's one-time code.
CREATE TABLE oidc_sign_ins (
    state_hash     bytea PRIMARY KEY,
    nonce          text NOT NULL,
    code_verifier  text NOT NULL,
    redirect_uri   text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz
);
CREATE INDEX oidc_sign_ins_by_expiry ON oidc_sign_ins (expires_at);

-- The Zvonok token a sign-in minted, with the provider's session (`sid`) when it names one: the provider's
-- back-channel logout revokes these tokens, and only these.
CREATE TABLE oidc_sessions (
    token_id  bigint PRIMARY KEY REFERENCES tokens (id),
    issuer    text NOT NULL,
    subject   text NOT NULL,
    sid       text
);
CREATE INDEX oidc_sessions_by_subject ON oidc_sessions (issuer, subject);
CREATE INDEX oidc_sessions_by_sid ON oidc_sessions (issuer, sid) WHERE sid IS NOT NULL;
