// The one list of HTTP routes: which function serves each, and whether it needs a token.
// The CDK stack and the local API Gateway emulation are both built from it.
export type FunctionName = 'token' | 'health' | 'tenants' | 'secrets' | 'audit';
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

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
];
