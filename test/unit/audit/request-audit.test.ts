import { describe, expect, it } from 'vitest';
import { chainEvent, EMPTY_CHAIN } from '../../../lambdas/core/audit';
import type { PlatformPrincipal, TenantPrincipal } from '../../../lambdas/core/principal';
import { RequestAudit, type RequestFacts } from '../../../lambdas/http/request-audit';
import { TENANT } from './fakes';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const facts: RequestFacts = {
  action: 'secret.read',
  correlationId: 'corr-123',
  sourceIp: '203.0.113.7',
  userAgent: 'curl/8.5.0',
  region: 'eu-west-1',
  time: '2026-11-24T12:41:59.871Z',
};

const client: TenantPrincipal = { kind: 'tenant', tenantId: TENANT, type: 'client', id: `${TENANT}.cli_1`, roles: ['viewer'] };
const admin: PlatformPrincipal = { kind: 'platform', type: 'platform', id: 'admin' };

describe('RequestAudit', () => {
  it('drafts a tenant caller’s event on the tenant’s chain with every request fact', () => {
    const audit = new RequestAudit(facts, client);
    audit.about('prod/db/password');

    expect(audit.draft(200)).toEqual({
      id: expect.stringMatching(UUID),
      chain: TENANT,
      time: '2026-11-24T12:41:59.871Z',
      tenantId: TENANT,
      actor: { type: 'client', id: `${TENANT}.cli_1`, authMethod: 'client_credentials' },
      action: 'secret.read',
      resource: 'prod/db/password',
      outcome: 'success',
      status: 200,
      sourceIp: '203.0.113.7',
      userAgent: 'curl/8.5.0',
      correlationId: 'corr-123',
      region: 'eu-west-1',
      details: {},
    });
  });

  it('gives every draft its own id', () => {
    const audit = new RequestAudit(facts, client);
    expect(audit.draft(200).id).not.toBe(audit.draft(200).id);
  });

  it('puts an unidentified caller on the platform chain as anonymous', () => {
    const d = new RequestAudit({ ...facts, action: 'auth.verify' }).draft(401);
    expect(d.chain).toBe('platform');
    expect(d.tenantId).toBeNull();
    expect(d.actor).toEqual({ type: 'anonymous', id: null, authMethod: null });
    expect([d.action, d.outcome, d.status, d.resource]).toEqual(['auth.verify', 'denied', 401, null]);
  });

  it('puts the platform admin’s events on the platform chain', () => {
    const d = new RequestAudit({ ...facts, action: 'tenant.create' }, admin).draft(201);
    expect(d.chain).toBe('platform');
    expect(d.tenantId).toBeNull();
    expect(d.actor).toEqual({ type: 'platform', id: 'admin', authMethod: 'client_credentials' });
  });

  it('moves the event to the caller’s chain once identify() learns who it is', () => {
    const audit = new RequestAudit({ ...facts, action: 'token.issue' });
    expect(audit.draft(200).chain).toBe('platform');

    audit.identify(client);
    const d = audit.draft(200);
    expect(d.chain).toBe(TENANT);
    expect(d.tenantId).toBe(TENANT);
    expect(d.actor).toEqual({ type: 'client', id: `${TENANT}.cli_1`, authMethod: 'client_credentials' });

    audit.identify(admin);
    expect([audit.draft(200).chain, audit.draft(200).tenantId, audit.draft(200).actor.type]).toEqual(['platform', null, 'platform']);
  });

  it('derives the outcome from the status', () => {
    const audit = new RequestAudit(facts, client);
    expect([200, 204, 400, 401, 403, 404, 412, 500, 503].map((s) => audit.draft(s).outcome)).toEqual([
      'success',
      'success',
      'failure',
      'denied',
      'denied',
      'failure',
      'failure',
      'error',
      'error',
    ]);
  });

  describe('about()', () => {
    it('drops control characters from the resource', () => {
      const audit = new RequestAudit(facts, client);
      audit.about('prod/\u0000db\n/\u001b[31mpass\u007fword\u0085\r\t');
      expect(audit.draft(200).resource).toBe('prod/db/[31mpassword');
    });

    it('caps the resource at 512 characters, counted after the control characters are gone', () => {
      const audit = new RequestAudit(facts, client);
      audit.about('a'.repeat(600));
      expect(audit.draft(200).resource).toBe('a'.repeat(512));
      audit.about(`${'\n'.repeat(50)}${'b'.repeat(511)}c`);
      expect(audit.draft(200).resource).toBe(`${'b'.repeat(511)}c`);
    });

    it('keeps the last resource named', () => {
      const audit = new RequestAudit(facts, client);
      audit.about('first');
      audit.about('second');
      expect(audit.draft(200).resource).toBe('second');
    });
  });

  it('cleans the user agent the same way', () => {
    const d = new RequestAudit({ ...facts, userAgent: `evil\r\nX-Injected: 1${'z'.repeat(600)}` }, client).draft(200);
    expect(d.userAgent).toBe(`evilX-Injected: 1${'z'.repeat(495)}`);
    expect(d.userAgent).toHaveLength(512);
  });

  describe('details', () => {
    it('carries the error code next to the facts noted so far', () => {
      const audit = new RequestAudit(facts, client);
      audit.note({ version: 2 });
      expect(audit.draft(409, 'version-conflict').details).toEqual({ version: 2, error: 'version-conflict' });
      expect(audit.draft(200).details).toEqual({ version: 2 });
    });

    it('merges notes, a later value winning', () => {
      const audit = new RequestAudit(facts, client);
      audit.note({ version: 2, clientId: 'cli_1' });
      audit.note({ version: 3, created: true });
      expect(audit.draft(201).details).toEqual({ version: 3, clientId: 'cli_1', created: true });
    });

    it('gives each draft its own copy', () => {
      const audit = new RequestAudit(facts, client);
      const before = audit.draft(200);
      audit.note({ version: 9 });
      expect(before.details).toEqual({});
      expect(audit.draft(200, 'x').details).toEqual({ version: 9, error: 'x' });
      expect(audit.draft(200).details).toEqual({ version: 9 });
    });
  });

  describe('pending()', () => {
    it('hands a store the draft for the mutation, its details noted', () => {
      const audit = new RequestAudit({ ...facts, action: 'secret.write' }, client);
      audit.about('prod/db/password');
      const pending = audit.pending(201, { version: 3 });
      expect(pending.draft).toMatchObject({
        chain: TENANT,
        action: 'secret.write',
        resource: 'prod/db/password',
        status: 201,
        outcome: 'success',
        details: { version: 3 },
      });
      expect(audit.draft(201).details).toEqual({ version: 3 });
    });

    it('learns the event the store recorded through recorded()', () => {
      const audit = new RequestAudit(facts, client);
      const pending = audit.pending(200);
      expect(audit.recorded).toBeUndefined();

      const event = chainEvent(EMPTY_CHAIN, pending.draft);
      pending.recorded(event);

      expect(audit.recorded).toBe(event);
      expect(audit.recorded?.id).toBe(pending.draft.id);
    });
  });
});
