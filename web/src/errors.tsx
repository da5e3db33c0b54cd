import type { ReactNode } from 'react';
import { catalogue, isErrorCode, type ErrorEntry } from '../../src/errors/catalogue.ts';
import { ApiError } from './api.ts';

/** What to tell a person about a failure: the sentence, and what to do about it. */
export interface Explanation {
  code: string;
  message: string;
  fix?: string;
}

/** The catalogue's sentence for a code; unknown codes fall back to what the server said. */
export function explainCode(code: string, serverMessage?: string): Explanation {
  if (isErrorCode(code)) {
    const entry: ErrorEntry = catalogue[code];
    return { code, message: entry.message, fix: entry.fix };
  }
  return {
    code,
    message: serverMessage || 'Something went wrong on the server.',
    fix: serverMessage ? undefined : 'Try again. If it keeps happening, tell your administrator.',
  };
}

/** Turns anything thrown by `api()` (or elsewhere) into sentences to show. */
export function explain(error: unknown): Explanation {
  if (error instanceof ApiError) {
    if (error.code === 'network') {
      return { code: 'network', message: 'The server could not be reached.', fix: 'Check your connection, then try again.' };
    }
    const explanation = explainCode(error.code, error.message);
    if (error.code === 'rate_limited' && error.retryAfter !== undefined) {
      explanation.fix = `Try again in ${formatWait(error.retryAfter)}.`;
    }
    return explanation;
  }
  return { code: 'unexpected', message: 'Something went wrong in this page.', fix: 'Reload the page and try again.' };
}

/** "1 second", "40 seconds", "2 minutes". */
export function formatWait(seconds: number): string {
  if (seconds <= 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

interface ErrorNoticeProps {
  error: unknown;
  /** Extra content under the sentence, such as details or a reference. */
  children?: ReactNode;
  testId?: string;
  id?: string;
}

/** A failure, explained: catalogue sentence in bold, the fix below. Announced to screen readers. */
export function ErrorNotice({ error, children, testId, id }: ErrorNoticeProps) {
  const { message, fix } = explain(error);
  return (
    <div className="notice notice-error" role="alert" data-testid={testId} id={id}>
      <p className="notice-title">{message}</p>
      {fix && <p>{fix}</p>}
      {children}
    </div>
  );
}
