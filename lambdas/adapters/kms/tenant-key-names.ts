// Names on tenant keys and their calls, shared by the KMS adapter and the stack's IAM
// conditions (lib/constructs/), so a policy names exactly what the code sends.

/** Tag every tenant key carries; only keys with it are Coffer's to use or discard. */
export const MANAGED_KEY_TAG = 'coffer:managed';
/** Tag naming the tenant a key belongs to; required when a key is created. */
export const TENANT_KEY_TAG = 'coffer:tenant';
/** Encryption-context key every tenant data-key call carries, with the tenant id as value. */
export const TENANT_CONTEXT_KEY = 'coffer:tenant';

export const tenantEncryptionContext = (tenantId: string) => ({ [TENANT_CONTEXT_KEY]: tenantId });
