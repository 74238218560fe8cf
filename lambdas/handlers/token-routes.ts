import { z } from 'zod';
import type { Authentication } from '../core/authentication';
import { InvalidRequestError } from '../core/errors';
import { CLIENT_ID } from '../core/ids';
import { route } from '../http/api';
import type { TokenSigner } from '../ports/key-service';

const SUPPORTED_GRANTS = ['client_credentials'] as const;

const clientCredentials = z.strictObject({
  grant_type: z.literal('client_credentials'),
  client_id: z.string().min(1).max(256),
  client_secret: z.string().min(1).max(512),
});

export function tokenRoutes(auth: Authentication, signer: TokenSigner) {
  return [
    route({
      method: 'POST',
      resource: '/v1/token',
      authenticated: false,
      audit: { action: 'token.issue' },
      body: 'json-or-form',
      input: z.object({
        body: z.looseObject({ grant_type: z.string().max(64) }).transform((body, ctx) => {
          if (!(SUPPORTED_GRANTS as readonly string[]).includes(body.grant_type)) {
            ctx.addIssue({ code: 'custom', path: ['grant_type'], message: `unsupported grant_type; use one of ${SUPPORTED_GRANTS.join(', ')}` });
            return z.NEVER;
          }
          const parsed = clientCredentials.safeParse(body);
          if (!parsed.success) {
            // Name the fields that are wrong, never echo their values (one may be a secret).
            for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
            return z.NEVER;
          }
          return parsed.data;
        }),
      }),
      handle: async ({ input, request }) => {
        const { body } = input;
        if (body.grant_type !== 'client_credentials') throw new InvalidRequestError('unsupported grant_type');
        // The id a caller claims is recorded (for brute-force forensics) only when it has the
        // shape of a client id, so a secret typed into the wrong field never lands in the trail.
        if (CLIENT_ID.test(body.client_id)) request.audit.note({ clientId: body.client_id });
        const { principal, token } = await auth.authenticateClient(body.client_id, body.client_secret);
        request.audit.identify(principal);
        return { status: 200, body: token };
      },
    }),
    route({
      method: 'GET',
      resource: '/.well-known/jwks.json',
      authenticated: false,
      // Public keys only, fetched by verifiers and caches: no identity, nothing to record.
      audit: false,
      body: 'none',
      input: z.object({}),
      handle: async () => ({
        status: 200,
        body: { keys: await signer.publicJwks() },
        headers: { 'Cache-Control': 'public, max-age=300' },
      }),
    }),
  ];
}
