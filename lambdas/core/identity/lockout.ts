import type { LockoutState } from '../../ports/identity';

// Repeated wrong passwords lock a user, doubling from one minute up to fifteen. While
// locked, even the right password is refused with the same generic 401, so a guesser
// learns nothing and gets at most a handful of tries per window. (API clients do not lock:
// their secrets cannot be guessed; failures are throttled per source, source-throttle.ts.)
export const LOCKOUT = {
  user: { threshold: 5 },
  baseMs: 60_000,
  maxMs: 15 * 60_000,
} as const;

export function isLocked(state: LockoutState, now: number): boolean {
  return state.lockedUntil !== undefined && state.lockedUntil > now;
}

/** The lock a credential gets once it has failed `failures` times in a row, if any. */
export function lockAfter(failures: number, kind: 'user', now: number): number | undefined {
  const over = failures - LOCKOUT[kind].threshold;
  if (over < 0) return undefined;
  return now + Math.min(LOCKOUT.maxMs, LOCKOUT.baseMs * 2 ** Math.min(over, 10));
}
