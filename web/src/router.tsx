import {
  createContext,
  startTransition,
  useContext,
  useEffect,
  useMemo,
  useState,
  type AnchorHTMLAttributes,
  type MouseEvent,
  type ReactNode,
} from 'react';

/**
 * A very small client-side router: the History API, one context holding the
 * current URL, and a <Link> that turns same-app clicks into pushState.
 */

const listeners = new Set<() => void>();
let navigations = 0;

function notify(): void {
  navigations++;
  for (const listener of listeners) listener();
}

window.addEventListener('popstate', notify);

/** Go to an in-app path without reloading the page. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  if (!options.replace) window.scrollTo(0, 0);
  notify();
}

/** How many in-app navigations have happened since the page loaded (0 on first load). */
export function navigationCount(): number {
  return navigations;
}

const LocationContext = createContext<URL>(new URL(window.location.href));

/** The current URL; re-renders on navigation. */
export function useLocation(): URL {
  return useContext(LocationContext);
}

/**
 * Holds the URL in state and updates it inside a transition, so the page on
 * screen stays put while the next page's code is loading.
 */
export function LocationProvider({ children }: { children: ReactNode }) {
  const [href, setHref] = useState(() => window.location.href);
  useEffect(() => {
    const update = () => startTransition(() => setHref(window.location.href));
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  const url = useMemo(() => new URL(href), [href]);
  return <LocationContext.Provider value={url}>{children}</LocationContext.Provider>;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string };

/** An <a> for in-app paths; modified clicks (new tab, etc.) keep the browser's behaviour. */
export function Link({ href, onClick, ...rest }: LinkProps) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || rest.target || rest.download !== undefined) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handle} {...rest} />;
}

/**
 * A `return_to` value is followed only when it is a path on this origin:
 * "/x" is fine, "//evil.example" and "/\evil.example" are not (browsers read
 * both as another host), so a crafted link cannot bounce users off-site.
 */
export function safeReturnTo(value: string | null | undefined): string | null {
  if (!value || value[0] !== '/' || value[1] === '/' || value[1] === '\\') return null;
  if (/[\u0000-\u001f]/.test(value)) return null;
  return value;
}
