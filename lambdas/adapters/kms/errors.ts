import { CofferError, DependencyUnavailableError } from '../../core/errors';

/**
 * Every KMS failure is an outage from the caller's point of view: throttling, a network
 * fault, a disabled key, or a tenant that revoked our access to its own key (BYOK).
 */
export async function kms<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CofferError) throw error; // a tenant session STS could not mint
    throw new DependencyUnavailableError('kms', { cause: error });
  }
}
