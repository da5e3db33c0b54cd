import { AppError } from '../errors/catalogue.ts';

/**
 * Emails match case-insensitively and exactly otherwise (SPEC 2): stored and
 * compared trimmed and lower-cased.
 */
export function normalizeEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

const SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Normalises an email a person typed, refusing what cannot be an address. */
export function parseEmail(raw: string): string {
  const email = normalizeEmail(raw);
  if (email.length > 254 || !SHAPE.test(email)) throw new AppError('invalid_email');
  return email;
}
