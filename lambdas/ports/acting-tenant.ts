import { AsyncLocalStorage } from 'node:async_hooks';

// The tenant a request acts for: the tenant of its verified token, set by api() around the
// whole request (route and audit event). The AWS clients read it on every call and sign
// with that tenant's session of the tenant-access role (adapters/aws-clients.ts), so IAM
// confines whatever the request's code reaches to that tenant's partitions and keys.
// Outside a tenant's request (the platform admin, an unauthenticated caller) calls run as
// the function's own role.

const acting = new AsyncLocalStorage<string>();

/** Runs `work` — and everything it starts — as `tenantId`. */
export function actAsTenant<T>(tenantId: string, work: () => T): T {
  return acting.run(tenantId, work);
}

/** The tenant the current request acts for, or undefined outside a tenant's request. */
export function actingTenant(): string | undefined {
  return acting.getStore();
}
