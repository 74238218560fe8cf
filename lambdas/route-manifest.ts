// The one list of HTTP routes: which function serves each, who may call it, and the body
// each method takes. The CDK stack, the local API Gateway emulation and every handler's
// api() pipeline are built from it, so a route cannot exist in one and not the others.
export type FunctionName = 'token' | 'health' | 'tenants' | 'secrets' | 'audit' | 'identity';
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Every API function's deadline, deployed and local; api() answers before it (DEADLINE_RESERVE_MS). */
export const API_FUNCTION_TIMEOUT_SECONDS = 10;

/**
 * What a method's body must be. API Gateway refuses a non-object body for `json` at the
 * edge; the handler parses every kind. `optional-json`: no body, or a JSON one (a proof
 * some callers must add); `json-or-form`: OAuth's token endpoint.
 */
export type BodyKind = 'none' | 'json' | 'json-or-form' | 'optional-json';

/**
 * Who may call a route, checked once in the request pipeline (lambdas/http/access-gate.ts)
 * before any handler runs:
 * - `public`: no token (token exchange, JWKS, health);
 * - `tenant`: a tenant principal, calling from inside its tenant's network safelist;
 * - `platform`: the platform admin only;
 * - `self`: any verified principal, about itself (whoami, logout) or about nothing a tenant
 *   holds (the role table); no network check, so whoami can report `network.allowed`;
 * - `tenant-or-platform`: a tenant principal inside its safelist, or the platform admin —
 *   each reads its own audit chain.
 */
export type Access = 'public' | 'tenant' | 'platform' | 'self' | 'tenant-or-platform';

export interface RouteSpec {
  readonly resource: string;
  readonly fn: FunctionName;
  readonly access: Access;
  readonly methods: Readonly<Partial<Record<Method, BodyKind>>>;
}

export const ROUTES = [
  { resource: '/health', fn: 'health', access: 'public', methods: { GET: 'none' } },
  { resource: '/.well-known/jwks.json', fn: 'token', access: 'public', methods: { GET: 'none' } },
  { resource: '/v1/token', fn: 'token', access: 'public', methods: { POST: 'json-or-form' } },
  { resource: '/v1/admin/tenants', fn: 'tenants', access: 'platform', methods: { GET: 'none', POST: 'json' } },
  { resource: '/v1/admin/tenants/{tenantId}', fn: 'tenants', access: 'platform', methods: { GET: 'none' } },
  { resource: '/v1/secrets', fn: 'secrets', access: 'tenant', methods: { GET: 'none' } },
  { resource: '/v1/secrets/{path+}', fn: 'secrets', access: 'tenant', methods: { GET: 'none', POST: 'json', PUT: 'json', DELETE: 'none' } },
  { resource: '/v1/metadata/{path+}', fn: 'secrets', access: 'tenant', methods: { GET: 'none', DELETE: 'none' } },
  { resource: '/v1/restore/{path+}', fn: 'secrets', access: 'tenant', methods: { POST: 'none' } },
  { resource: '/v1/audit', fn: 'audit', access: 'tenant-or-platform', methods: { GET: 'none' } },
  { resource: '/v1/audit/export', fn: 'audit', access: 'tenant-or-platform', methods: { GET: 'none' } },
  { resource: '/v1/audit/sinks', fn: 'audit', access: 'tenant', methods: { GET: 'none' } },
  { resource: '/v1/audit/sinks/{name}', fn: 'audit', access: 'tenant', methods: { PUT: 'json', DELETE: 'none' } },
  { resource: '/v1/whoami', fn: 'identity', access: 'self', methods: { GET: 'none' } },
  { resource: '/v1/logout', fn: 'identity', access: 'self', methods: { POST: 'none' } },
  { resource: '/v1/roles', fn: 'identity', access: 'self', methods: { GET: 'none' } },
  { resource: '/v1/users', fn: 'identity', access: 'tenant', methods: { GET: 'none', POST: 'json' } },
  { resource: '/v1/users/{name}', fn: 'identity', access: 'tenant', methods: { GET: 'none', PATCH: 'json', DELETE: 'none' } },
  { resource: '/v1/users/{name}/password', fn: 'identity', access: 'tenant', methods: { PUT: 'json' } },
  { resource: '/v1/users/{name}/totp', fn: 'identity', access: 'tenant', methods: { POST: 'none', DELETE: 'none' } },
  { resource: '/v1/users/{name}/totp/verify', fn: 'identity', access: 'tenant', methods: { POST: 'json' } },
  { resource: '/v1/clients', fn: 'identity', access: 'tenant', methods: { GET: 'none', POST: 'json' } },
  { resource: '/v1/clients/{clientId}', fn: 'identity', access: 'tenant', methods: { GET: 'none', PATCH: 'json', DELETE: 'none' } },
  { resource: '/v1/clients/{clientId}/secret', fn: 'identity', access: 'tenant', methods: { POST: 'optional-json' } },
  { resource: '/v1/groups', fn: 'identity', access: 'tenant', methods: { GET: 'none' } },
  { resource: '/v1/groups/{name}', fn: 'identity', access: 'tenant', methods: { GET: 'none', PUT: 'json', DELETE: 'none' } },
  { resource: '/v1/policies', fn: 'identity', access: 'tenant', methods: { GET: 'none' } },
  { resource: '/v1/policies/{name}', fn: 'identity', access: 'tenant', methods: { GET: 'none', PUT: 'json', DELETE: 'none' } },
  { resource: '/v1/issuers', fn: 'identity', access: 'tenant', methods: { GET: 'none' } },
  { resource: '/v1/issuers/{name}', fn: 'identity', access: 'tenant', methods: { GET: 'none', PUT: 'json', DELETE: 'none' } },
  { resource: '/v1/iam-bindings', fn: 'identity', access: 'tenant', methods: { GET: 'none' } },
  { resource: '/v1/iam-bindings/{name}', fn: 'identity', access: 'tenant', methods: { GET: 'none', PUT: 'json', DELETE: 'none' } },
  { resource: '/v1/network', fn: 'identity', access: 'tenant', methods: { GET: 'none', PUT: 'json' } },
] as const satisfies readonly RouteSpec[];

type Manifest = (typeof ROUTES)[number];
/** A resource template of the manifest, e.g. `/v1/secrets/{path+}`. */
export type Resource = Manifest['resource'];
type SpecOf<R extends Resource> = Extract<Manifest, { resource: R }>;
/** The methods a resource serves (for a union of resources: those all of them serve). */
export type MethodOf<R extends Resource> = keyof SpecOf<R>['methods'] & Method;
export type AccessOf<R extends Resource> = SpecOf<R>['access'];

const byResource: ReadonlyMap<string, RouteSpec> = new Map(ROUTES.map((r) => [r.resource, r]));

export function routeSpec(resource: string): RouteSpec | undefined {
  return byResource.get(resource);
}

/** Every route as `METHOD resource` with its body kind, function and access. */
export function routeMethods(): { method: Method; resource: string; body: BodyKind; fn: FunctionName; access: Access }[] {
  return ROUTES.flatMap((r: RouteSpec) =>
    Object.entries(r.methods).map(([method, body]) => ({ method: method as Method, resource: r.resource, body: body as BodyKind, fn: r.fn, access: r.access })),
  );
}

// ---- the gateway's resource tree ------------------------------------------------------
// API Gateway answers an unknown resource or method itself, before any Lambda runs, so such a
// request would leave no audit event. The tree below sends every request to Coffer code with
// the authorizer in front: each resource also has an ANY method (explicit methods win over
// it), and each resource without a path-variable child gets a greedy `{proxy+}` child
// (explicit resources win over it). API Gateway allows one variable child per resource,
// which is why resources that have one (`{name}`, `{path+}`) need no proxy: their variable
// already takes every further segment. The CDK construct and the local emulation both build
// from gatewayResources(), so they route alike.

/** Serves the resources no route owns (intermediate paths and the proxies): it records `request.unrouted`. */
export const UNROUTED_FN: FunctionName = 'audit';
export const PROXY_SEGMENT = '{proxy+}';

export interface GatewayResource {
  /** `/`, `/v1`, `/v1/{proxy+}`, `/v1/secrets/{path+}`… */
  readonly path: string;
  /** The route served here, when the manifest has one. */
  readonly route?: RouteSpec;
  /** Who answers this resource's ANY method (any method the route does not list). */
  readonly fallbackFn: FunctionName;
}

const isVariable = (segment: string) => segment.startsWith('{');
const isGreedy = (segment: string) => segment.endsWith('+}');
const join = (parent: string, segment: string) => (parent === '/' ? `/${segment}` : `${parent}/${segment}`);

export function gatewayResources(): GatewayResource[] {
  const paths = new Set<string>(['/']);
  for (const r of ROUTES) {
    const segments = r.resource.split('/').filter(Boolean);
    for (let i = 1; i <= segments.length; i++) paths.add(`/${segments.slice(0, i).join('/')}`);
  }
  const children = new Map<string, string[]>();
  for (const path of paths) {
    if (path === '/') continue;
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    children.set(parent, [...(children.get(parent) ?? []), path.slice(path.lastIndexOf('/') + 1)]);
  }
  const out: GatewayResource[] = [];
  for (const path of [...paths].sort()) {
    const route = routeSpec(path);
    // Every other method goes to the unrouted function too, never to the route's own: that
    // one may not be able to write the audit event (health reads only), and the 405 with
    // its Allow list is built from this manifest wherever it is answered.
    out.push({ path, ...(route ? { route } : {}), fallbackFn: UNROUTED_FN });
    const last = path.slice(path.lastIndexOf('/') + 1);
    if (!isGreedy(last) && !(children.get(path) ?? []).some(isVariable)) out.push({ path: join(path, PROXY_SEGMENT), fallbackFn: UNROUTED_FN });
  }
  return out;
}
