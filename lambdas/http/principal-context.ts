import { z } from 'zod';
import { TENANT_ID } from '../core/ids';
import { AUTH_METHODS, ROLES, TENANT_PRINCIPAL_TYPES, type Principal } from '../core/principal';

// What the authorizer puts in the request context (API Gateway allows only flat string,
// number and boolean values), and how the handler reads it back — validated again, since
// a handler must never trust a shape it did not check.
export interface AuthorizerContext {
  [key: string]: string;
  principalType: Principal['type'];
  principalId: string;
  tenantId: string;
  roles: string;
  groups: string;
  authMethod: string;
  mfa: string;
  sessionId: string;
}

const list = <T extends z.ZodType>(item: T) =>
  z.string().transform((s, ctx) => {
    const parsed = z.array(item).safeParse(s.split(',').filter(Boolean));
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: 'unexpected list item' });
      return z.NEVER;
    }
    return parsed.data as z.output<T>[];
  });

const common = {
  principalId: z.string().min(1),
  authMethod: z.enum(AUTH_METHODS).optional().catch(undefined),
  sessionId: z.string().max(64).optional().transform((s) => s || undefined),
};

const ContextSchema = z.discriminatedUnion('principalType', [
  z.object({ principalType: z.literal('platform'), ...common }),
  z.object({
    principalType: z.enum(TENANT_PRINCIPAL_TYPES),
    ...common,
    tenantId: z.string().regex(TENANT_ID),
    roles: list(z.enum(ROLES)),
    groups: list(z.string().min(1).max(64)).optional(),
    mfa: z.enum(['true', 'false']).optional(),
  }),
]);

export function toAuthorizerContext(p: Principal): AuthorizerContext {
  const common = { principalId: p.id, authMethod: p.authMethod ?? '', sessionId: p.sessionId ?? '' };
  return p.kind === 'platform'
    ? { principalType: 'platform', ...common, tenantId: '', roles: '', groups: '', mfa: 'false' }
    : {
        principalType: p.type,
        ...common,
        tenantId: p.tenantId,
        roles: p.roles.join(','),
        groups: (p.groups ?? []).join(','),
        mfa: String(p.mfa === true),
      };
}

export function principalFromAuthorizerContext(raw: unknown): Principal | undefined {
  const parsed = ContextSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const c = parsed.data;
  const session = {
    ...(c.authMethod ? { authMethod: c.authMethod } : {}),
    ...(c.sessionId ? { sessionId: c.sessionId } : {}),
  };
  return c.principalType === 'platform'
    ? { kind: 'platform', type: 'platform', id: c.principalId, ...session }
    : {
        kind: 'tenant',
        type: c.principalType,
        id: c.principalId,
        tenantId: c.tenantId,
        roles: c.roles,
        groups: c.groups ?? [],
        mfa: c.mfa === 'true',
        ...session,
      };
}
