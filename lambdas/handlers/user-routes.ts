import { z } from 'zod';
import type { PasswordChange, UserAdmin, UserChanges, UserInput } from '../core/identity/users';
import { pageQuery, route } from '../http/api';
import { callerRequest, groups, listBody, pageOf, password, roles, status, username } from './identity-schemas';

const displayName = z.string().trim().min(1).max(128);
const userParams = z.object({ name: username });

const newUser: z.ZodType<UserInput> = z.strictObject({ username, password, displayName: displayName.optional(), roles: roles.default([]), groups: groups.default([]) });
const userChanges: z.ZodType<UserChanges> = z
  .strictObject({ displayName: displayName.optional(), roles: roles.optional(), groups: groups.optional(), status: status.optional() })
  .refine((b) => Object.keys(b).length > 0, 'name at least one of displayName, roles, groups, status');
const passwordChange: z.ZodType<PasswordChange> = z.strictObject({ currentPassword: password.optional(), newPassword: password });

/** Users, their passwords and TOTP devices. */
export function userRoutes(users: UserAdmin) {
  return [
    route({
      method: 'GET',
      resource: '/v1/users',
      audit: { action: 'user.list' },
      input: z.object({ query: z.strictObject(pageQuery) }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: listBody(await users.list(callerRequest(principal, request), pageOf(input.query))) }),
    }),
    route({
      method: 'POST',
      resource: '/v1/users',
      audit: { action: 'user.create' },
      input: z.object({ body: newUser }),
      handle: async ({ input, principal, request }) => {
        request.audit.about(input.body.username);
        const user = await users.create(callerRequest(principal, request), input.body);
        return { status: 201, body: user, headers: { Location: `/v1/users/${user.username}` } };
      },
    }),
    route({
      method: 'GET',
      resource: '/v1/users/{name}',
      audit: { action: 'user.read' },
      input: z.object({ params: userParams }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: await users.get(callerRequest(principal, request), input.params.name) }),
    }),
    route({
      method: 'PATCH',
      resource: '/v1/users/{name}',
      audit: { action: 'user.update' },
      input: z.object({ params: userParams, body: userChanges }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: await users.update(callerRequest(principal, request), input.params.name, input.body) }),
    }),
    route({
      method: 'DELETE',
      resource: '/v1/users/{name}',
      audit: { action: 'user.delete' },
      input: z.object({ params: userParams }),
      handle: async ({ input, principal, request }) => {
        await users.remove(callerRequest(principal, request), input.params.name);
        return { status: 204 };
      },
    }),
    route({
      method: 'PUT',
      resource: '/v1/users/{name}/password',
      audit: { action: 'user.password' },
      input: z.object({ params: userParams, body: passwordChange }),
      handle: async ({ input, principal, request }) => {
        await users.setPassword(callerRequest(principal, request), input.params.name, input.body);
        return { status: 204 };
      },
    }),
    route({
      method: 'POST',
      resource: '/v1/users/{name}/totp',
      audit: { action: 'user.totp.enrol' },
      input: z.object({ params: userParams }),
      handle: async ({ input, principal, request }) => ({ status: 201, body: await users.enrolTotp(callerRequest(principal, request), input.params.name, principal.tenantId) }),
    }),
    route({
      method: 'POST',
      resource: '/v1/users/{name}/totp/verify',
      audit: { action: 'user.totp.confirm' },
      input: z.object({ params: userParams, body: z.strictObject({ otp: z.string().regex(/^\d{6}$/, 'six digits') }) }),
      handle: async ({ input, principal, request }) => {
        await users.confirmTotp(callerRequest(principal, request), input.params.name, input.body.otp);
        return { status: 204 };
      },
    }),
    route({
      method: 'DELETE',
      resource: '/v1/users/{name}/totp',
      audit: { action: 'user.totp.disable' },
      input: z.object({ params: userParams }),
      handle: async ({ input, principal, request }) => {
        await users.disableTotp(callerRequest(principal, request), input.params.name);
        return { status: 204 };
      },
    }),
  ];
}
