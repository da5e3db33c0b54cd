/**
 * The one way the web app talks to the server: JSON over fetch, the session
 * travelling in the HttpOnly cookie. Failures become an ApiError carrying the
 * server's code, so pages can switch on `code` and take sentences from the
 * shared catalogue.
 */

export class ApiError extends Error {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** The server's error code, or "network" / "http_<status>" when it sent none. */
  readonly code: string;
  /** Every other field of the error body (e.g. `tenants`, `expected`, `missing`, `field`). */
  readonly details: Readonly<Record<string, unknown>>;
  /** Seconds to wait, from a 429's Retry-After header. */
  readonly retryAfter: number | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

let onUnauthenticated: (() => void) | null = null;

/** Signed-in pages register what to do when the session ends mid-visit. */
export function setUnauthenticatedHandler(handler: (() => void) | null): void {
  onUnauthenticated = handler;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Calls the API; resolves with the parsed JSON body (undefined for 204). */
export async function api<T = unknown>(method: Method, path: string, body?: unknown): Promise<T> {
  const sendsBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (sendsBody) headers['Content-Type'] = 'application/json';

  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: sendsBody ? JSON.stringify(body ?? {}) : undefined,
      credentials: 'same-origin',
      // The server checks Origin on cookie-authenticated writes and falls back
      // to Referer; keep the Referer for our own origin even if the document's
      // policy (e.g. a "no-referrer" header) would strip it.
      referrerPolicy: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached.');
  }

  if (response.status === 204) return undefined as T;
  const data = await readJson(response);

  if (!response.ok) {
    const { error, message, ...details } = isRecord(data) ? data : {};
    const code = typeof error === 'string' ? error : `http_${response.status}`;
    const err = new ApiError(
      response.status,
      code,
      typeof message === 'string' ? message : '',
      details,
      response.status === 429 ? parseRetryAfter(response.headers.get('Retry-After')) : undefined,
    );
    if (response.status === 401 && code === 'unauthenticated') onUnauthenticated?.();
    throw err;
  }
  return data as T;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Retry-After is either delay-seconds or an HTTP date. */
function parseRetryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
