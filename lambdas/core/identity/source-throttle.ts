import type { LoginBookkeeping } from '../../ports/identity';
import { RateLimitedError } from '../errors';

// API client secrets are 256-bit random: no one guesses one, so locking a client after
// failures protected nothing and let anyone who knew a client id lock it out. Failed
// secret checks are throttled per source address instead, in fixed one-minute windows: a
// source past the limit gets 429 until its window ends, whatever client it names, and
// every other source is untouched.
export const SOURCE_THROTTLE = { failures: 20, windowMs: 60_000 } as const;

function windowOf(now: number): { start: number; end: number } {
  const start = now - (now % SOURCE_THROTTLE.windowMs);
  return { start, end: start + SOURCE_THROTTLE.windowMs };
}

/** Refuses a source that failed too often in this window (429, Retry-After to its end). */
export async function assertSourceNotThrottled(logins: LoginBookkeeping, source: string, now: number): Promise<void> {
  const window = windowOf(now);
  if ((await logins.sourceFailures(source, window.start)) < SOURCE_THROTTLE.failures) return;
  const retryAfterSeconds = Math.max(1, Math.ceil((window.end - now) / 1000));
  throw new RateLimitedError(`Too many failed client logins from your address; retry in ${retryAfterSeconds} s.`, retryAfterSeconds);
}

/** One failed secret check from `source`: the same write whether or not the client exists. */
export function countSourceFailure(logins: LoginBookkeeping, source: string, now: number): Promise<void> {
  const window = windowOf(now);
  return logins.countSourceFailure(source, window.start, window.end);
}
