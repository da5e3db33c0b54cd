import pino, { type DestinationStream, type Logger } from 'pino';

/** Query parameters safe to log; any other value is replaced, since a query may carry a code, state or token. */
const LOGGABLE_QUERY = new Set(['tenant', 'sso_error', 'ref', 'error']);
/** Path segments after these carry a secret (invitation token). */
const SECRET_PATH = /^(\/(?:api\/)?invit(?:e|ations))\/[^/?]+/;

/** A URL as it may appear in a log line: secrets in the path and query replaced. */
export function loggableUrl(url: string): string {
  const [path = '', query] = url.split('?', 2) as [string, string | undefined];
  const safePath = path.replace(SECRET_PATH, '$1/[redacted]');
  if (query === undefined) return safePath;
  const params = new URLSearchParams(query);
  for (const key of [...new Set(params.keys())]) if (!LOGGABLE_QUERY.has(key)) params.set(key, '[redacted]');
  return `${safePath}?${params}`;
}

/**
 * The process logger: pino JSON. Request lines carry method, scrubbed URL and
 * client address only, never headers (cookies, authorization) or bodies; and
 * any field named like a secret is censored wherever it appears.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          'password',
          'clientSecret',
          'client_secret',
          'token',
          'code_verifier',
          'id_token',
          'access_token',
          'refresh_token',
          'authorization',
          'cookie',
          '*.password',
          '*.clientSecret',
          '*.client_secret',
          '*.token',
          '*.code_verifier',
          '*.id_token',
          '*.access_token',
          '*.refresh_token',
          '*.authorization',
          '*.cookie',
          'req.headers',
          'res.headers',
        ],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { method: string; url: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
          method: req.method,
          url: loggableUrl(req.url),
          remoteAddress: req.ip ?? req.socket?.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  );
}
