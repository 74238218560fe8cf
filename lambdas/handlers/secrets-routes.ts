import { z } from 'zod';
import type { TenantPrincipal } from '../core/principal';
import type { Secrets } from '../core/secrets';
import { parseSecretPrefix } from '../core/secret-path';
import { pageQuery, route, type RequestInfo } from '../http/api';
import { booleanFlag, etag, ifMatch, secretBody, secretPath, versionNumber } from '../http/schemas';

/**
 * Gives the routes a Secrets service bound to the caller's own tenant, to this request's
 * audit event (committed with each change) and to its read of the tenant's access rules.
 */
export type SecretsFor = (tenantId: string, request: RequestInfo) => Secrets;

const pathParams = z.object({ path: secretPath });
const noBody = z.undefined();

const location = (path: string) => `/v1/secrets/${path}`;

export function secretsRoutes(secretsFor: SecretsFor) {
  // The tenant comes only from the verified token, never from the request.
  const secrets = (principal: TenantPrincipal, request: RequestInfo) => secretsFor(principal.tenantId, request);

  return [
    route({
      method: 'POST',
      resource: '/v1/secrets/{path+}',
      audit: { action: 'secret.create' },
      input: z.object({ params: pathParams, body: secretBody }),
      handle: async ({ input, principal, request }) => {
        const created = await secrets(principal, request).create(principal, input.params.path, input.body);
        return { status: 201, body: created, headers: { Location: location(created.path), ETag: etag(created.version) } };
      },
    }),
    route({
      method: 'PUT',
      resource: '/v1/secrets/{path+}',
      audit: { action: 'secret.write' },
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
      audit: { action: 'secret.read' },
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
      audit: { action: 'secret.delete' },
      input: z.object({ params: pathParams }),
      handle: async ({ input, principal, request }) => {
        await secrets(principal, request).delete(principal, input.params.path);
        return { status: 204 };
      },
    }),
    route({
      method: 'GET',
      resource: '/v1/secrets',
      audit: { action: 'secret.list' },
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
      audit: { action: 'secret.metadata' },
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
      audit: { action: 'secret.purge' },
      input: z.object({ params: pathParams }),
      handle: async ({ input, principal, request }) => {
        await secrets(principal, request).purge(principal, input.params.path);
        return { status: 204 };
      },
    }),
    route({
      method: 'POST',
      resource: '/v1/restore/{path+}',
      audit: { action: 'secret.restore' },
      input: z.object({ params: pathParams }),
      handle: async ({ input, principal, request }) => {
        const restored = await secrets(principal, request).restore(principal, input.params.path);
        return { status: 200, body: restored, headers: { ETag: etag(restored.version) } };
      },
    }),
  ];
}
