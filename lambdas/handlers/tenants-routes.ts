import { z } from 'zod';
import { TENANT_ID } from '../core/ids';
import type { Tenants } from '../core/tenants';
import { pageQuery, route } from '../http/api';
import { PLANS, type TenantRecord } from '../ports/tenant-repository';

const tenantView = (t: TenantRecord) => ({
  tenantId: t.tenantId,
  name: t.name,
  plan: t.plan,
  status: t.status,
  createdAt: t.createdAt,
  createdBy: t.createdBy,
  regions: Object.keys(t.keys),
  keyAlias: `alias/coffer/${t.tenantId}`,
});

export function tenantsRoutes(tenants: Tenants) {
  return [
    route({
      method: 'POST',
      resource: '/v1/admin/tenants',
      audit: { action: 'tenant.create' },
      input: z.object({
        body: z.strictObject({
          name: z.string().trim().min(1).max(128),
          plan: z.enum(PLANS).optional(),
        }),
      }),
      handle: async ({ input, principal, request }) => {
        const { tenant, owner } = await tenants.onboard(principal, input.body, request.audit);
        return {
          status: 201,
          body: { ...tenantView(tenant), owner: { ...owner, roles: ['owner'] } },
          headers: { Location: `/v1/admin/tenants/${tenant.tenantId}` },
        };
      },
    }),
    route({
      method: 'GET',
      resource: '/v1/admin/tenants',
      audit: { action: 'tenant.list' },
      input: z.object({ query: z.strictObject(pageQuery) }),
      handle: async ({ input, principal }) => {
        const { limit, cursor } = input.query;
        const page = await tenants.list(principal, { limit, ...(cursor ? { cursor } : {}) });
        return { status: 200, body: { items: page.items.map(tenantView), ...(page.cursor ? { nextCursor: page.cursor } : {}) } };
      },
    }),
    route({
      method: 'GET',
      resource: '/v1/admin/tenants/{tenantId}',
      audit: { action: 'tenant.read' },
      input: z.object({ params: z.object({ tenantId: z.string().regex(TENANT_ID, 'a tenant id like ten_…') }) }),
      handle: async ({ input, principal }) => ({ status: 200, body: tenantView(await tenants.get(principal, input.params.tenantId)) }),
    }),
  ];
}
