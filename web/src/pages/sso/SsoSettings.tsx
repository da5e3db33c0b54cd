import { useCallback, useEffect, useRef, useState } from 'react';
import { catalogue } from '../../../../src/errors/catalogue.ts';
import { api, ApiError } from '../../api.ts';
import { ErrorNotice, explainCode } from '../../errors.tsx';
import { useMe } from '../../shell/session.ts';
import { Confirm, CopyValue, Fact, When } from '../../ui/admin.tsx';
import { Button, PageHeading } from '../../ui/form.tsx';
import { PageLoading } from '../../ui/layout.tsx';
import { ConfigForm } from './ConfigForm.tsx';
import { resaveBody, type SsoAttempt, type SsoConfig, type SsoSaveResult, type SsoSettingsResponse } from './types.ts';

/** `/integrations/sso`: the tenant's OIDC connection, Enforce SSO, and recent SSO sign-ins. */
export default function SsoSettings() {
  const me = useMe();
  const [settings, setSettings] = useState<SsoSettingsResponse | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [editing, setEditing] = useState(false);
  const [outcome, setOutcome] = useState<SsoSaveResult | null>(null);
  const [removed, setRemoved] = useState(false);
  const outcomeRef = useRef<HTMLDivElement>(null);
  const removedRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let active = true;
    api<SsoSettingsResponse>('GET', '/api/integrations/sso').then(
      (found) => active && setSettings(found),
      (err) => active && setLoadError(err),
    );
    return () => {
      active = false;
    };
  }, []);

  useEffect(() => {
    if (outcome) outcomeRef.current?.focus();
  }, [outcome]);

  useEffect(() => {
    if (removed) removedRef.current?.focus();
  }, [removed]);

  const replaceConfig = (config: SsoConfig | null) => setSettings((s) => (s ? { ...s, config } : s));

  return (
    <>
      <PageHeading title="Single sign-on">Single sign-on</PageHeading>
      <p className="lede">
        Let people in {me.tenant.name} sign in through your identity provider with OpenID Connect. Only people you have invited can get
        in; single sign-on never creates accounts.
      </p>

      {loadError !== null && <ErrorNotice error={loadError} />}
      {!settings && loadError === null && <PageLoading />}

      {settings && (
        <>
          <section className="card">
            <h2>Redirect URI</h2>
            <p>Register this address at your identity provider as the application's sign-in redirect (callback) URL. It must match exactly.</p>
            <CopyValue label="Redirect URI" hideLabel value={settings.redirectUri} testId="redirect-uri" />
          </section>

          {removed && !settings.config && (
            <div className="notice notice-success" role="status" tabIndex={-1} ref={removedRef}>
              <p className="notice-title">SSO configuration removed.</p>
              <p>Members with a password sign in with it. Connect a provider below whenever you are ready.</p>
            </div>
          )}
          {outcome && (
            <div className="notice notice-success" role="status" tabIndex={-1} ref={outcomeRef} data-testid="sso-saved">
              <p className="notice-title">SSO configuration saved. Your identity provider answered.</p>
              {outcome.issuerNormalized && (
                <p>
                  We saved the issuer as <code className="break">{outcome.issuerNormalized}</code>.
                </p>
              )}
              {!outcome.config.verified && (
                <p>
                  Next, test it: sign out, enter your email on the sign-in page and choose “Continue with {outcome.config.name}”.
                </p>
              )}
            </div>
          )}
          {outcome?.warnings && outcome.warnings.length > 0 && (
            <div className="notice notice-warning" data-testid="sso-warnings">
              <p className="notice-title">Saved, but check {outcome.warnings.length === 1 ? 'this' : 'these'}:</p>
              <ul>
                {outcome.warnings.map((warning) => (
                  <li key={warning.code}>{warning.message}</li>
                ))}
              </ul>
            </div>
          )}

          {settings.config && !editing ? (
            <>
              <ActiveConfig
                config={settings.config}
                onEdit={() => {
                  setOutcome(null);
                  setEditing(true);
                }}
                onRemoved={() => {
                  setOutcome(null);
                  setRemoved(true);
                  replaceConfig(null);
                }}
              />
              <EnforceSso config={settings.config} tenantName={me.tenant.name} onChanged={replaceConfig} />
            </>
          ) : (
            <ConfigForm
              key={settings.config?.updatedAt ?? 'new'}
              initial={settings.config}
              onCancel={settings.config ? () => setEditing(false) : undefined}
              onSaved={(result) => {
                setRemoved(false);
                replaceConfig(result.config);
                setEditing(false);
                setOutcome(result);
              }}
            />
          )}

          <Attempts refreshKey={settings.config?.updatedAt ?? ''} />
        </>
      )}
    </>
  );
}

function ActiveConfig({ config, onEdit, onRemoved }: { config: SsoConfig; onEdit: () => void; onRemoved: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const removeRef = useRef<HTMLButtonElement>(null);

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await api('DELETE', '/api/integrations/sso');
      onRemoved();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <section className="card">
      <div className="card-head">
        <h2>Active SSO configuration</h2>
        {config.verified ? <span className="badge badge-success">Verified</span> : <span className="badge badge-warning">Not verified yet</span>}
      </div>
      <dl className="facts">
        <Fact label="Configuration name">{config.name}</Fact>
        <Fact label="Issuer URL">
          <code className="break">{config.issuer}</code>
        </Fact>
        <Fact label="Client ID">
          <code className="break">{config.clientId}</code>
        </Fact>
        <Fact label="Client Secret" testId="client-secret-status">
          {config.hasClientSecret ? 'set' : 'not set (public client: PKCE only)'}
        </Fact>
        <Fact label="Scopes">
          <code>{config.scopes}</code>
        </Fact>
        <Fact label="Claims">
          email from <code>{config.claims.email}</code>, first name from <code>{config.claims.firstName}</code>, last name from{' '}
          <code>{config.claims.lastName}</code>
        </Fact>
        <Fact label="Status">
          {config.verified
            ? 'Verified: an admin has signed in through this configuration.'
            : 'Not verified: no admin has signed in through this configuration yet.'}
        </Fact>
        <Fact label="Last saved">
          <When iso={config.updatedAt} withTime />
        </Fact>
      </dl>
      {confirming ? (
        <Confirm
          confirmLabel="Yes, remove"
          busy={busy}
          onConfirm={remove}
          onCancel={() => {
            setConfirming(false);
            requestAnimationFrame(() => removeRef.current?.focus());
          }}
        >
          <p>
            Remove this configuration? The “Continue with {config.name}” button disappears from the sign-in page
            {config.enforce ? ' and Enforce SSO turns off' : ''}. Members who have a password can still sign in with it; members who only
            ever used single sign-on cannot until you connect a provider again.
          </p>
        </Confirm>
      ) : (
        <div className="actions">
          <Button onClick={onEdit}>Edit</Button>
          <Button ref={removeRef} variant="ghost" className="btn-ghost-danger" onClick={() => setConfirming(true)}>
            Remove
          </Button>
        </div>
      )}
      {error !== null && <ErrorNotice error={error} />}
    </section>
  );
}

function EnforceSso({ config, tenantName, onChanged }: { config: SsoConfig; tenantName: string; onChanged: (config: SsoConfig) => void }) {
  const [checked, setChecked] = useState(config.enforce);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => setChecked(config.enforce), [config.enforce]);

  async function toggle(next: boolean) {
    if (busy) return;
    // Show the new position at once; put it back if the server refuses.
    setChecked(next);
    setBusy(true);
    setError(null);
    try {
      const result = await api<SsoSaveResult>('PUT', '/api/integrations/sso', resaveBody(config, { enforce: next }));
      onChanged(result.config);
    } catch (err) {
      setChecked(!next);
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const refusedUnverified = error instanceof ApiError && error.code === 'enforce_requires_verified_sso';

  return (
    <section className="card">
      <div className="switch-row">
        <input
          id="enforce-sso"
          type="checkbox"
          className="switch"
          checked={checked}
          aria-busy={busy || undefined}
          aria-describedby="enforce-description"
          onChange={(event) => void toggle(event.target.checked)}
        />
        <label htmlFor="enforce-sso">Enforce SSO</label>
        <span className="progress" role="status">
          {busy ? (checked ? 'Turning on… checking your identity provider' : 'Turning off…') : ''}
        </span>
      </div>
      <p className="hint" id="enforce-description">
        When on, nobody in {tenantName} can sign in with a password: the sign-in page offers only “Continue with {config.name}”, and new
        members skip the password step when they accept an invitation. Passwords are kept, so turning this off brings password sign-in
        back.
      </p>
      {!config.verified && !refusedUnverified && (
        <div className="notice notice-info" data-testid="enforce-unverified">
          <p className="notice-title">{catalogue.enforce_requires_verified_sso.message}</p>
          <p>
            This keeps you from locking everyone out. To test the connection, sign out, enter your email on the sign-in page and choose
            “Continue with {config.name}”. Once you are back, you can turn this on.
          </p>
        </div>
      )}
      {error !== null && <ErrorNotice error={error} />}
    </section>
  );
}

function Attempts({ refreshKey }: { refreshKey: string }) {
  const [attempts, setAttempts] = useState<SsoAttempt[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    setBusy(true);
    try {
      const found = await api<{ attempts: SsoAttempt[] }>('GET', '/api/integrations/sso/attempts');
      setAttempts(found.attempts);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load, refreshKey]);

  return (
    <section className="section">
      <div className="section-head">
        <h2 id="attempts-heading">Recent sign-in attempts</h2>
        <Button variant="ghost" busy={busy} onClick={() => void load()}>
          Refresh
        </Button>
      </div>
      <p className="hint">
        When single sign-on fails, the person sees a reference on the sign-in page. Ask them for it and find the attempt here.
      </p>
      {error !== null && <ErrorNotice error={error} />}
      {attempts && attempts.length === 0 && <p className="empty">No single sign-on attempts yet.</p>}
      {attempts && attempts.length > 0 && (
        <div className="table-wrap" tabIndex={0} role="region" aria-labelledby="attempts-heading">
          {/* Explicit roles keep the table a table for assistive tech when narrow screens restyle it as cards. */}
          <table className="table table-stack" role="table">
            <thead role="rowgroup">
              <tr role="row">
                <th scope="col" role="columnheader">Time</th>
                <th scope="col" role="columnheader">Email</th>
                <th scope="col" role="columnheader">Result</th>
                <th scope="col" role="columnheader">Reference</th>
              </tr>
            </thead>
            <tbody role="rowgroup">
              {attempts.map((attempt) => (
                <tr key={attempt.ref} role="row">
                  <td role="cell" className="nowrap">
                    <When iso={attempt.at} withTime />
                  </td>
                  <td role="cell" className="break">
                    {attempt.email ?? <span className="muted">none returned</span>}
                  </td>
                  <td role="cell">
                    <AttemptResult result={attempt.result} />
                  </td>
                  <td role="cell" data-label="Reference">
                    <code>{attempt.ref}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function AttemptResult({ result }: { result: string }) {
  if (result === 'ok') return <span className="badge badge-success">Signed in</span>;
  const { message, fix } = explainCode(result);
  return (
    <div className="attempt-result">
      <code className="badge badge-danger">{result}</code>
      <span>{message}</span>
      {fix && <span className="muted">{fix}</span>}
    </div>
  );
}
