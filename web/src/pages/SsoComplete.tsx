import { useEffect } from 'react';
import { api } from '../api.ts';
import { navigate, safeReturnTo, useLocation } from '../router.tsx';
import { PageHeading } from '../ui/form.tsx';
import { AuthLayout } from '../ui/layout.tsx';

/**
 * Where the server sends the browser after a successful SSO callback. The
 * session cookie is already set; confirm it, then go on.
 */
export default function SsoComplete() {
  const { searchParams } = useLocation();
  const returnTo = safeReturnTo(searchParams.get('return_to'));

  useEffect(() => {
    let active = true;
    api('GET', '/api/me').then(
      () => active && navigate(returnTo ?? '/', { replace: true }),
      () => active && navigate('/login', { replace: true }),
    );
    return () => {
      active = false;
    };
  }, [returnTo]);

  return (
    <AuthLayout>
      <PageHeading title="Signing you in">Signing you in…</PageHeading>
      <p className="lede" role="status">
        <span className="spinner" aria-hidden="true" /> Your identity provider confirmed who you are. Opening your workspace.
      </p>
    </AuthLayout>
  );
}
