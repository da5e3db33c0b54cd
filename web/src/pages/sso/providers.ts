/**
 * Guidance for the identity providers admins use most. Only the hints differ:
 * every provider is configured with the same fields.
 */

export type ProviderId = 'entra' | 'okta' | 'google' | 'auth0' | 'other';

export interface Provider {
  id: ProviderId;
  label: string;
  /** The issuer's shape, with <placeholders>; null when it is free text. */
  issuerTemplate: string | null;
  /** A complete issuer, when the provider has exactly one. */
  fixedIssuer?: string;
  hints: string[];
}

export const providers: readonly Provider[] = [
  {
    id: 'entra',
    label: 'Microsoft Entra ID',
    issuerTemplate: 'https://login.microsoftonline.com/<Directory-tenant-ID>/v2.0',
    hints: [
      'In App registrations, create a registration and add the Redirect URI above under the Web platform.',
      'Keep /v2.0 at the end of the issuer. Without it Entra serves its older v1 endpoint, which names claims differently.',
      'When you create the client secret, copy its Value (not the Secret ID) straight away: Entra shows it only once.',
      'Entra secrets expire, after 24 months at most. Note the date and save a new secret here before it runs out.',
    ],
  },
  {
    id: 'okta',
    label: 'Okta',
    issuerTemplate: 'https://<org>.okta.com/oauth2/default',
    hints: [
      'Create an OIDC Web Application with the Authorization Code grant, and add the Redirect URI above as a sign-in redirect URI.',
      'Assign people, or groups they belong to, to the application. Okta stops anyone unassigned with "Access denied" before they get back here.',
      'Using a custom authorization server? Copy its issuer from Security, then API, then Authorization Servers.',
    ],
  },
  {
    id: 'google',
    label: 'Google Workspace',
    issuerTemplate: 'https://accounts.google.com',
    fixedIssuer: 'https://accounts.google.com',
    hints: [
      'In Google Cloud console, create an OAuth client ID of type "Web application" and add the Redirect URI above as an authorised redirect URI.',
      'The issuer is the same for every Google Workspace organisation.',
    ],
  },
  {
    id: 'auth0',
    label: 'Auth0',
    issuerTemplate: 'https://<tenant>.<region>.auth0.com',
    hints: [
      'Create the application as a "Regular Web Application", not a Single Page Application: sign-in completes on this server, which keeps the secret.',
      'In the application\u2019s Advanced Settings, under Grant Types, make sure Authorization Code is ticked.',
      'Add the Redirect URI above to Allowed Callback URLs. The issuer is your Auth0 domain with https:// in front.',
    ],
  },
  {
    id: 'other',
    label: 'Other',
    issuerTemplate: null,
    hints: [
      'Any OpenID Connect provider works: OneLogin, Keycloak, AWS Cognito, Ping and others.',
      'Paste the issuer itself. The provider\u2019s metadata is read from <issuer>/.well-known/openid-configuration automatically, so leave that suffix off (it is removed if you paste it).',
    ],
  },
];

/** Guesses the provider from a saved issuer, so editing opens on the right hints. */
export function providerOf(issuer: string): ProviderId {
  let host = '';
  try {
    host = new URL(issuer).hostname;
  } catch {
    return 'other';
  }
  if (host === 'login.microsoftonline.com' || host.endsWith('.ciamlogin.com')) return 'entra';
  if (host.endsWith('.okta.com') || host.endsWith('.oktapreview.com')) return 'okta';
  if (host === 'accounts.google.com') return 'google';
  if (host.endsWith('.auth0.com')) return 'auth0';
  return 'other';
}

/** An Entra issuer that does not end in /v2.0 reaches the v1 endpoint. */
export function looksLikeEntraV1(issuer: string): boolean {
  try {
    const url = new URL(issuer.trim());
    return url.hostname === 'login.microsoftonline.com' && !/\/v2\.0\/?$/.test(url.pathname);
  } catch {
    return false;
  }
}
