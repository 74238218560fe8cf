import { z } from 'zod';
import type { Authentication, Login } from '../core/authentication';
import { UnauthenticatedError } from '../core/errors';
import { CLIENT_ID, TENANT_ID } from '../core/ids';
import { USERNAME } from '../core/identity/names';
import { parseRefreshToken } from '../core/identity/refresh-tokens';
import { ROLES } from '../core/principal';
import { route, type RequestInfo } from '../http/api';
import type { TokenSigner } from '../ports/key-service';

const tenant = z.string().min(1).max(64);
const signedRequest = z.strictObject({
  method: z.string().min(1).max(16),
  url: z.string().min(1).max(2048),
  headers: z.record(z.string().max(256), z.string().max(8192)).refine((h) => Object.keys(h).length <= 50, 'at most 50 headers'),
  body: z.string().max(4096),
});

const GRANTS = {
  client_credentials: z.strictObject({
    grant_type: z.literal('client_credentials'),
    client_id: z.string().min(1).max(256),
    client_secret: z.string().min(1).max(512),
  }),
  password: z.strictObject({
    grant_type: z.literal('password'),
    tenant,
    username: z.string().min(1).max(128),
    password: z.string().min(1).max(1024),
    otp: z.string().min(1).max(16).optional(),
  }),
  refresh_token: z.strictObject({ grant_type: z.literal('refresh_token'), refresh_token: z.string().min(1).max(512) }),
  // The signed request nested under `request` (or its four parts at the top level, below).
  aws_iam: z.strictObject({ grant_type: z.literal('aws_iam'), tenant, request: signedRequest }),
  jwt: z.strictObject({
    grant_type: z.literal('jwt'),
    tenant,
    assertion: z.string().min(1).max(16_384),
    role: z.enum(ROLES).optional(),
  }),
} as const;
/** `aws_iam` with `method`, `url`, `headers` and `body` at the top level, as some clients send it. */
const FLAT_AWS_IAM = signedRequest
  .extend({ grant_type: z.literal('aws_iam'), tenant })
  .strict()
  .transform(({ grant_type, tenant, ...request }) => ({ grant_type, tenant, request }));
type GrantType = keyof typeof GRANTS;
const GRANT_TYPES = Object.keys(GRANTS) as GrantType[];

export function tokenRoutes(auth: Authentication, signer: TokenSigner) {
  return [
    route({
      method: 'POST',
      resource: '/v1/token',
      audit: {
        action: 'token.issue',
        // Attempts are claimed before the credential is checked (core/identity/attempts.ts), so
        // they stand even when the login's event cannot be recorded.
        ifUnrecorded:
          'The audit trail cannot record this login, so no token was issued; the attempt was still counted (a failed one toward the user lockout or your address limit, a successful password login clears the user count). Retry later.',
      },
      input: z.object({
        body: z.looseObject({ grant_type: z.string().max(64) }).transform((body, ctx) => {
          if (!Object.hasOwn(GRANTS, body.grant_type)) {
            ctx.addIssue({ code: 'custom', path: ['grant_type'], message: `unsupported grant_type; use one of ${GRANT_TYPES.join(', ')}` });
            return z.NEVER;
          }
          // The shape the body leans to decides, so a mistake is named by its own field.
          const flat = body.grant_type === 'aws_iam' && !Object.hasOwn(body, 'request') && Object.hasOwn(body, 'url');
          const parsed = (flat ? FLAT_AWS_IAM : GRANTS[body.grant_type as GrantType]).safeParse(body);
          if (!parsed.success) {
            // Name the fields that are wrong, never echo their values (one may be a secret).
            for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
            return z.NEVER;
          }
          return parsed.data;
        }),
      }),
      handle: async ({ input, request }) => {
        try {
          const login = await grant(auth, input.body, request);
          request.audit.identify(login.principal);
          return { status: 200, body: login.token };
        } catch (error) {
          // The trail says why (a caught refresh-token copy, a lockout); the answer does not.
          if (error instanceof UnauthenticatedError && error.auditReason) request.audit.note({ reason: error.auditReason });
          throw error;
        }
      },
    }),
    route({
      method: 'GET',
      resource: '/.well-known/jwks.json',
      // Public keys only, fetched by verifiers and caches: no identity, nothing to record.
      audit: false,
      input: z.object({}),
      handle: async () => ({
        status: 200,
        body: { keys: await signer.publicJwks() },
        headers: { 'Cache-Control': 'public, max-age=300' },
      }),
    }),
  ];
}

type GrantBody = { [K in GrantType]: z.output<(typeof GRANTS)[K]> }[GrantType];

async function grant(auth: Authentication, body: GrantBody, request: RequestInfo): Promise<Login> {
  // What the caller claims is recorded (for brute-force forensics) only when it has the
  // shape of an identifier, so a secret typed into the wrong field never lands in the trail.
  request.audit.note({ grantType: body.grant_type });
  switch (body.grant_type) {
    case 'client_credentials':
      if (CLIENT_ID.test(body.client_id)) request.audit.note({ clientId: body.client_id });
      return auth.clientCredentials(body.client_id, body.client_secret, request.sourceIp);
    case 'password': {
      if (TENANT_ID.test(body.tenant)) request.audit.note({ tenant: body.tenant });
      // The username only once it named a user: a password typed into the username field
      // (it may look like one) must not land in the trail.
      const nameUser = () => USERNAME.test(body.username) && request.audit.note({ username: body.username });
      try {
        const login = await auth.password({ tenant: body.tenant, username: body.username, password: body.password, ...(body.otp ? { otp: body.otp } : {}) });
        nameUser();
        return login;
      } catch (error) {
        if (error instanceof UnauthenticatedError && error.auditReason !== undefined && error.auditReason !== 'unknown-user') nameUser();
        throw error;
      }
    }
    case 'refresh_token': {
      // Tenant and session only, never the token: a reuse that revokes a session is traceable.
      const named = parseRefreshToken(body.refresh_token);
      if (named) request.audit.note({ tenant: named.tenantId, sessionId: named.sessionId });
      return auth.refresh(body.refresh_token);
    }
    case 'aws_iam':
      if (TENANT_ID.test(body.tenant)) request.audit.note({ tenant: body.tenant });
      return auth.awsIam({ tenant: body.tenant, request: body.request });
    case 'jwt':
      if (TENANT_ID.test(body.tenant)) request.audit.note({ tenant: body.tenant });
      return auth.jwt({ tenant: body.tenant, assertion: body.assertion, ...(body.role ? { role: body.role } : {}) });
  }
}
