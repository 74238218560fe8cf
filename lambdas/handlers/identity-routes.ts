import { z } from 'zod';
import { whyInvalidPattern } from '../core/access/path-pattern';
import { parseCidr, MAX_CIDRS } from '../core/access/network';
import { OPERATIONS, ROLE_OPERATIONS } from '../core/access/policy';
import { isAllowedHost } from '../core/audit-sinks';
import { CLIENT_ID } from '../core/ids';
import { IDENTIFYING_CLAIMS, isSafeArnPattern, isSpecificClaimBinding } from '../core/identity/federation';
import type { AdminRequest, CallerRequest, IdentityAdmin } from '../core/identity/admin';
import { MAX_ENTRIES_PER_POLICY, MAX_GROUPS_PER_PRINCIPAL, MAX_PASSWORD_LENGTH, RECORD_NAME, USERNAME } from '../core/identity/names';
import { ACCESS_TOKEN_TTL_SECONDS } from '../core/tokens';
import { ROLES, type Principal } from '../core/principal';
import { pageQuery, route, type RequestInfo } from '../http/api';

const name = z.string().regex(RECORD_NAME, 'lower-case letters, digits, . _ - (1–64, starting with a letter or digit)');
const username = z.string().regex(USERNAME, 'lower-case letters, digits, . _ @ + - (1–64)');
const roles = z.array(z.enum(ROLES)).max(ROLES.length).transform((r) => ROLES.filter((role) => r.includes(role)));
const groups = z.array(name).max(MAX_GROUPS_PER_PRINCIPAL).transform((g) => [...new Set(g)]);
const password = z.string().min(1).max(MAX_PASSWORD_LENGTH);
const status = z.enum(['active', 'disabled']);
const cidr = z.string().max(64).transform((raw, ctx) => {
  try {
    return parseCidr(raw);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});
const cidrs = z.array(cidr).max(MAX_CIDRS);
const selector = z
  .string()
  .max(300)
  .regex(/^(\*|role:(owner|admin|contributor|viewer)|group:[a-z0-9][a-z0-9._-]{0,63}|(user|client|iam|federated):[^\s]{1,256})$/, "'*', role:<role>, group:<name>, or user:|client:|iam:|federated:<id>");
const pathPattern = z.string().superRefine((value, ctx) => {
  const reason = whyInvalidPattern(value);
  if (reason) ctx.addIssue({ code: 'custom', message: reason });
});
const entry = z.strictObject({
  effect: z.enum(['allow', 'deny']),
  principals: z.array(selector).min(1).max(20),
  paths: z.array(pathPattern).min(1).max(20),
  operations: z.array(z.enum(OPERATIONS)).min(1).max(OPERATIONS.length).transform((ops) => OPERATIONS.filter((op) => ops.includes(op))),
});
const policyBody = z.strictObject({
  description: z.string().max(512).optional(),
  entries: z.array(entry).min(1).max(MAX_ENTRIES_PER_POLICY),
  sourceCidrs: cidrs.optional(),
});
const httpsUrl = (allowLoopback: boolean) =>
  z
    .string()
    .max(2048)
    .url()
    .superRefine((value, ctx) => {
      // zod goes on after a failed .url(): the issue is already reported, nothing to add.
      if (!URL.canParse(value)) return;
      const url = new URL(value);
      const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname);
      if (url.protocol !== 'https:' && !(allowLoopback && loopback && url.protocol === 'http:')) ctx.addIssue({ code: 'custom', message: 'must be https' });
      else if (!isAllowedHost(url.hostname, { allowLoopback })) ctx.addIssue({ code: 'custom', message: 'points at a private or reserved address' });
    });
const claimBinding = z.strictObject({
  claims: z
    .record(z.string().min(1).max(128), z.string().min(1).max(512))
    .refine((c) => Object.keys(c).length >= 1 && Object.keys(c).length <= 10, 'name 1–10 claims that must all match')
    // `{ "sub": "repo:*" }`, `{ "ref": "refs/heads/main" }` or `{ "aud": "coffer" }` would admit
    // every token the issuer signs, for anyone: one claim that says who must pin the caller.
    .refine(
      isSpecificClaimBinding,
      `match one identifying claim (${[...IDENTIFYING_CLAIMS].slice(0, 6).join(', ')}, …) exactly, or sub by a pattern naming two levels such as "repo:acme/app:*"`,
    ),
  roles: roles.refine((r) => r.length > 0, 'at least one role'),
  groups: groups.optional(),
});
// Partition, service and account literal: `arn:aws:iam::*:…` would admit principals of every
// AWS account, and a `*` before the resource could swallow another account's ARN.
const arnPattern = z
  .string()
  .max(600)
  .refine(isSafeArnPattern, 'an IAM ARN of one account, partition and service (iam or sts), such as arn:aws:iam::123456789012:role/ci-*');

export interface IdentityRoutesOptions {
  /** Local runtime: trusted issuers may serve their JWKS on 127.0.0.1. */
  readonly allowLoopbackIssuers: boolean;
}

const admin = <P extends Principal>(principal: P, request: RequestInfo): CallerRequest<P> => ({
  principal,
  sourceIp: request.sourceIp,
  audit: request.audit,
  rules: request.accessRules,
});
const page = (q: { limit: number; cursor?: string | undefined }) => ({ limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : {}) });
const listBody = <T>(result: { items: readonly T[]; cursor?: string }) => ({ items: result.items, ...(result.cursor ? { nextCursor: result.cursor } : {}) });

/** Users, clients, groups, policies, issuers, IAM bindings, network, whoami, logout. */
export function identityRoutes(identity: IdentityAdmin, options: IdentityRoutesOptions) {
  const issuerBody = z.strictObject({
    issuer: z.string().min(1).max(512),
    jwksUri: httpsUrl(options.allowLoopbackIssuers),
    audiences: z.array(z.string().min(1).max(256)).min(1).max(10),
    bindings: z
      .array(claimBinding)
      .min(1)
      .max(20)
      .refine((b) => new Set(b.flatMap((x) => x.groups ?? [])).size <= MAX_GROUPS_PER_PRINCIPAL, `at most ${MAX_GROUPS_PER_PRINCIPAL} groups across all bindings`),
    status: status.default('active'),
  });
  const iamBindingBody = z.strictObject({
    arnPattern,
    roles: roles.refine((r) => r.length > 0, 'at least one role'),
    groups: groups.optional(),
    status: status.default('active'),
  });

  const named = <K extends 'group' | 'policy' | 'issuer' | 'iam-binding'>(
    kind: K,
    collection: 'groups' | 'policies' | 'issuers' | 'iam-bindings',
    put: (req: AdminRequest, name: string, body: never) => Promise<{ record: unknown; created: boolean }>,
    body: z.ZodType,
  ) => [
    route({
      method: 'GET',
      resource: `/v1/${collection}` as const,
      audit: { action: `${kind}.list` },
      input: z.object({ query: z.strictObject(pageQuery) }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: listBody(await identity.list(admin(principal, request), kind, page(input.query))) }),
    }),
    route({
      method: 'GET',
      resource: `/v1/${collection}/{name}` as const,
      audit: { action: `${kind}.read` },
      input: z.object({ params: z.object({ name }) }),
      handle: async ({ input, principal, request }) => {
        const record = await identity.get(admin(principal, request), kind, input.params.name);
        return { status: 200, body: record, headers: { ETag: `"${record.rev}"` } };
      },
    }),
    route({
      method: 'PUT',
      resource: `/v1/${collection}/{name}` as const,
      audit: { action: `${kind}.write` },
      input: z.object({ params: z.object({ name }), body }),
      handle: async ({ input, principal, request }) => {
        const { record, created } = await put(admin(principal, request), input.params.name, input.body as never);
        return { status: created ? 201 : 200, body: record, headers: { Location: `/v1/${collection}/${input.params.name}` } };
      },
    }),
    route({
      method: 'DELETE',
      resource: `/v1/${collection}/{name}` as const,
      audit: { action: `${kind}.delete` },
      input: z.object({ params: z.object({ name }) }),
      handle: async ({ input, principal, request }) => {
        await identity.remove(admin(principal, request), kind, input.params.name);
        return { status: 204 };
      },
    }),
  ];

  return [
    route({
      method: 'GET',
      resource: '/v1/whoami',
      audit: { action: 'identity.whoami' },
      input: z.object({}),
      handle: async ({ principal, request }) => ({ status: 200, body: await identity.whoami(admin(principal, request)) }),
    }),
    route({
      method: 'POST',
      resource: '/v1/logout',
      audit: { action: 'identity.logout' },
      input: z.object({}),
      handle: async ({ principal, request }) => {
        await identity.logout(admin(principal, request), Date.now() + ACCESS_TOKEN_TTL_SECONDS * 1000);
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
        body: {
          items: ROLES.map((role) => ({ role, operations: ROLE_OPERATIONS[role], managesIdentities: role === 'owner' || role === 'admin' })),
        },
      }),
    }),

    // ---- users
    route({
      method: 'GET',
      resource: '/v1/users',
      audit: { action: 'user.list' },
      input: z.object({ query: z.strictObject(pageQuery) }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: listBody(await identity.listUsers(admin(principal, request), page(input.query))) }),
    }),
    route({
      method: 'POST',
      resource: '/v1/users',
      audit: { action: 'user.create' },
      input: z.object({
        body: z.strictObject({
          username,
          password,
          displayName: z.string().trim().min(1).max(128).optional(),
          roles: roles.default([]),
          groups: groups.default([]),
        }),
      }),
      handle: async ({ input, principal, request }) => {
        request.audit.about(input.body.username);
        const user = await identity.createUser(admin(principal, request), input.body);
        return { status: 201, body: user, headers: { Location: `/v1/users/${user.username}` } };
      },
    }),
    route({
      method: 'GET',
      resource: '/v1/users/{name}',
      audit: { action: 'user.read' },
      input: z.object({ params: z.object({ name: username }) }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: await identity.getUser(admin(principal, request), input.params.name) }),
    }),
    route({
      method: 'PATCH',
      resource: '/v1/users/{name}',
      audit: { action: 'user.update' },
      input: z.object({
        params: z.object({ name: username }),
        body: z
          .strictObject({ displayName: z.string().trim().min(1).max(128).optional(), roles: roles.optional(), groups: groups.optional(), status: status.optional() })
          .refine((b) => Object.keys(b).length > 0, 'name at least one of displayName, roles, groups, status'),
      }),
      handle: async ({ input, principal, request }) => ({
        status: 200,
        body: await identity.updateUser(admin(principal, request), input.params.name, input.body as never),
      }),
    }),
    route({
      method: 'DELETE',
      resource: '/v1/users/{name}',
      audit: { action: 'user.delete' },
      input: z.object({ params: z.object({ name: username }) }),
      handle: async ({ input, principal, request }) => {
        await identity.deleteUser(admin(principal, request), input.params.name);
        return { status: 204 };
      },
    }),
    route({
      method: 'PUT',
      resource: '/v1/users/{name}/password',
      audit: { action: 'user.password' },
      input: z.object({ params: z.object({ name: username }), body: z.strictObject({ currentPassword: password.optional(), newPassword: password }) }),
      handle: async ({ input, principal, request }) => {
        await identity.setPassword(admin(principal, request), input.params.name, input.body as never);
        return { status: 204 };
      },
    }),
    route({
      method: 'POST',
      resource: '/v1/users/{name}/totp',
      audit: { action: 'user.totp.enrol' },
      input: z.object({ params: z.object({ name: username }) }),
      handle: async ({ input, principal, request }) => {
        return { status: 201, body: await identity.enrolTotp(admin(principal, request), input.params.name, principal.tenantId) };
      },
    }),
    route({
      method: 'POST',
      resource: '/v1/users/{name}/totp/verify',
      audit: { action: 'user.totp.confirm' },
      input: z.object({ params: z.object({ name: username }), body: z.strictObject({ otp: z.string().regex(/^\d{6}$/, 'six digits') }) }),
      handle: async ({ input, principal, request }) => {
        await identity.confirmTotp(admin(principal, request), input.params.name, input.body.otp);
        return { status: 204 };
      },
    }),
    route({
      method: 'DELETE',
      resource: '/v1/users/{name}/totp',
      audit: { action: 'user.totp.disable' },
      input: z.object({ params: z.object({ name: username }) }),
      handle: async ({ input, principal, request }) => {
        await identity.disableTotp(admin(principal, request), input.params.name);
        return { status: 204 };
      },
    }),

    // ---- clients
    route({
      method: 'GET',
      resource: '/v1/clients',
      audit: { action: 'client.list' },
      input: z.object({ query: z.strictObject(pageQuery) }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: listBody(await identity.listClients(admin(principal, request), page(input.query))) }),
    }),
    route({
      method: 'POST',
      resource: '/v1/clients',
      audit: { action: 'client.create' },
      input: z.object({
        body: z.strictObject({ name: z.string().trim().min(1).max(128), description: z.string().max(512).optional(), roles: roles.default([]), groups: groups.default([]) }),
      }),
      handle: async ({ input, principal, request }) => {
        const client = await identity.createClient(admin(principal, request), input.body as never);
        request.audit.about(client.clientId);
        return { status: 201, body: client, headers: { Location: `/v1/clients/${client.clientId}` } };
      },
    }),
    route({
      method: 'GET',
      resource: '/v1/clients/{clientId}',
      audit: { action: 'client.read' },
      input: z.object({ params: z.object({ clientId: z.string().regex(CLIENT_ID, 'a client id') }) }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: await identity.getClient(admin(principal, request), input.params.clientId) }),
    }),
    route({
      method: 'PATCH',
      resource: '/v1/clients/{clientId}',
      audit: { action: 'client.update' },
      input: z.object({
        params: z.object({ clientId: z.string().regex(CLIENT_ID, 'a client id') }),
        body: z
          .strictObject({ description: z.string().max(512).optional(), roles: roles.optional(), groups: groups.optional(), status: status.optional() })
          .refine((b) => Object.keys(b).length > 0, 'name at least one of description, roles, groups, status'),
      }),
      handle: async ({ input, principal, request }) => ({
        status: 200,
        body: await identity.updateClient(admin(principal, request), input.params.clientId, input.body as never),
      }),
    }),
    route({
      method: 'DELETE',
      resource: '/v1/clients/{clientId}',
      audit: { action: 'client.delete' },
      input: z.object({ params: z.object({ clientId: z.string().regex(CLIENT_ID, 'a client id') }) }),
      handle: async ({ input, principal, request }) => {
        await identity.deleteClient(admin(principal, request), input.params.clientId);
        return { status: 204 };
      },
    }),
    route({
      method: 'POST',
      resource: '/v1/clients/{clientId}/secret',
      audit: { action: 'client.rotate' },
      // A client rotating its own secret sends `{ currentSecret }`; an Owner or Admin sends nothing.
      input: z.object({
        params: z.object({ clientId: z.string().regex(CLIENT_ID, 'a client id') }),
        body: z.strictObject({ currentSecret: z.string().min(1).max(512) }).optional(),
      }),
      handle: async ({ input, principal, request }) => ({
        status: 200,
        body: await identity.rotateClientSecret(admin(principal, request), input.params.clientId, input.body?.currentSecret),
      }),
    }),

    // ---- named records
    ...named('group', 'groups', (req, n, b) => identity.putGroup(req, n, b), z.strictObject({ description: z.string().max(512).optional(), roles: roles.default([]) })),
    ...named('policy', 'policies', (req, n, b) => identity.putPolicy(req, n, b), policyBody),
    ...named('issuer', 'issuers', (req, n, b) => identity.putIssuer(req, n, b), issuerBody),
    ...named('iam-binding', 'iam-bindings', (req, n, b) => identity.putIamBinding(req, n, b), iamBindingBody),

    // ---- network
    route({
      method: 'GET',
      resource: '/v1/network',
      audit: { action: 'network.read' },
      input: z.object({}),
      handle: async ({ principal, request }) => ({ status: 200, body: await identity.getNetwork(admin(principal, request)) }),
    }),
    route({
      method: 'PUT',
      resource: '/v1/network',
      audit: { action: 'network.write' },
      input: z.object({ body: z.strictObject({ cidrs }) }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: await identity.putNetwork(admin(principal, request), input.body.cidrs) }),
    }),
  ];
}
