import { z } from 'zod';
import { whyInvalidPattern } from '../core/access/path-pattern';
import { parseCidr, MAX_CIDRS } from '../core/access/network';
import { OPERATIONS } from '../core/access/policy';
import { isAllowedHost } from '../core/audit-sinks';
import { CLIENT_ID } from '../core/ids';
import { IDENTIFYING_CLAIMS, isSafeArnPattern, isSpecificClaimBinding } from '../core/identity/federation';
import type { IamBindingInput, IssuerInput, PolicyInput, GroupInput } from '../core/identity/named-records';
import { MAX_ENTRIES_PER_POLICY, MAX_GROUPS_PER_PRINCIPAL, MAX_PASSWORD_LENGTH, RECORD_NAME, USERNAME } from '../core/identity/names';
import type { CallerRequest } from '../core/identity/requests';
import { ROLES, type Principal } from '../core/principal';
import type { RequestInfo } from '../http/api';

// The request shapes of the identity routes. Body schemas are typed by the core's input
// types (`z.ZodType<Input>`), so a schema that drifts from what the core takes fails to compile.

export const recordName = z.string().regex(RECORD_NAME, 'lower-case letters, digits, . _ - (1–64, starting with a letter or digit)');
export const username = z.string().regex(USERNAME, 'lower-case letters, digits, . _ @ + - (1–64)');
export const clientIdParam = z.object({ clientId: z.string().regex(CLIENT_ID, 'a client id') });
export const roles = z.array(z.enum(ROLES)).max(ROLES.length).transform((r) => ROLES.filter((role) => r.includes(role)));
export const groups = z.array(recordName).max(MAX_GROUPS_PER_PRINCIPAL).transform((g) => [...new Set(g)]);
export const password = z.string().min(1).max(MAX_PASSWORD_LENGTH);
export const status = z.enum(['active', 'disabled']);
const atLeastOneRole = roles.refine((r) => r.length > 0, 'at least one role');

const cidr = z.string().max(64).transform((raw, ctx) => {
  try {
    return parseCidr(raw);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});
export const cidrs = z.array(cidr).max(MAX_CIDRS);

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

export const groupBody: z.ZodType<GroupInput> = z.strictObject({ description: z.string().max(512).optional(), roles: roles.default([]) });

export const policyBody: z.ZodType<PolicyInput> = z.strictObject({
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
  roles: atLeastOneRole,
  groups: groups.optional(),
});

/** Local runtime: trusted issuers may serve their JWKS on 127.0.0.1. */
export const issuerBody = (allowLoopbackIssuers: boolean): z.ZodType<IssuerInput> =>
  z.strictObject({
    issuer: z.string().min(1).max(512),
    jwksUri: httpsUrl(allowLoopbackIssuers),
    audiences: z.array(z.string().min(1).max(256)).min(1).max(10),
    bindings: z
      .array(claimBinding)
      .min(1)
      .max(20)
      .refine((b) => new Set(b.flatMap((x) => x.groups ?? [])).size <= MAX_GROUPS_PER_PRINCIPAL, `at most ${MAX_GROUPS_PER_PRINCIPAL} groups across all bindings`),
    status: status.default('active'),
  });

// Partition, service and account literal: `arn:aws:iam::*:…` would admit principals of every
// AWS account, and a `*` before the resource could swallow another account's ARN.
const arnPattern = z
  .string()
  .max(600)
  .refine(isSafeArnPattern, 'an IAM ARN of one account, partition and service (iam or sts), such as arn:aws:iam::123456789012:role/ci-*');

export const iamBindingBody: z.ZodType<IamBindingInput> = z.strictObject({
  arnPattern,
  roles: atLeastOneRole,
  groups: groups.optional(),
  status: status.default('active'),
});

/** The caller and this request, as the identity core takes them. */
export const callerRequest = <P extends Principal>(principal: P, request: RequestInfo): CallerRequest<P> => ({
  principal,
  sourceIp: request.sourceIp,
  audit: request.audit,
  rules: request.accessRules,
});

export const pageOf = (q: { limit: number; cursor?: string | undefined }) => ({ limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : {}) });
export const listBody = <T>(result: { items: readonly T[]; cursor?: string }) => ({ items: result.items, ...(result.cursor ? { nextCursor: result.cursor } : {}) });
