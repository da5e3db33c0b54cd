import { Component, lazy, StrictMode, Suspense, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import Login from './pages/Login.tsx';
import { LocationProvider, useLocation } from './router.tsx';
import { isSignedInPath } from './routes.ts';
import { AuthLayout, PageLoading } from './ui/layout.tsx';

// /login is in the entry chunk so that it paints without a second round trip;
// every other page is its own chunk, fetched on first visit.
const SsoComplete = lazy(() => import('./pages/SsoComplete.tsx'));
const Invite = lazy(() => import('./pages/Invite.tsx'));
const Setup = lazy(() => import('./pages/Setup.tsx'));
const SignedIn = lazy(() => import('./shell/SignedIn.tsx'));
const NotFound = lazy(() => import('./pages/NotFound.tsx'));

function Page() {
  const { pathname } = useLocation();
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (path === '/login') return <Login />;
  if (path === '/sso-complete') return <SsoComplete />;
  if (path === '/setup') return <Setup />;
  const invite = /^\/invite\/([^/]+)$/.exec(path);
  if (invite) return <Invite token={decodeURIComponent(invite[1]!)} />;
  if (isSignedInPath(path)) return <SignedIn path={path} />;
  return <NotFound />;
}

/**
 * Last line of defence: a page whose code failed to load (typically after a
 * deploy replaced the chunks) or that crashed. Reset on every navigation.
 */
class PageCrash extends Component<{ children: ReactNode; pathname: string }, { failed: boolean; pathname: string }> {
  state = { failed: false, pathname: this.props.pathname };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  static getDerivedStateFromProps(props: { pathname: string }, state: { pathname: string }) {
    return props.pathname === state.pathname ? null : { failed: false, pathname: props.pathname };
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <AuthLayout>
        <h1>This page could not be shown</h1>
        <div className="notice notice-error" role="alert">
          <p className="notice-title">Part of the app failed to load, perhaps because a new version was just installed.</p>
          <p>Reload the page to get the latest version.</p>
        </div>
        <button type="button" className="btn btn-primary btn-block" onClick={() => window.location.reload()}>
          Reload
        </button>
      </AuthLayout>
    );
  }
}

function App() {
  const { pathname } = useLocation();
  return (
    <PageCrash pathname={pathname}>
      <Suspense fallback={<PageLoading />}>
        <Page />
      </Suspense>
    </PageCrash>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LocationProvider>
      <App />
    </LocationProvider>
  </StrictMode>,
);
