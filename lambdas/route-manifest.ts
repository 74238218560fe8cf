// The one list of HTTP routes: which function serves each, and whether it needs a token.
// The CDK stack and the local API Gateway emulation are both built from it.
export type FunctionName = 'token' | 'health' | 'tenants' | 'secrets' | 'audit' | 'identity';
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteSpec {
  readonly resource: string;
  readonly methods: readonly Method[];
  readonly fn: FunctionName;
  readonly authorized: boolean;
}

export const ROUTES: readonly RouteSpec[] = [
  { resource: '/health', methods: ['GET'], fn: 'health', authorized: false },
  { resource: '/.well-known/jwks.json', methods: ['GET'], fn: 'token', authorized: false },
  { resource: '/v1/token', methods: ['POST'], fn: 'token', authorized: false },
  { resource: '/v1/admin/tenants', methods: ['GET', 'POST'], fn: 'tenants', authorized: true },
  { resource: '/v1/admin/tenants/{tenantId}', methods: ['GET'], fn: 'tenants', authorized: true },
  { resource: '/v1/secrets', methods: ['GET'], fn: 'secrets', authorized: true },
  { resource: '/v1/secrets/{path+}', methods: ['GET', 'POST', 'PUT', 'DELETE'], fn: 'secrets', authorized: true },
  { resource: '/v1/metadata/{path+}', methods: ['GET', 'DELETE'], fn: 'secrets', authorized: true },
  { resource: '/v1/restore/{path+}', methods: ['POST'], fn: 'secrets', authorized: true },
  { resource: '/v1/audit', methods: ['GET'], fn: 'audit', authorized: true },
  { resource: '/v1/audit/export', methods: ['GET'], fn: 'audit', authorized: true },
  { resource: '/v1/audit/sinks', methods: ['GET'], fn: 'audit', authorized: true },
  { resource: '/v1/audit/sinks/{name}', methods: ['PUT', 'DELETE'], fn: 'audit', authorized: true },
  { resource: '/v1/whoami', methods: ['GET'], fn: 'identity', authorized: true },
  { resource: '/v1/logout', methods: ['POST'], fn: 'identity', authorized: true },
  { resource: '/v1/roles', methods: ['GET'], fn: 'identity', authorized: true },
  { resource: '/v1/users', methods: ['GET', 'POST'], fn: 'identity', authorized: true },
  { resource: '/v1/users/{name}', methods: ['GET', 'PATCH', 'DELETE'], fn: 'identity', authorized: true },
  { resource: '/v1/users/{name}/password', methods: ['PUT'], fn: 'identity', authorized: true },
  { resource: '/v1/users/{name}/totp', methods: ['POST', 'DELETE'], fn: 'identity', authorized: true },
  { resource: '/v1/users/{name}/totp/verify', methods: ['POST'], fn: 'identity', authorized: true },
  { resource: '/v1/clients', methods: ['GET', 'POST'], fn: 'identity', authorized: true },
  { resource: '/v1/clients/{clientId}', methods: ['GET', 'PATCH', 'DELETE'], fn: 'identity', authorized: true },
  { resource: '/v1/clients/{clientId}/secret', methods: ['POST'], fn: 'identity', authorized: true },
  ...(['groups', 'policies', 'issuers', 'iam-bindings'] as const).flatMap((collection): RouteSpec[] => [
    { resource: `/v1/${collection}`, methods: ['GET'], fn: 'identity', authorized: true },
    { resource: `/v1/${collection}/{name}`, methods: ['GET', 'PUT', 'DELETE'], fn: 'identity', authorized: true },
  ]),
  { resource: '/v1/network', methods: ['GET', 'PUT'], fn: 'identity', authorized: true },
];
