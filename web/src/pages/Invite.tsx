import { useEffect, useRef, useState, type FormEvent } from 'react';
import { catalogue } from '../../../src/errors/catalogue.ts';
import { api, ApiError } from '../api.ts';
import { ErrorNotice } from '../errors.tsx';
import { Link, navigate } from '../router.tsx';
import { Button, PageHeading, TextField } from '../ui/form.tsx';
import { AuthLayout, PageLoading } from '../ui/layout.tsx';

interface Invitation {
  email: string;
  tenant: { slug: string; name: string };
  ssoEnforced: boolean;
  sso: { name: string } | null;
}

type Accepted = { redirect: string } | { user: unknown; tenant: unknown };

const MIN_PASSWORD = 12;

/** `/invite/<token>`: the invitee names themselves and, unless SSO is enforced, picks a password. */
export default function Invite({ token }: { token: string }) {
  const [invitation, setInvitation] = useState<Invitation | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);

  useEffect(() => {
    let active = true;
    api<Invitation>('GET', `/api/invitations/${encodeURIComponent(token)}`).then(
      (found) => active && setInvitation(found),
      (err) => active && setLoadError(err),
    );
    return () => {
      active = false;
    };
  }, [token]);

  if (loadError !== null) {
    // An unknown or used token answers 404 or 400; both mean "this link is no good".
    const invalid = loadError instanceof ApiError && (loadError.status === 404 || loadError.code === 'invitation_invalid');
    return (
      <AuthLayout>
        <PageHeading title="Invitation">This invitation can't be used</PageHeading>
        {invalid ? (
          <div className="notice notice-error" role="alert">
            <p className="notice-title">{catalogue.invitation_invalid.message}</p>
            <p>{catalogue.invitation_invalid.fix}</p>
          </div>
        ) : (
          <ErrorNotice error={loadError} />
        )}
        <p className="lede">
          Already have an account? <Link href="/login">Sign in</Link>
        </p>
      </AuthLayout>
    );
  }

  if (!invitation) {
    return (
      <AuthLayout>
        <PageHeading title="Invitation">Your invitation</PageHeading>
        <PageLoading />
      </AuthLayout>
    );
  }

  return <AcceptForm token={token} invitation={invitation} />;
}

function AcceptForm({ token, invitation }: { token: string; invitation: Invitation }) {
  const [firstName, setFirstName] = useState('');
  const [lastName, setLastName] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ firstName?: string; lastName?: string; password?: string }>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const sso = invitation.ssoEnforced;
  const idpName = invitation.sso?.name ?? 'your identity provider';

  async function accept(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const found: typeof errors = {};
    if (!firstName.trim()) found.firstName = 'Enter your first name.';
    if (!lastName.trim()) found.lastName = 'Enter your last name.';
    if (!sso && password.length < MIN_PASSWORD) found.password = `${catalogue.weak_password.message} ${catalogue.weak_password.fix}`;
    setErrors(found);
    if (Object.keys(found).length > 0) {
      formRef.current?.querySelector<HTMLInputElement>('[aria-invalid="true"]')?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const body = { firstName: firstName.trim(), lastName: lastName.trim(), ...(sso ? {} : { password }) };
      const result = await api<Accepted>('POST', `/api/invitations/${encodeURIComponent(token)}/accept`, body);
      if ('redirect' in result && typeof result.redirect === 'string') {
        // SSO-enforced team: the first sign-in at the IdP completes the account.
        window.location.assign(result.redirect);
        return;
      }
      navigate('/', { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'weak_password') {
        setErrors({ password: `${catalogue.weak_password.message} ${catalogue.weak_password.fix}` });
      } else {
        setError(err);
      }
      setBusy(false);
    }
  }

  return (
    <AuthLayout>
      <PageHeading title={`Join ${invitation.tenant.name}`}>Join {invitation.tenant.name}</PageHeading>
      <p className="lede">
        You have been invited as <strong className="break">{invitation.email}</strong>.{' '}
        {sso
          ? `${invitation.tenant.name} signs in with ${idpName}, so you won't need a password here.`
          : 'Tell us your name and choose a password to finish.'}
      </p>
      <form onSubmit={accept} noValidate ref={formRef}>
        <input type="email" name="username" autoComplete="username" value={invitation.email} readOnly hidden />
        <div className="field-pair">
          <TextField label="First name" name="firstName" autoComplete="given-name" value={firstName} onChange={setFirstName} error={errors.firstName} autoFocus />
          <TextField label="Last name" name="lastName" autoComplete="family-name" value={lastName} onChange={setLastName} error={errors.lastName} />
        </div>
        {!sso && (
          <TextField
            label="Password"
            type="password"
            name="password"
            autoComplete="new-password"
            minLength={MIN_PASSWORD}
            hint={`At least ${MIN_PASSWORD} characters. A few unrelated words make a strong one.`}
            value={password}
            onChange={setPassword}
            error={errors.password}
          />
        )}
        {sso && (
          <p className="hint">
            Next you will continue to <strong>{idpName}</strong>. Your account is ready once you sign in there.
          </p>
        )}
        {error !== null && <ErrorNotice error={error} />}
        <Button type="submit" variant="primary" block busy={busy}>
          Accept invitation
        </Button>
      </form>
    </AuthLayout>
  );
}
