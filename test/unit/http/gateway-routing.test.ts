import { describe, expect, it } from 'vitest';
import { matchResource } from '../../../bin/local/gateway';
import { gatewayResources, routeMethods, UNROUTED_FN } from '../../../lambdas/route-manifest';

// The local emulation routes as API Gateway does: explicit resources win over path
// variables, a greedy variable takes the rest, and every path reaches some resource.

describe('the local gateway’s resource matching', () => {
  it.each([
    ['/v1/secrets', '/v1/secrets', {}],
    ['/v1/secrets/a/b', '/v1/secrets/{path+}', { path: 'a/b' }],
    ['/v1/secretz/a', '/v1/{proxy+}', { proxy: 'secretz/a' }],
    ['/v1/users/alice', '/v1/users/{name}', { name: 'alice' }],
    ['/v1/users/alice/password', '/v1/users/{name}/password', { name: 'alice' }],
    ['/v1/users/alice/keys/x', '/v1/users/{name}/{proxy+}', { name: 'alice', proxy: 'keys/x' }],
    ['/v1/audit/export', '/v1/audit/export', {}],
    ['/v1/audit/exports', '/v1/audit/{proxy+}', { proxy: 'exports' }],
    ['/', '/', {}],
    ['/nothing/here', '/{proxy+}', { proxy: 'nothing/here' }],
    ['/v1', '/v1', {}],
  ])('%s → %s', (path, resource, params) => {
    expect(matchResource(path)).toMatchObject({ resource: { path: resource }, params });
  });

  it('takes every manifest route at its own resource', () => {
    for (const r of routeMethods()) {
      const concrete = r.resource.replace(/\{(\w+)\+\}/g, 'x/y').replace(/\{(\w+)\}/g, 'x');
      expect(matchResource(concrete)?.resource.path, r.resource).toBe(r.resource);
    }
  });

  it('matches no resource only for an empty greedy tail (the gateway hands it to the root proxy), and hands empty segments inside one to the handler', () => {
    expect(matchResource('/v1/secrets/')).toBeUndefined();
    expect(matchResource('/v1/secrets/a//b')).toMatchObject({ resource: { path: '/v1/secrets/{path+}' }, params: { path: 'a//b' } });
    expect(matchResource('/v1//secrets')).toMatchObject({ resource: { path: '/v1/{proxy+}' }, params: { proxy: '/secrets' } });
  });

  it('sends what no route owns, and every method a route does not list, to the unrouted function', () => {
    // Never to the route's own function: health, for one, cannot write the audit event.
    for (const node of gatewayResources()) expect(node.fallbackFn, node.path).toBe(UNROUTED_FN);
  });
});
