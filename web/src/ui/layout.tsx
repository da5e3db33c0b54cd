import type { ReactNode } from 'react';

/** The product mark: a rounded square and the name. */
export function Brand() {
  return (
    <span className="brand">
      <svg className="brand-mark" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
        <rect width="32" height="32" rx="8" fill="currentColor" />
        <path d="M11 9h10v3h-3.5v8.5a4.5 4.5 0 0 1-9 0V19h3v1.5a1.5 1.5 0 0 0 3 0V12H11z" fill="var(--accent-contrast)" />
      </svg>
      <span className="brand-name">JAMS IMES</span>
    </span>
  );
}

/** The centred single-card layout of the signed-out pages (sign-in, invitation, setup). */
export function AuthLayout({ children, wide = false }: { children: ReactNode; wide?: boolean }) {
  return (
    <div className="auth">
      <header className="auth-header">
        <Brand />
      </header>
      <main className={`auth-card${wide ? ' auth-card-wide' : ''}`}>{children}</main>
    </div>
  );
}

/** Shown only if a page's code or data takes a while; it fades in late so fast loads never flash. */
export function PageLoading() {
  return (
    <div className="page-loading" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>Loading…</span>
    </div>
  );
}
