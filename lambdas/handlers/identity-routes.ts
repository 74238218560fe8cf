import { z } from 'zod';
import { ROLE_OPERATIONS } from '../core/access/policy';
import type { ClientAdmin } from '../core/identity/clients';
import type { NamedRecordAdmin } from '../core/identity/named-records';
import type { NetworkAdmin } from '../core/identity/network-admin';
import type { UserAdmin } from '../core/identity/users';
import type { SelfService } from '../core/identity/whoami';
import { ACCESS_TOKEN_TTL_SECONDS } from '../core/tokens';
import { ROLES } from '../core/principal';
import { route } from '../http/api';
import { clientRoutes } from './client-routes';
import { callerRequest, cidrs } from './identity-schemas';
import { namedRecordRoutes } from './named-record-routes';
import { userRoutes } from './user-routes';

/** The identity function's parts, one per role of its callers. */
export interface IdentityServices {
  readonly self: SelfService;
  readonly users: UserAdmin;
  readonly clients: ClientAdmin;
  readonly named: NamedRecordAdmin;
  readonly network: NetworkAdmin;
}

export interface IdentityRoutesOptions {
  /** Local runtime: trusted issuers may serve their JWKS on 127.0.0.1. */
  readonly allowLoopbackIssuers: boolean;
}

/** Whoami, logout, roles and the network safelist; then users, clients and named records. */
export function identityRoutes(services: IdentityServices, options: IdentityRoutesOptions) {
  const { self, network } = services;
  return [
    route({
      method: 'GET',
      resource: '/v1/whoami',
      audit: { action: 'identity.whoami' },
      input: z.object({}),
      handle: async ({ principal, request }) => ({ status: 200, body: await self.whoami(callerRequest(principal, request)) }),
    }),
    route({
      method: 'POST',
      resource: '/v1/logout',
      audit: { action: 'identity.logout' },
      input: z.object({}),
      handle: async ({ principal, request }) => {
        await self.logout(callerRequest(principal, request), Date.now() + ACCESS_TOKEN_TTL_SECONDS * 1000);
        return { status: 204 };
      },
    }),
    route({
      method: 'GET',
      resource: '/v1/roles',
      audit: { action: 'role.list' },
      input: z.object({}),
      handle: async () => ({
        status: 200,
        body: { items: ROLES.map((role) => ({ role, operations: ROLE_OPERATIONS[role], managesIdentities: role === 'owner' || role === 'admin' })) },
      }),
    }),
    route({
      method: 'GET',
      resource: '/v1/network',
      audit: { action: 'network.read' },
      input: z.object({}),
      handle: async ({ principal, request }) => ({ status: 200, body: await network.get(callerRequest(principal, request)) }),
    }),
    route({
      method: 'PUT',
      resource: '/v1/network',
      audit: { action: 'network.write' },
      input: z.object({ body: z.strictObject({ cidrs }) }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: await network.put(callerRequest(principal, request), input.body.cidrs) }),
    }),
    ...userRoutes(services.users),
    ...clientRoutes(services.clients),
    ...namedRecordRoutes(services.named, options),
  ];
}
