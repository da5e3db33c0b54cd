import type { Context } from '../context.ts';

/**
 * A string field of bounded length (every field has an upper bound). NUL is
 * refused: no one types it, and PostgreSQL cannot store it in text.
 */
export const text = (maxLength: number, minLength = 1) => ({ type: 'string', minLength, maxLength, pattern: '^[^\\u0000]*$' }) as const;

/** A JSON object body with exactly these fields: unknown fields are refused, not dropped. */
export function body(properties: Record<string, unknown>, required: string[] = []) {
  return { body: { type: 'object', additionalProperties: false, properties, required } };
}

/** Route parameters. */
export function params(properties: Record<string, unknown>) {
  return { params: { type: 'object', additionalProperties: false, properties, required: Object.keys(properties) } };
}

/** Route options that rate-limit a sign-in endpoint per client IP. */
export function signInRateLimit(ctx: Context) {
  return { config: { rateLimit: { max: ctx.config.signInPerIpPerMinute, timeWindow: 60_000 } } };
}
