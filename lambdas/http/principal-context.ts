import { z } from 'zod';
import { TENANT_ID } from '../core/ids';
import { ROLES, type Principal } from '../core/principal';

// What the authorizer puts in the request context (API Gateway allows only flat string,
// number and boolean values), and how the handler reads it back — validated again, since
// a handler must never trust a shape it did not check.
export interface AuthorizerContext {
  [key: string]: string;
  principalType: 'client' | 'user' | 'platform';
  principalId: string;
  tenantId: string;
  roles: string;
}

const ContextSchema = z.discriminatedUnion('principalType', [
  z.object({
    principalType: z.literal('platform'),
    principalId: z.string().min(1),
  }),
  z.object({
    principalType: z.enum(['client', 'user']),
    principalId: z.string().min(1),
    tenantId: z.string().regex(TENANT_ID),
    roles: z.string().transform((s, ctx) => {
      const roles = s.split(',').filter(Boolean);
      const parsed = z.array(z.enum(ROLES)).safeParse(roles);
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: 'unknown role' });
        return z.NEVER;
      }
      return parsed.data;
    }),
  }),
]);

export function toAuthorizerContext(p: Principal): AuthorizerContext {
  return p.kind === 'platform'
    ? { principalType: 'platform', principalId: p.id, tenantId: '', roles: '' }
    : { principalType: p.type, principalId: p.id, tenantId: p.tenantId, roles: p.roles.join(',') };
}

export function principalFromAuthorizerContext(raw: unknown): Principal | undefined {
  const parsed = ContextSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const c = parsed.data;
  return c.principalType === 'platform'
    ? { kind: 'platform', type: 'platform', id: c.principalId }
    : { kind: 'tenant', type: c.principalType, id: c.principalId, tenantId: c.tenantId, roles: c.roles };
}
