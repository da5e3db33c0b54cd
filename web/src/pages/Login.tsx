import { useEffect, useRef, useState, type FormEvent } from 'react';
import { catalogue } from '../../../src/errors/catalogue.ts';
import { api, ApiError } from '../api.ts';
import { ErrorNotice, explainCode } from '../errors.tsx';
import { navigate, safeReturnTo, useLocation } from '../router.tsx';
import { Button, PageHeading, TextField } from '../ui/form.tsx';
import { AuthLayout } from '../ui/layout.tsx';

interface TenantRef {
  slug: string;
  name: string;
}

interface SsoOption {
  tenant: TenantRef;
  name: string;
  startUrl: string;
}

interface Discovery {
  password: boolean;
  sso: SsoOption[];
}

/**
 * Sign-in in two steps: the email first, so the server can say which methods
 * apply (password, one "Continue with" button per SSO team, or both), then the
 * method itself.
 */
export default function Login() {
  const { searchParams } = useLocation();
  const ssoError = searchParams.get('sso_error');
  const ssoRef = searchParams.get('ref');
  const returnTo = safeReturnTo(searchParams.get('return_to'));

  const [email, setEmail] = useState('');
  const [methods, setMethods] = useState<Discovery | null>(null);
  const [password, setPassword] = useState('');
  const [tenants, setTenants] = useState<TenantRef[] | null>(null);
  const [tenant, setTenant] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fieldError, setFieldError] = useState<string | null>(null);

  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const methodsRef = useRef<HTMLDivElement>(null);

  // After discovery, put the keyboard where the next action is.
  useEffect(() => {
    if (!methods) return;
    const first = methodsRef.current?.querySelector<HTMLElement>('.btn-sso, input[type="password"]');
    first?.focus();
  }, [methods]);

  async function discover(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const trimmed = email.trim();
    if (!trimmed) {
      setFieldError('Enter your email address.');
      emailRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    setFieldError(null);
    try {
      const found = await api<Discovery>('POST', '/api/auth/discover', { email: trimmed });
      setEmail(trimmed);
      setPassword('');
      setTenants(null);
      setMethods(found);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_email') setFieldError(catalogue.invalid_email.message);
      else setError(err);
      emailRef.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  async function signIn(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    if (!password) {
      setFieldError('Enter your password.');
      passwordRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    setFieldError(null);
    // Fetch the dashboard's code while the password is being checked.
    void import('../shell/SignedIn.tsx');
    try {
      await api('POST', '/api/auth/password', { email, password, ...(tenants && tenant ? { tenant } : {}) });
      navigate(returnTo ?? '/', { replace: true });
    } catch (err) {
      const choices = err instanceof ApiError && err.code === 'tenant_choice_required' ? readTenants(err) : null;
      if (choices) {
        setTenants(choices);
        setTenant(choices[0]!.slug);
      } else if (err instanceof ApiError && err.code === 'sso_enforced') {
        // The team switched to SSO since the email step: offer only what works now.
        setError(err);
        setPassword('');
        const fresh = await api<Discovery>('POST', '/api/auth/discover', { email }).catch(() => null);
        if (fresh) setMethods({ ...fresh, password: false });
      } else {
        setError(err);
        if (err instanceof ApiError && err.code === 'invalid_credentials') setPassword('');
        passwordRef.current?.focus();
      }
    } finally {
      setBusy(false);
    }
  }

  function startOver() {
    setMethods(null);
    setPassword('');
    setTenants(null);
    setError(null);
    setFieldError(null);
    // Wait for the email step to render before focusing it.
    requestAnimationFrame(() => emailRef.current?.select());
  }

  return (
    <AuthLayout>
      {/* The email field (or the SSO failure) takes focus instead of the heading. */}
      <PageHeading title="Sign in" takeFocus={false}>
        Sign in
      </PageHeading>
      {ssoError && <SsoFailure code={ssoError} reference={ssoRef} />}

      {!methods ? (
        <form onSubmit={discover} noValidate>
          <p className="lede">Enter your work email and we will show you how your team signs in.</p>
          <TextField
            label="Email"
            type="email"
            name="email"
            autoComplete="username"
            inputMode="email"
            spellCheck={false}
            autoCapitalize="off"
            autoFocus={!ssoError}
            inputRef={emailRef}
            value={email}
            onChange={setEmail}
            error={fieldError}
          />
          {error !== null && <ErrorNotice error={error} />}
          <Button type="submit" variant="primary" block busy={busy}>
            Continue
          </Button>
        </form>
      ) : (
        <div ref={methodsRef}>
          <div className="identity">
            <span className="identity-email" title={email}>
              {email}
            </span>
            <button type="button" className="link-button" onClick={startOver}>
              Use a different email
            </button>
          </div>

          {methods.sso.length > 0 && (
            <div className="sso-options">
              {!methods.password && <p className="lede">Your team signs in through its identity provider.</p>}
              {methods.sso.map((option) => (
                <SsoButton
                  key={option.tenant.slug}
                  option={option}
                  showTeam={methods.sso.length > 1}
                  href={ssoHref(option.startUrl, email, returnTo)}
                />
              ))}
            </div>
          )}

          {methods.password && methods.sso.length > 0 && (
            <div className="divider" role="separator">
              <span>or use your password</span>
            </div>
          )}

          {methods.password ? (
            <form onSubmit={signIn} noValidate>
              {/* Lets password managers pair the saved password with this email. */}
              <input type="email" name="username" autoComplete="username" value={email} readOnly hidden />
              <TextField
                label="Password"
                type="password"
                name="password"
                autoComplete="current-password"
                inputRef={passwordRef}
                value={password}
                onChange={setPassword}
                error={fieldError}
              />
              {tenants && (
                <fieldset className="choices">
                  <legend>{catalogue.tenant_choice_required.message}</legend>
                  {tenants.map((t) => (
                    <label className="choice" key={t.slug}>
                      <input
                        type="radio"
                        name="tenant"
                        value={t.slug}
                        checked={tenant === t.slug}
                        onChange={() => setTenant(t.slug)}
                      />
                      <span>{t.name}</span>
                    </label>
                  ))}
                </fieldset>
              )}
              {error !== null && <ErrorNotice error={error} />}
              <Button type="submit" variant="primary" block busy={busy}>
                Sign in
              </Button>
            </form>
          ) : (
            error !== null && <ErrorNotice error={error} />
          )}

          {!methods.password && methods.sso.length === 0 && (
            <p className="lede">There is no way to sign in with this email yet. Ask an admin of your team for an invitation.</p>
          )}
        </div>
      )}
    </AuthLayout>
  );
}

function readTenants(error: ApiError): TenantRef[] | null {
  const list = error.details.tenants;
  if (!Array.isArray(list) || list.length === 0) return null;
  return list.filter((t): t is TenantRef => typeof t?.slug === 'string' && typeof t?.name === 'string');
}

/**
 * The server's start URL, plus the email as a login hint (so the IdP can skip
 * its own email prompt) and where to land afterwards, unless it has them.
 */
function ssoHref(startUrl: string, email: string, returnTo: string | null): string {
  const url = new URL(startUrl, window.location.origin);
  if (url.origin !== window.location.origin) return startUrl;
  if (!url.searchParams.has('login_hint')) url.searchParams.set('login_hint', email);
  if (returnTo && !url.searchParams.has('return_to')) url.searchParams.set('return_to', returnTo);
  return url.pathname + url.search;
}

function SsoButton({ option, href, showTeam }: { option: SsoOption; href: string; showTeam: boolean }) {
  const [leaving, setLeaving] = useState(false);
  useEffect(() => {
    // Coming back with the Back button restores this page from the cache: drop the spinner.
    const reset = (event: PageTransitionEvent) => event.persisted && setLeaving(false);
    window.addEventListener('pageshow', reset);
    return () => window.removeEventListener('pageshow', reset);
  }, []);
  return (
    <Button
      variant="secondary"
      block
      className="btn-sso"
      busy={leaving}
      onClick={() => {
        setLeaving(true);
        window.location.assign(href);
      }}
    >
      <span>Continue with {option.name}</span>
      {showTeam && <span className="btn-sub">{option.tenant.name}</span>}
    </Button>
  );
}

/** What went wrong on the way back from the identity provider, with the reference to quote. */
function SsoFailure({ code, reference }: { code: string; reference: string | null }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  const { message, fix } = explainCode(code, 'Single sign-on did not complete.');
  return (
    <div className="notice notice-error" role="alert" data-testid="sso-error" tabIndex={-1} ref={ref}>
      <p className="notice-title">{message}</p>
      {fix && <p>{fix}</p>}
      {reference && (
        <p className="notice-meta">
          Reference: <code data-testid="sso-ref">{reference}</code>
          <span className="muted"> — quote it if you contact your admin.</span>
        </p>
      )}
    </div>
  );
}
