import { z } from 'zod';
import { toJsonLines } from '../core/audit-archive';
import type { AuditTrail } from '../core/audit-trail';
import { SINK_NAME } from '../core/audit-sinks';
import { pageQuery, route } from '../http/api';

/**
 * Events per export response; a longer range continues with the `X-Next-Cursor` it returns.
 * An event is at most ~1.7 KB, so a page stays well under Lambda's 6 MB response limit.
 */
export const EXPORT_PAGE_EVENTS = 1000;

const isoTime = z.iso.datetime({ offset: true, message: 'an ISO 8601 time like 2026-11-24T00:00:00Z' }).transform((t) => new Date(t).toISOString());
const filters = {
  from: isoTime.optional(),
  to: isoTime.optional(),
  principal: z.string().min(1).max(256).optional(),
  path: z.string().min(1).max(2200).optional(),
  action: z.string().regex(/^[a-z]+(\.[a-z]+)*$/, 'an action like secret.read').max(64).optional(),
  outcome: z.enum(['success', 'denied', 'failure', 'error']).optional(),
};
const inRange = (q: { from?: string; to?: string }) => q.from === undefined || q.to === undefined || q.from < q.to;
const rangeMessage = { message: '`from` must be before `to`', path: ['from'] };

const sinkName = z.object({ name: z.string().regex(SINK_NAME, 'a sink name like siem-1 (a-z, 0-9, -)') });
const sinkTarget = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('webhook'), url: z.string().max(2048) }),
  z.strictObject({ type: z.literal('syslog'), host: z.string().min(1).max(253), port: z.number().int().min(1).max(65535) }),
]);
const sinkView = (sink: Awaited<ReturnType<AuditTrail['listSinks']>>[number]) => {
  const { tenantId: _tenantId, ...view } = sink;
  return view;
};

export function auditRoutes(trail: AuditTrail) {
  return [
    route({
      method: 'GET',
      resource: '/v1/audit/sinks',
      audit: { action: 'audit.sink.list' },
      input: z.object({ query: z.strictObject({}) }),
      handle: async ({ principal }) => ({ status: 200, body: { items: (await trail.listSinks(principal)).map(sinkView) } }),
    }),
    route({
      method: 'PUT',
      resource: '/v1/audit/sinks/{name}',
      audit: { action: 'audit.sink.put' },
      input: z.object({ params: sinkName, body: z.strictObject({ target: sinkTarget }) }),
      handle: async ({ input, principal, request }) => ({
        status: 200,
        body: sinkView(await trail.putSink(principal, input.params.name, input.body.target, request.audit)),
      }),
    }),
    route({
      method: 'DELETE',
      resource: '/v1/audit/sinks/{name}',
      audit: { action: 'audit.sink.delete' },
      input: z.object({ params: sinkName }),
      handle: async ({ input, principal, request }) => {
        await trail.deleteSink(principal, input.params.name, request.audit);
        return { status: 204 };
      },
    }),
    route({
      method: 'GET',
      resource: '/v1/audit',
      audit: { action: 'audit.query' },
      input: z.object({ query: z.strictObject({ ...filters, ...pageQuery }).refine(inRange, rangeMessage) }),
      handle: async ({ input, principal }) => {
        const page = await trail.query(principal, input.query);
        return { status: 200, body: { items: page.items, ...(page.cursor ? { nextCursor: page.cursor } : {}) } };
      },
    }),
    route({
      method: 'GET',
      resource: '/v1/audit/export',
      audit: { action: 'audit.export' },
      input: z.object({ query: z.strictObject({ ...filters, cursor: pageQuery.cursor }).refine(inRange, rangeMessage) }),
      handle: async ({ input, principal }) => {
        const page = await trail.query(principal, { ...input.query, limit: EXPORT_PAGE_EVENTS });
        return {
          status: 200,
          // Every chain field included, so an export can be verified offline.
          body: toJsonLines(page.items),
          headers: { 'Content-Type': 'application/x-ndjson', ...(page.cursor ? { 'X-Next-Cursor': page.cursor } : {}) },
        };
      },
    }),
  ];
}
