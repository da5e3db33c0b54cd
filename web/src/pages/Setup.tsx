import { useRef, useState, type FormEvent } from 'react';
import { catalogue } from '../../../src/errors/catalogue.ts';
import { api, ApiError } from '../api.ts';
import { ErrorNotice, explain } from '../errors.tsx';
import { Link, navigate, useLocation } from '../router.tsx';
import { Button, Notice, PageHeading, TextField } from '../ui/form.tsx';
import { AuthLayout } from '../ui/layout.tsx';

const MIN_PASSWORD = 12;

type FieldName = 'tenantName' | 'tenantSlug' | 'email' | 'firstName' | 'lastName' | 'password';

/** Which field a server refusal belongs next to. */
const fieldOfCode: Partial<Record<string, FieldName>> = {
  slug_taken: 'tenantSlug',
  invalid_slug: 'tenantSlug',
  invalid_email: 'email',
  weak_password: 'password',
};

/** "Acme Corp." → "acme-corp" */
function suggestSlug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 40)
    .replace(/-+$/, '');
}

/**
 * First run: the server printed a one-time link `/setup#<token>`. The token
 * sits in the fragment, so it never reaches a server log or a Referer header.
 */
export default function Setup() {
  const { hash } = useLocation();
  const [token] = useState(() => decodeURIComponent(hash.replace(/^#/, '')));
  const [values, setValues] = useState<Record<FieldName, string>>({
    tenantName: '',
    tenantSlug: '',
    email: '',
    firstName: '',
    lastName: '',
    password: '',
  });
  const [slugEdited, setSlugEdited] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const set = (name: FieldName) => (value: string) => {
    setValues((current) => {
      const next = { ...current, [name]: value };
      if (name === 'tenantName' && !slugEdited) next.tenantSlug = suggestSlug(value);
      return next;
    });
    if (name === 'tenantSlug') setSlugEdited(true);
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const found: Partial<Record<FieldName, string>> = {};
    if (!values.tenantName.trim()) found.tenantName = 'Enter a name for your team.';
    if (!values.tenantSlug.trim()) found.tenantSlug = 'Enter a short name for your team.';
    if (!values.email.trim()) found.email = 'Enter your email address.';
    if (!values.firstName.trim()) found.firstName = 'Enter your first name.';
    if (!values.lastName.trim()) found.lastName = 'Enter your last name.';
    if (values.password.length < MIN_PASSWORD) found.password = `${catalogue.weak_password.message} ${catalogue.weak_password.fix}`;
    setErrors(found);
    setError(null);
    if (Object.keys(found).length > 0) {
      requestAnimationFrame(() => formRef.current?.querySelector<HTMLInputElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    setBusy(true);
    try {
      await api('POST', '/api/setup', {
        token,
        tenantName: values.tenantName.trim(),
        tenantSlug: values.tenantSlug.trim(),
        email: values.email.trim(),
        firstName: values.firstName.trim(),
        lastName: values.lastName.trim(),
        password: values.password,
      });
      navigate('/', { replace: true });
    } catch (err) {
      const field = err instanceof ApiError ? fieldOfCode[err.code] : undefined;
      if (field) {
        const { message, fix } = explain(err);
        setErrors({ [field]: fix ? `${message} ${fix}` : message });
        requestAnimationFrame(() => formRef.current?.querySelector<HTMLInputElement>('[aria-invalid="true"]')?.focus());
      } else {
        setError(err);
      }
      setBusy(false);
    }
  }

  if (!token) {
    return (
      <AuthLayout>
        <PageHeading title="Set up">Set up JAMS IMES</PageHeading>
        <Notice tone="warning">
          <p className="notice-title">This page needs the one-time setup link.</p>
          <p>
            When the server starts with no team yet, it prints a link ending in <code>/setup#…</code>. Open that exact link; the part after
            the <code>#</code> is what lets you in.
          </p>
        </Notice>
        <p className="lede">
          Already set up? <Link href="/login">Sign in</Link>
        </p>
      </AuthLayout>
    );
  }

  const done = error instanceof ApiError && error.code === 'setup_done';

  return (
    <AuthLayout wide>
      <PageHeading title="Set up">Set up JAMS IMES</PageHeading>
      <p className="lede">Create your team and its first admin account. You can invite everyone else afterwards.</p>
      <form onSubmit={submit} noValidate ref={formRef}>
        <fieldset className="group">
          <legend>Your team</legend>
          <TextField label="Team name" name="tenantName" autoComplete="organization" value={values.tenantName} onChange={set('tenantName')} error={errors.tenantName} autoFocus />
          <TextField
            label="Team slug"
            name="tenantSlug"
            autoComplete="off"
            spellCheck={false}
            autoCapitalize="off"
            hint="Lower-case letters, digits and dashes. Identifies your team in sign-in links."
            value={values.tenantSlug}
            onChange={set('tenantSlug')}
            error={errors.tenantSlug}
          />
        </fieldset>
        <fieldset className="group">
          <legend>You, the first admin</legend>
          <TextField label="Email" type="email" name="email" autoComplete="username" inputMode="email" spellCheck={false} autoCapitalize="off" value={values.email} onChange={set('email')} error={errors.email} />
          <div className="field-pair">
            <TextField label="First name" name="firstName" autoComplete="given-name" value={values.firstName} onChange={set('firstName')} error={errors.firstName} />
            <TextField label="Last name" name="lastName" autoComplete="family-name" value={values.lastName} onChange={set('lastName')} error={errors.lastName} />
          </div>
          <TextField
            label="Password"
            type="password"
            name="password"
            autoComplete="new-password"
            minLength={MIN_PASSWORD}
            hint={`At least ${MIN_PASSWORD} characters.`}
            value={values.password}
            onChange={set('password')}
            error={errors.password}
          />
        </fieldset>
        {error !== null && (
          <ErrorNotice error={error}>
            {done && (
              <p>
                <Link href="/login">Go to sign in</Link>
              </p>
            )}
          </ErrorNotice>
        )}
        <Button type="submit" variant="primary" block busy={busy}>
          Create team
        </Button>
      </form>
    </AuthLayout>
  );
}
