// Append-only: once merged, never edit a migration; add the next file instead.
// Portable SQL only: TEXT ids, BIGINT epoch milliseconds, INTEGER 0/1 flags.
export default `
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  first_name TEXT NOT NULL DEFAULT '',
  last_name TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
  status TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
  password_hash TEXT,
  sso_issuer TEXT,
  sso_subject TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (tenant_id, email)
);
CREATE INDEX users_by_email ON users (email);

CREATE TABLE invitations (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
  token_hash TEXT NOT NULL UNIQUE,
  invited_by TEXT,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  UNIQUE (tenant_id, email)
);

CREATE TABLE setup_tokens (
  token_hash TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  private_key_enc TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kid TEXT NOT NULL,
  method TEXT NOT NULL CHECK (method IN ('password', 'sso')),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE INDEX sessions_by_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_by_revocation ON sessions (revoked_at);
CREATE INDEX sessions_by_kid ON sessions (kid, expires_at);

CREATE TABLE bots (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
  kid TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX bots_by_tenant ON bots (tenant_id, created_at);
CREATE INDEX bots_by_kid ON bots (kid);

CREATE TABLE sso_configs (
  tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  issuer TEXT NOT NULL,
  discovered_issuer TEXT NOT NULL,
  client_id TEXT NOT NULL,
  client_secret_enc TEXT,
  scopes TEXT NOT NULL,
  claim_email TEXT NOT NULL,
  claim_first_name TEXT NOT NULL,
  claim_last_name TEXT NOT NULL,
  enforce INTEGER NOT NULL DEFAULT 0,
  verified_at BIGINT,
  metadata TEXT NOT NULL,
  metadata_fetched_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE sso_states (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  issuer TEXT NOT NULL,
  binding_hash TEXT NOT NULL,
  code_verifier_enc TEXT NOT NULL,
  nonce TEXT NOT NULL,
  return_to TEXT,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sso_states_by_expiry ON sso_states (expires_at);

CREATE TABLE sso_attempts (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  at BIGINT NOT NULL,
  email TEXT,
  result TEXT NOT NULL,
  ref TEXT NOT NULL
);
CREATE INDEX sso_attempts_by_tenant ON sso_attempts (tenant_id, at);
`;
