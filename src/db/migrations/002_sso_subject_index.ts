// Append-only: once merged, never edit a migration; add the next file instead.
// SSO sign-in looks up who in a tenant is linked to an IdP subject.
export default `
CREATE INDEX users_by_sso_subject ON users (tenant_id, sso_subject);
`;
