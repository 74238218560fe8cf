import { z } from 'zod';
import type { Principal, TenantPrincipal } from '../core/principal';
import { ForbiddenError } from '../core/errors';
import type { Secrets } from '../core/secrets';
import { parseSecretPrefix } from '../core/secret-path';
import { pageQuery, route, type RequestInfo } from '../http/api';
import type { MutationAudit } from '../ports/audit-log';
import { booleanFlag, etag, ifMatch, secretBody, secretPath, versionNumber } from '../http/schemas';

/**
 * Gives the routes a Secrets service bound to the caller's own tenant and to this request's
 * audit event (committed with each change).
 */
export type SecretsFor = (tenantId: string, audit: MutationAudit, sourceIp: string) => Secrets;

const pathParams = z.object({ path: secretPath });
const noBody = z.undefined();

function tenantOf(principal: Principal): TenantPrincipal {
  if (principal.kind !== 'tenant') throw new ForbiddenError('Platform principals manage tenants; they cannot access tenant secrets.');
  return principal;
}

const location = (path: string) => `/v1/secrets/${path}`;

export function secretsRoutes(secretsFor: SecretsFor) {
  // The tenant comes only from the verified token, never from the request.
  const secrets = (principal: Principal, request: RequestInfo) => secretsFor(tenantOf(principal).tenantId, request.audit, request.sourceIp);

  return [
    route({
      method: 'POST',
      resource: '/v1/secrets/{path+}',
      authenticated: true,
      audit: { action: 'secret.create' },
      body: 'json',
      input: z.object({ params: pathParams, body: secretBody }),
      handle: async ({ input, principal, request }) => {
        const created = await secrets(principal, request).create(principal, input.params.path, input.body);
        return { status: 201, body: created, headers: { Location: location(created.path), ETag: etag(created.version) } };
      },
    }),
    route({
      method: 'PUT',
      resource: '/v1/secrets/{path+}',
      authenticated: true,
      audit: { action: 'secret.write' },
      body: 'json',
      input: z.object({ params: pathParams, headers: z.object({ 'if-match': ifMatch.optional() }), body: secretBody }),
      handle: async ({ input, principal, request }) => {
        const written = await secrets(principal, request).write(principal, input.params.path, input.body, input.headers['if-match']);
        return {
          status: written.version === 1 ? 201 : 200,
          body: written,
          headers: { Location: location(written.path), ETag: etag(written.version) },
        };
      },
    }),
    route({
      method: 'GET',
      resource: '/v1/secrets/{path+}',
      authenticated: true,
      audit: { action: 'secret.read' },
      body: 'none',
      input: z.object({ params: pathParams, query: z.strictObject({ version: versionNumber.optional() }), body: noBody }),
      handle: async ({ input, principal, request }) => {
        const secret = await secrets(principal, request).read(principal, input.params.path, input.query.version);
        request.audit.note({ version: secret.version }); // which version was read, never its value
        return { status: 200, body: secret, headers: { ETag: etag(secret.version) } };
      },
    }),
    route({
      method: 'DELETE',
      resource: '/v1/secrets/{path+}',
      authenticated: true,
      audit: { action: 'secret.delete' },
      body: 'none',
      input: z.object({ params: pathParams }),
      handle: async ({ input, principal, request }) => {
        await secrets(principal, request).delete(principal, input.params.path);
        return { status: 204 };
      },
    }),
    route({
      method: 'GET',
      resource: '/v1/secrets',
      authenticated: true,
      audit: { action: 'secret.list' },
      body: 'none',
      input: z.object({
        query: z.strictObject({
          prefix: z.string().max(1024).transform((p) => parseSecretPrefix(p)).default(''),
          deleted: booleanFlag.default(false),
          ...pageQuery,
        }),
      }),
      handle: async ({ input, principal, request }) => {
        const { prefix, deleted, limit, cursor } = input.query;
        const page = await secrets(principal, request).list(principal, prefix, { limit, ...(cursor ? { cursor } : {}) }, deleted);
        return { status: 200, body: { items: page.items, ...(page.cursor ? { nextCursor: page.cursor } : {}) } };
      },
    }),
    route({
      method: 'GET',
      resource: '/v1/metadata/{path+}',
      authenticated: true,
      audit: { action: 'secret.metadata' },
      body: 'none',
      input: z.object({ params: pathParams, query: z.strictObject(pageQuery) }),
      handle: async ({ input, principal, request }) => {
        const { limit, cursor } = input.query;
        const meta = await secrets(principal, request).metadata(principal, input.params.path, { limit, ...(cursor ? { cursor } : {}) });
        const { versions, ...head } = meta;
        return { status: 200, body: { ...head, versions: versions.items, ...(versions.cursor ? { nextCursor: versions.cursor } : {}) } };
      },
    }),
    route({
      method: 'DELETE',
      resource: '/v1/metadata/{path+}',
      authenticated: true,
      audit: { action: 'secret.purge' },
      body: 'none',
      input: z.object({ params: pathParams }),
      handle: async ({ input, principal, request }) => {
        await secrets(principal, request).purge(principal, input.params.path);
        return { status: 204 };
      },
    }),
    route({
      method: 'POST',
      resource: '/v1/restore/{path+}',
      authenticated: true,
      audit: { action: 'secret.restore' },
      body: 'none',
      input: z.object({ params: pathParams }),
      handle: async ({ input, principal, request }) => {
        const restored = await secrets(principal, request).restore(principal, input.params.path);
        return { status: 200, body: restored, headers: { ETag: etag(restored.version) } };
      },
    }),
  ];
}
