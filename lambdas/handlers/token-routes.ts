import { z } from 'zod';
import type { Authentication } from '../core/authentication';
import { InvalidRequestError } from '../core/errors';
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
      handle: async ({ input }) => {
        const { body } = input;
        if (body.grant_type !== 'client_credentials') throw new InvalidRequestError('unsupported grant_type');
        return { status: 200, body: await auth.clientCredentials(body.client_id, body.client_secret) };
      },
    }),
    route({
      method: 'GET',
      resource: '/.well-known/jwks.json',
      authenticated: false,
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
