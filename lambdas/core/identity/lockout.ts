import type { LockoutState } from '../../ports/identity';

// Repeated failures lock a credential, doubling from one minute up to fifteen. While
// locked, even the right password is refused with the same generic 401, so a guesser
// learns nothing and gets at most a handful of tries per window.
export const LOCKOUT = {
  user: { threshold: 5 },
  // Client secrets are 256-bit random; the lock only slows a scripted guesser down.
  client: { threshold: 10 },
  baseMs: 60_000,
  maxMs: 15 * 60_000,
} as const;

export function isLocked(state: LockoutState, now: number): boolean {
  return state.lockedUntil !== undefined && state.lockedUntil > now;
}

/** The lock a credential gets once it has failed `failures` times in a row, if any. */
export function lockAfter(failures: number, kind: 'user' | 'client', now: number): number | undefined {
  const over = failures - LOCKOUT[kind].threshold;
  if (over < 0) return undefined;
  return now + Math.min(LOCKOUT.maxMs, LOCKOUT.baseMs * 2 ** Math.min(over, 10));
}
