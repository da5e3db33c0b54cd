/**
 * The one error catalogue. Server, CLI and web app take their status codes and
 * sentences from here, so that they never disagree about what a code means.
 *
 * This module must stay free of Node imports: the browser bundle imports it.
 */

export interface ErrorEntry {
  /** HTTP status when the error is answered as JSON. */
  readonly status: number;
  /** What happened, in one sentence a user can read. */
  readonly message: string;
  /** What to do about it, when there is something to do. */
  readonly fix?: string;
}

export const catalogue = {
  // 400: bad input
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  invalid_body: { status: 400, message: 'The request is missing a field or has one of the wrong shape.' },
  body_too_large: { status: 400, message: 'The request body is too large.' },
  unsupported_media_type: { status: 400, message: 'Send the request body as application/json.' },
  invalid_email: { status: 400, message: 'That is not a valid email address.' },
  weak_password: {
    status: 400,
    message: 'The password is too short.',
    fix: 'Use at least 12 characters.',
  },
  invalid_slug: {
    status: 400,
    message: 'The tenant slug may use lower-case letters, digits and dashes (2 to 40 characters).',
  },
  invitation_invalid: {
    status: 400,
    message: 'This invitation link is not valid: it may have expired, been replaced, or been used already.',
    fix: 'Ask an admin of the team for a new invitation.',
  },
  setup_token_invalid: {
    status: 400,
    message: 'This setup link is not valid: it may have expired or been used already.',
    fix: 'Restart the server to print a new setup link, or create a tenant with the CLI.',
  },
  issuer_invalid: {
    status: 400,
    message: 'The Issuer URL is not a valid http(s) URL.',
    fix: 'Paste the issuer from your identity provider, for example https://login.microsoftonline.com/<directory-id>/v2.0.',
  },
  discovery_failed: {
    status: 400,
    message: "The identity provider's OpenID configuration could not be fetched from <issuer>/.well-known/openid-configuration.",
    fix: 'Check the Issuer URL for typos and that the provider is reachable from this server.',
  },
  discovery_issuer_mismatch: {
    status: 400,
    message: 'The identity provider reports a different issuer than the one you entered.',
    fix: 'Use the issuer exactly as the provider reports it (shown in the error details).',
  },
  discovery_incomplete: {
    status: 400,
    message: "The identity provider's OpenID configuration lacks something sign-in needs.",
    fix: 'The provider must publish authorization_endpoint, token_endpoint and jwks_uri, and support the "code" response type.',
  },
  scopes_missing_openid: {
    status: 400,
    message: 'Scopes must include openid.',
    fix: 'Use at least "openid email".',
  },
  bot_expiry_invalid: { status: 400, message: 'A bot token expires after 30, 90 or 365 days, or never.' },

  // 401: not signed in or bad credentials
  unauthenticated: { status: 401, message: 'You are not signed in, or your session has ended.', fix: 'Sign in again.' },
  invalid_credentials: { status: 401, message: 'That email and password do not match.' },

  // 403: not allowed
  forbidden: { status: 403, message: 'You are not allowed to do that.' },
  admin_required: { status: 403, message: 'Only an admin of this team can do that.' },
  csrf_rejected: {
    status: 403,
    message: 'The request did not come from this site, so it was refused.',
    fix: 'Reload the page and try again.',
  },
  sso_enforced: {
    status: 403,
    message: 'Your team signs in with single sign-on only.',
    fix: 'Use the "Continue with" button for your team instead of a password.',
  },
  account_disabled: {
    status: 403,
    message: 'Your account has been deactivated.',
    fix: 'Ask an admin of your team to reactivate you.',
  },

  // 404
  not_found: { status: 404, message: 'Not found.' },

  // 409: conflict
  already_member: { status: 409, message: 'That email already belongs to a member of this team.' },
  last_admin: {
    status: 409,
    message: 'This is the last active admin of the team.',
    fix: 'Make another member an admin first.',
  },
  tenant_choice_required: { status: 409, message: 'That email belongs to several teams. Choose one.' },
  enforce_requires_verified_sso: {
    status: 409,
    message: 'Enforce SSO stays off until an admin has signed in through this SSO configuration.',
    fix: 'Sign out, sign back in with the "Continue with" button as an admin, then turn Enforce SSO on.',
  },
  slug_taken: { status: 409, message: 'That tenant slug is already taken.' },
  setup_done: { status: 409, message: 'This server has been set up already.' },

  // 429
  rate_limited: { status: 429, message: 'Too many attempts.', fix: 'Wait a moment and try again.' },

  // 500: our fault; the log has the details, the answer has none.
  internal_error: { status: 500, message: 'Something went wrong on our side. Try again.' },

  // SSO sign-in results, delivered on /login?sso_error=<code>
  user_not_provisioned: {
    status: 403,
    message: 'The email your identity provider returned does not belong to anyone in this team.',
    fix: 'Ask an admin of your team to invite you, then try again.',
  },
  sso_idp_rejected: {
    status: 502,
    message: 'The identity provider refused to complete the sign-in. This is often a wrong or expired Client Secret.',
    fix: 'Admin: generate a new Client Secret at the identity provider and save it on the SSO settings page.',
  },
  sso_no_email_claim: {
    status: 502,
    message: 'The identity provider did not send an email address.',
    fix: 'Admin: add the "email" scope, or the email optional claim, to the application at the identity provider.',
  },
  sso_state_invalid: {
    status: 400,
    message: 'The sign-in took longer than 5 minutes, was used already, or was started in another browser.',
    fix: 'Start the sign-in again.',
  },
  sso_access_denied: {
    status: 403,
    message: 'The identity provider did not let you in. You may not be assigned to the application there.',
    fix: 'Ask your IT admin to assign you to the application.',
  },
  sso_token_invalid: {
    status: 502,
    message: "The identity provider's ID token failed validation.",
    fix: 'Admin: check that the Issuer URL and Client ID match the application at the identity provider.',
  },
  sso_email_unverified: {
    status: 403,
    message: 'The identity provider says your email address is not verified.',
    fix: 'Verify your email address with your identity provider, then try again.',
  },
  sso_identity_mismatch: {
    status: 403,
    message: 'Your email is linked to a different account at the identity provider.',
    fix: "Admin: clear the member's stored SSO identity on the Team page, then try again.",
  },
  sso_not_configured: { status: 404, message: 'This team has no single sign-on set up.' },
  sso_discovery_failed: {
    status: 502,
    message: "The identity provider's configuration could not be fetched.",
    fix: 'Try again in a minute. If it keeps failing, an admin should check the Issuer URL.',
  },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof catalogue;

/** The codes that an SSO sign-in can end with, shown on `/login?sso_error=`. */
export const ssoErrorCodes = [
  'user_not_provisioned',
  'account_disabled',
  'sso_idp_rejected',
  'sso_no_email_claim',
  'sso_state_invalid',
  'sso_access_denied',
  'sso_token_invalid',
  'sso_email_unverified',
  'sso_identity_mismatch',
  'sso_not_configured',
  'sso_discovery_failed',
] as const satisfies readonly ErrorCode[];

export type SsoErrorCode = (typeof ssoErrorCodes)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(catalogue, value);
}

/**
 * A domain error: a stable code from the catalogue, plus optional details that
 * are safe to show (never a secret). HTTP status is chosen at the edge from the
 * catalogue, not here.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, details?: Record<string, unknown>, message?: string) {
    super(message ?? catalogue[code].message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
}
