import { z } from 'zod';
import type { ClientAdmin, ClientChanges, ClientInput } from '../core/identity/clients';
import { pageQuery, route } from '../http/api';
import { callerRequest, clientIdParam, groups, listBody, pageOf, roles, status } from './identity-schemas';

const description = z.string().max(512);
const newClient: z.ZodType<ClientInput> = z.strictObject({ name: z.string().trim().min(1).max(128), description: description.optional(), roles: roles.default([]), groups: groups.default([]) });
const clientChanges: z.ZodType<ClientChanges> = z
  .strictObject({ description: description.optional(), roles: roles.optional(), groups: groups.optional(), status: status.optional() })
  .refine((b) => Object.keys(b).length > 0, 'name at least one of description, roles, groups, status');

/** Machine clients and their secrets. */
export function clientRoutes(clients: ClientAdmin) {
  return [
    route({
      method: 'GET',
      resource: '/v1/clients',
      audit: { action: 'client.list' },
      input: z.object({ query: z.strictObject(pageQuery) }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: listBody(await clients.list(callerRequest(principal, request), pageOf(input.query))) }),
    }),
    route({
      method: 'POST',
      resource: '/v1/clients',
      audit: { action: 'client.create' },
      input: z.object({ body: newClient }),
      handle: async ({ input, principal, request }) => {
        const client = await clients.create(callerRequest(principal, request), input.body);
        request.audit.about(client.clientId);
        return { status: 201, body: client, headers: { Location: `/v1/clients/${client.clientId}` } };
      },
    }),
    route({
      method: 'GET',
      resource: '/v1/clients/{clientId}',
      audit: { action: 'client.read' },
      input: z.object({ params: clientIdParam }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: await clients.get(callerRequest(principal, request), input.params.clientId) }),
    }),
    route({
      method: 'PATCH',
      resource: '/v1/clients/{clientId}',
      audit: { action: 'client.update' },
      input: z.object({ params: clientIdParam, body: clientChanges }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: await clients.update(callerRequest(principal, request), input.params.clientId, input.body) }),
    }),
    route({
      method: 'DELETE',
      resource: '/v1/clients/{clientId}',
      audit: { action: 'client.delete' },
      input: z.object({ params: clientIdParam }),
      handle: async ({ input, principal, request }) => {
        await clients.remove(callerRequest(principal, request), input.params.clientId);
        return { status: 204 };
      },
    }),
    route({
      method: 'POST',
      resource: '/v1/clients/{clientId}/secret',
      audit: { action: 'client.rotate' },
      // A client rotating its own secret sends `{ currentSecret }`; an Owner or Admin sends nothing.
      input: z.object({ params: clientIdParam, body: z.strictObject({ currentSecret: z.string().min(1).max(512) }).optional() }),
      handle: async ({ input, principal, request }) => ({
        status: 200,
        body: await clients.rotateSecret(callerRequest(principal, request), input.params.clientId, input.body?.currentSecret),
      }),
    }),
  ];
}
