import { lazy, Suspense, useEffect, useState } from 'react';
import { catalogue } from '../../../src/errors/catalogue.ts';
import { api, ApiError, setUnauthenticatedHandler } from '../api.ts';
import { ErrorNotice } from '../errors.tsx';
import Dashboard from '../pages/Dashboard.tsx';
import { Link, navigate } from '../router.tsx';
import { signedInPages, type SignedInPath } from '../routes.ts';
import { Button, PageHeading } from '../ui/form.tsx';
import { Brand, PageLoading } from '../ui/layout.tsx';
import { displayName, MeContext, type Me } from './session.ts';

const Team = lazy(() => import('../pages/Team.tsx'));
const SsoSettings = lazy(() => import('../pages/sso/SsoSettings.tsx'));
const Bots = lazy(() => import('../pages/Bots.tsx'));

/** Sends a signed-out visitor to /login, remembering where they were going. */
function goToLogin(): void {
  if (window.location.pathname === '/login') return;
  const here = window.location.pathname + window.location.search;
  navigate(here === '/' ? '/login' : `/login?return_to=${encodeURIComponent(here)}`, { replace: true });
}

/**
 * The frame of every signed-in page: loads the caller once, shows the header
 * and navigation, keeps non-admins out of admin pages, and sends anyone whose
 * session has ended back to /login.
 */
export default function SignedIn({ path }: { path: SignedInPath }) {
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [signingOut, setSigningOut] = useState(false);
  const [signOutError, setSignOutError] = useState<unknown>(null);

  useEffect(() => {
    let active = true;
    setUnauthenticatedHandler(goToLogin);
    api<Me>('GET', '/api/me').then(
      (found) => active && setMe(found),
      (err) => {
        if (!active) return;
        if (err instanceof ApiError && err.status === 401) goToLogin();
        else setError(err);
      },
    );
    return () => {
      active = false;
      setUnauthenticatedHandler(null);
    };
  }, []);

  async function signOut() {
    setSigningOut(true);
    setSignOutError(null);
    try {
      await api('POST', '/api/auth/logout');
    } catch (err) {
      // 401: the session had ended already, which is what we wanted.
      if (!(err instanceof ApiError && err.status === 401)) {
        setSignOutError(err);
        setSigningOut(false);
        return;
      }
    }
    navigate('/login', { replace: true });
  }

  const isAdmin = me?.user?.role === 'admin';
  const nav = Object.entries(signedInPages).filter(([, page]) => isAdmin || !page.adminOnly);

  return (
    <div className="app">
      <a
        className="skip-link"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link href="/" className="brand-link">
            <Brand />
          </Link>
          {me && (
            <span className="tenant-name" title={`Team: ${me.tenant.name}`}>
              {me.tenant.name}
            </span>
          )}
          <div className="account">
            {me && <span className="account-name">{me.user ? displayName(me.user) : me.bot?.name}</span>}
            <Button variant="ghost" onClick={signOut} busy={signingOut}>
              Sign out
            </Button>
          </div>
          {me && nav.length > 1 && (
            <nav className="nav" aria-label="Main">
              {nav.map(([href, page]) => (
                <Link key={href} href={href} aria-current={href === path ? 'page' : undefined}>
                  {page.label}
                </Link>
              ))}
            </nav>
          )}
        </div>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        {signOutError !== null && <ErrorNotice error={signOutError} />}
        {error !== null ? (
          <>
            <PageHeading title="Something went wrong">We could not load your account</PageHeading>
            <ErrorNotice error={error} />
          </>
        ) : !me ? (
          <PageLoading />
        ) : (
          <MeContext.Provider value={me}>
            <Suspense fallback={<PageLoading />}>
              {signedInPages[path].adminOnly && !isAdmin ? <AdminsOnly /> : <CurrentPage path={path} />}
            </Suspense>
          </MeContext.Provider>
        )}
      </main>
    </div>
  );
}

function CurrentPage({ path }: { path: SignedInPath }) {
  switch (path) {
    case '/':
      return <Dashboard />;
    case '/team':
      return <Team />;
    case '/integrations/sso':
      return <SsoSettings />;
    case '/bots':
      return <Bots />;
  }
}

function AdminsOnly() {
  return (
    <>
      <PageHeading title="Admins only">Admins only</PageHeading>
      <div className="notice notice-info">
        <p className="notice-title">{catalogue.admin_required.message}</p>
        <p>If you need this changed, ask an admin of your team.</p>
      </div>
      <p>
        <Link href="/">Back to your overview</Link>
      </p>
    </>
  );
}
