import type { Clock } from '../clock.ts';
import { AppError } from '../errors/catalogue.ts';

const WINDOW_MS = 15 * 60 * 1000;

/**
 * Throttles password guessing against one email, whichever IPs it comes
 * from: after `limit` failures in 15 minutes, attempts for that email are
 * refused with 429 until the oldest failure ages out. Successes do not count.
 * Kept in memory per instance: a guesser spread over N instances gets N times
 * the budget, still far too little to matter against a real password.
 */
export class EmailThrottle {
  readonly #failures = new Map<string, number[]>();
  readonly #limit: number;
  readonly #clock: Clock;

  constructor(limit: number, clock: Clock) {
    this.#limit = limit;
    this.#clock = clock;
  }

  #recent(email: string): number[] {
    const since = this.#clock.now() - WINDOW_MS;
    const recent = (this.#failures.get(email) ?? []).filter((at) => at > since);
    if (recent.length) this.#failures.set(email, recent);
    else this.#failures.delete(email);
    return recent;
  }

  /** Refuses with `rate_limited` (and when to retry) while the email is throttled. */
  check(email: string): void {
    const recent = this.#recent(email);
    if (recent.length >= this.#limit) {
      const retryAfter = Math.max(1, Math.ceil((recent[0]! + WINDOW_MS - this.#clock.now()) / 1000));
      throw new AppError('rate_limited', { retryAfter });
    }
  }

  recordFailure(email: string): void {
    const recent = this.#recent(email);
    recent.push(this.#clock.now());
    this.#failures.set(email, recent);
    if (this.#failures.size > 100_000) this.#failures.delete(this.#failures.keys().next().value!);
  }
}
