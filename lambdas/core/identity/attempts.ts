import type { LoginBookkeeping, UserRecord } from '../../ports/identity';
import { isLocked, lockAfter, LOCKOUT } from './lockout';

// The bookkeeping of credential checks, shared by logins and by the self-service changes
// that ask for the current credential (a password change, a client's own rotation).

/**
 * Claims one password attempt before the password is checked, so a burst of parallel
 * guesses gets the same few tries as a sequence. Undefined when locked or refused.
 */
export function claimPasswordAttempt(store: LoginBookkeeping, user: UserRecord, now: number): Promise<number | undefined> {
  if (isLocked(user, now)) return Promise.resolve(undefined);
  return store.reserveAttempt(user.tenantId, user.username, now, LOCKOUT.user.threshold, (n) => lockAfter(n, 'user', now));
}

/** A claimed attempt failed (it was counted when claimed): lock once the streak reaches the threshold. */
export async function failPasswordAttempt(store: LoginBookkeeping, user: UserRecord, attempt: number, now: number): Promise<void> {
  const until = lockAfter(attempt, 'user', now);
  if (until !== undefined) await store.lockUser(user.tenantId, user.username, until);
}
