import { useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError } from '../../api.ts';
import { ErrorNotice, explain } from '../../errors.tsx';
import { Button, TextField } from '../../ui/form.tsx';
import { looksLikeEntraV1, providerOf, providers, type ProviderId } from './providers.ts';
import type { SsoConfig, SsoSaveBody, SsoSaveResult } from './types.ts';

type Field = 'name' | 'issuer' | 'clientId' | 'clientSecret' | 'scopes' | 'claimEmail' | 'claimFirstName' | 'claimLastName';

/** Discovery refusals are all about the issuer, so they are shown beside it. */
const issuerCodes = new Set(['issuer_invalid', 'discovery_failed', 'discovery_issuer_mismatch', 'discovery_incomplete']);

/** `invalid_body` may name the field it is about, in the API's own terms. */
const fieldOfApiName: Record<string, Field> = {
  name: 'name',
  issuer: 'issuer',
  clientId: 'clientId',
  clientSecret: 'clientSecret',
  scopes: 'scopes',
  'claims.email': 'claimEmail',
  'claims.firstName': 'claimFirstName',
  'claims.lastName': 'claimLastName',
};
const advancedFields = new Set<Field>(['scopes', 'claimEmail', 'claimFirstName', 'claimLastName']);

/** What the server will call the issuer: trimmed, without the discovery suffix or trailing slashes. */
function normalizeIssuer(value: string): string {
  return value
    .trim()
    .replace(/\/\.well-known\/openid-configuration\/?$/, '')
    .replace(/\/+$/, '');
}

interface Props {
  /** The stored configuration when editing; null when setting up. */
  initial: SsoConfig | null;
  onSaved: (result: SsoSaveResult) => void;
  onCancel?: () => void;
}

/** Set up or edit the tenant's one OIDC configuration. Saving runs discovery, which can take a few seconds. */
export function ConfigForm({ initial, onSaved, onCancel }: Props) {
  const [provider, setProvider] = useState<ProviderId>(() => (initial ? providerOf(initial.issuer) : 'entra'));
  const [values, setValues] = useState<Record<Field, string>>(() => ({
    name: initial?.name ?? 'Microsoft Entra ID',
    issuer: initial?.issuer ?? '',
    clientId: initial?.clientId ?? '',
    clientSecret: '',
    scopes: initial?.scopes ?? 'openid profile email',
    claimEmail: initial?.claims.email ?? 'email',
    claimFirstName: initial?.claims.firstName ?? 'given_name',
    claimLastName: initial?.claims.lastName ?? 'family_name',
  }));
  const [errors, setErrors] = useState<Partial<Record<Field, ReactNode>>>({});
  const [formError, setFormError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const pickerName = useId();

  const current = providers.find((p) => p.id === provider) ?? providers[0]!;
  const set = (field: Field) => (value: string) => {
    setValues((v) => ({ ...v, [field]: value }));
    // An edited field is no longer the one the server refused.
    setErrors((e) => (e[field] ? { ...e, [field]: undefined } : e));
  };

  function pick(id: ProviderId) {
    const previous = current;
    const next = providers.find((p) => p.id === id)!;
    setProvider(id);
    setValues((v) => ({
      ...v,
      // Follow the provider while the name is still a provider's default.
      name: !v.name.trim() || v.name === previous.label ? (id === 'other' ? '' : next.label) : v.name,
      issuer: next.fixedIssuer && (!v.issuer.trim() || v.issuer === previous.fixedIssuer) ? next.fixedIssuer : v.issuer,
    }));
  }

  function focusFirstError() {
    requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const found: Partial<Record<Field, ReactNode>> = {};
    if (!values.name.trim()) found.name = 'Enter a name. People see it on the sign-in button.';
    if (!values.issuer.trim()) found.issuer = 'Enter the issuer URL from your identity provider.';
    if (!values.clientId.trim()) found.clientId = 'Enter the client ID of the application at your identity provider.';
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length > 0) {
      focusFirstError();
      return;
    }

    const body: SsoSaveBody = {
      name: values.name.trim(),
      issuer: values.issuer.trim(),
      clientId: values.clientId.trim(),
      scopes: values.scopes.trim(),
      claims: { email: values.claimEmail.trim(), firstName: values.claimFirstName.trim(), lastName: values.claimLastName.trim() },
      enforce: initial?.enforce ?? false,
    };
    // Blank keeps the stored secret; a new configuration without one is a public (PKCE-only) client.
    if (values.clientSecret || initial) body.clientSecret = values.clientSecret;

    setBusy(true);
    try {
      const result = await api<SsoSaveResult>('PUT', '/api/integrations/sso', body);
      onSaved(result);
    } catch (err) {
      const field = fieldFor(err);
      if (field) {
        if (advancedFields.has(field)) setAdvancedOpen(true);
        setErrors({ [field]: <SaveError error={err} issuer={body.issuer} onUseIssuer={set('issuer')} /> });
        focusFirstError();
      } else {
        setFormError(err);
      }
      setBusy(false);
    }
  }

  const secretStored = initial?.hasClientSecret ?? false;

  return (
    <form className="card" onSubmit={save} noValidate ref={formRef}>
      <h2>{initial ? 'Edit SSO configuration' : 'Connect your identity provider'}</h2>

      <fieldset className="picker">
        <legend>Identity provider</legend>
        <div className="picker-options">
          {providers.map((p) => (
            <label key={p.id} className="picker-option">
              <input type="radio" name={pickerName} value={p.id} checked={provider === p.id} onChange={() => pick(p.id)} />
              <span>{p.label}</span>
            </label>
          ))}
        </div>
      </fieldset>

      <div className="guide" aria-live="polite">
        {current.issuerTemplate ? (
          <p>
            Issuer for {current.label}: <code className="break">{current.issuerTemplate}</code>
          </p>
        ) : (
          <p>Find the issuer in your provider's OpenID Connect settings.</p>
        )}
        <ul>
          {current.hints.map((hint) => (
            <li key={hint}>{hint}</li>
          ))}
        </ul>
      </div>

      <TextField
        label="Configuration name"
        name="name"
        autoComplete="off"
        hint={`Shown on the sign-in page as “Continue with ${values.name.trim() || '…'}”.`}
        value={values.name}
        onChange={set('name')}
        error={errors.name}
      />
      <TextField
        label="Issuer URL"
        name="issuer"
        type="url"
        inputMode="url"
        autoComplete="off"
        spellCheck={false}
        autoCapitalize="off"
        hint={
          looksLikeEntraV1(values.issuer) ? (
            <span className="hint-warning">This Entra issuer has no /v2.0 at the end, so it reaches the v1 endpoint. Add /v2.0 unless you are sure.</span>
          ) : undefined
        }
        value={values.issuer}
        onChange={set('issuer')}
        error={errors.issuer}
      />
      <TextField
        label="Client ID"
        name="clientId"
        autoComplete="off"
        spellCheck={false}
        autoCapitalize="off"
        value={values.clientId}
        onChange={set('clientId')}
        error={errors.clientId}
      />
      <TextField
        label="Client Secret"
        name="clientSecret"
        type="password"
        autoComplete="new-password"
        spellCheck={false}
        placeholder={secretStored ? 'Stored — leave blank to keep' : undefined}
        hint={
          secretStored
            ? 'Paste a new secret only to replace the stored one.'
            : 'Stored encrypted and never shown again. Leave blank only if the application is a public client.'
        }
        value={values.clientSecret}
        onChange={set('clientSecret')}
        error={errors.clientSecret}
      />

      <details className="advanced" open={advancedOpen} onToggle={(event) => setAdvancedOpen(event.currentTarget.open)}>
        <summary>Advanced: scopes and claims</summary>
        <p className="hint">The defaults suit almost every provider. Change them only if yours names things differently.</p>
        <TextField label="Scopes" name="scopes" autoComplete="off" spellCheck={false} hint="Separated by spaces. Must include openid." value={values.scopes} onChange={set('scopes')} error={errors.scopes} />
        <div className="field-trio">
          <TextField label="Email claim" name="claimEmail" autoComplete="off" spellCheck={false} value={values.claimEmail} onChange={set('claimEmail')} error={errors.claimEmail} />
          <TextField label="First name claim" name="claimFirstName" autoComplete="off" spellCheck={false} value={values.claimFirstName} onChange={set('claimFirstName')} error={errors.claimFirstName} />
          <TextField label="Last name claim" name="claimLastName" autoComplete="off" spellCheck={false} value={values.claimLastName} onChange={set('claimLastName')} error={errors.claimLastName} />
        </div>
      </details>

      {formError !== null && <ErrorNotice error={formError} />}

      <div className="actions">
        <Button type="submit" variant="primary" busy={busy}>
          Save
        </Button>
        {onCancel && (
          <Button onClick={onCancel} disabled={busy}>
            Cancel
          </Button>
        )}
        <span className="progress" role="status">
          {busy ? 'Checking your identity provider…' : ''}
        </span>
      </div>
    </form>
  );
}

function fieldFor(error: unknown): Field | null {
  if (!(error instanceof ApiError)) return null;
  if (issuerCodes.has(error.code)) return 'issuer';
  if (error.code === 'scopes_missing_openid') return 'scopes';
  if (error.code === 'invalid_body' && typeof error.details.field === 'string') return fieldOfApiName[error.details.field] ?? null;
  return null;
}

/** A refusal beside the field it concerns, with the details that make it fixable. */
function SaveError({ error, issuer, onUseIssuer }: { error: unknown; issuer: string; onUseIssuer: (value: string) => void }) {
  const { message, fix } = explain(error);
  const details = error instanceof ApiError ? error.details : {};
  const code = error instanceof ApiError ? error.code : '';
  const reported = typeof details.reported === 'string' ? details.reported : null;
  const expected = typeof details.expected === 'string' ? details.expected : normalizeIssuer(issuer);
  const missing = Array.isArray(details.missing) ? details.missing.filter((m): m is string => typeof m === 'string') : [];
  return (
    <>
      <p className="field-error-title">{message.replace('<issuer>', normalizeIssuer(issuer))}</p>
      {fix && <p>{fix}</p>}
      {code === 'discovery_issuer_mismatch' && reported && (
        <div className="mismatch">
          <p>
            You entered <code className="break">{expected}</code>
          </p>
          <p>
            The provider reports <code className="break">{reported}</code>
          </p>
          <Button variant="secondary" onClick={() => onUseIssuer(reported)}>
            Use the reported issuer
          </Button>
        </div>
      )}
      {code === 'discovery_incomplete' && missing.length > 0 && (
        <p>
          Missing from the provider's metadata:{' '}
          {missing.map((m, i) => (
            <span key={m}>
              {i > 0 && ', '}
              <code>{m}</code>
            </span>
          ))}
        </p>
      )}
    </>
  );
}
