/** Shapes of the /api/integrations/sso routes (SPEC 8.2). */

export interface SsoClaims {
  email: string;
  firstName: string;
  lastName: string;
}

export interface SsoConfig {
  name: string;
  issuer: string;
  clientId: string;
  hasClientSecret: boolean;
  scopes: string;
  claims: SsoClaims;
  enforce: boolean;
  verified: boolean;
  updatedAt: string;
}

export interface SsoSettingsResponse {
  redirectUri: string;
  config: SsoConfig | null;
}

export interface SsoSaveBody {
  name: string;
  issuer: string;
  clientId: string;
  /** Omitted or "" keeps the stored secret. */
  clientSecret?: string;
  scopes: string;
  claims: SsoClaims;
  enforce: boolean;
}

export interface SsoSaveResult {
  config: SsoConfig;
  issuerNormalized?: string;
  warnings?: { code: string; message: string }[];
}

export interface SsoAttempt {
  at: string;
  email: string | null;
  result: string;
  ref: string;
}

/** The body that re-saves a configuration unchanged except for `overrides`, keeping the stored secret. */
export function resaveBody(config: SsoConfig, overrides: Partial<SsoSaveBody> = {}): SsoSaveBody {
  return {
    name: config.name,
    issuer: config.issuer,
    clientId: config.clientId,
    clientSecret: '',
    scopes: config.scopes,
    claims: { ...config.claims },
    enforce: config.enforce,
    ...overrides,
  };
}
