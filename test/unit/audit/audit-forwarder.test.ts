import { afterEach, describe, expect, it, vi } from 'vitest';
import { PLATFORM_CHAIN } from '../../../lambdas/core/audit';
import { signedMessage, unsignedDigest } from '../../../lambdas/core/audit-archive';
import { AuditForwarder } from '../../../lambdas/core/audit-forwarder';
import type { SinkBatch, SinkTarget } from '../../../lambdas/ports/audit-archive';
import type { SinkDelivery } from '../../../lambdas/ports/audit-archive';
import { buildChain, FakeDigestSigner, FixedClock, InMemoryShippingSource, InMemorySinkStore, OTHER_TENANT, ScriptedDelivery, TENANT } from './fakes';

const HOOK: SinkTarget = { type: 'webhook', url: 'https://hooks.example.com/coffer' };
const SYSLOG: SinkTarget = { type: 'syslog', host: 'logs.example.com', port: 6514 };
const NOW = '2026-11-24T13:00:00.000Z';

function setup(count = 5, options: { batchSize?: number } = {}) {
  const events = buildChain(count);
  const source = new InMemoryShippingSource();
  source.append(TENANT, events);
  // The shipper has archived all of them: sinks get what it verified, up to its mark.
  const last = events.at(-1)!;
  source.setMark(TENANT, { seq: last.seq, hash: last.hash });
  const sinks = new InMemorySinkStore();
  const delivery = new ScriptedDelivery();
  const signer = new FakeDigestSigner();
  const clock = new FixedClock(Date.parse(NOW));
  const forwarder = new AuditForwarder(source, sinks, delivery, signer, clock, { backoffMs: 1, ...options });
  return { events, source, sinks, delivery, signer, clock, forwarder };
}

const seqs = (events: readonly { seq: number }[]) => events.map((e) => e.seq);

describe('AuditForwarder', () => {
  it('forwards only what the shipper has verified and archived (up to its mark)', async () => {
    const { source, sinks, delivery, forwarder, events } = setup(5);
    source.setMark(TENANT, { seq: 3, hash: events[2]!.hash });
    sinks.seed(TENANT, 'a-hook', HOOK, 0);
    expect(await forwarder.forward(TENANT)).toEqual([{ sink: 'a-hook', delivered: 3 }]);
    expect(seqs(delivery.delivered(HOOK))).toEqual([1, 2, 3]);
  });

  it('starts no new batch once the deadline has passed', async () => {
    const { sinks, delivery, forwarder, clock } = setup(5);
    sinks.seed(TENANT, 'a-hook', HOOK, 0);
    expect(await forwarder.forward(TENANT, clock.now())).toEqual([{ sink: 'a-hook', delivered: 0 }]);
    expect(delivery.attempts).toEqual([]);
  });

  it('never forwards the platform chain, and does not even look up sinks for it', async () => {
    const { source, sinks, delivery, forwarder } = setup();
    source.append(PLATFORM_CHAIN, buildChain(3, PLATFORM_CHAIN));
    sinks.seed(PLATFORM_CHAIN, 'sneaky', HOOK);

    expect(await forwarder.forward(PLATFORM_CHAIN)).toEqual([]);
    expect(sinks.listed).toEqual([]);
    expect(delivery.attempts).toEqual([]);
    expect(source.afterCalls).toEqual([]);
  });

  it('answers with no results for a tenant without sinks', async () => {
    const { sinks, delivery, forwarder } = setup();
    expect(await forwarder.forward(TENANT)).toEqual([]);
    expect(sinks.listed).toEqual([TENANT]);
    expect(delivery.attempts).toEqual([]);
  });

  it('delivers to each sink from that sink’s own mark', async () => {
    const { sinks, delivery, forwarder } = setup(5);
    sinks.seed(TENANT, 'a-hook', HOOK, 0);
    sinks.seed(TENANT, 'b-syslog', SYSLOG, 3);

    expect(await forwarder.forward(TENANT)).toEqual([
      { sink: 'a-hook', delivered: 5 },
      { sink: 'b-syslog', delivered: 2 },
    ]);
    expect(seqs(delivery.delivered(HOOK))).toEqual([1, 2, 3, 4, 5]);
    expect(seqs(delivery.delivered(SYSLOG))).toEqual([4, 5]);
    expect(sinks.deliveries).toEqual([
      { tenantId: TENANT, name: 'a-hook', deliveredSeq: 5, at: NOW },
      { tenantId: TENANT, name: 'b-syslog', deliveredSeq: 5, at: NOW },
    ]);
    expect(sinks.get(TENANT, 'b-syslog')!.status).toEqual({ deliveredSeq: 5, lastDeliveryAt: NOW, consecutiveFailures: 0 });
  });

  it('only forwards the tenant’s own chain to the tenant’s own sinks', async () => {
    const { source, sinks, delivery, forwarder } = setup(2);
    source.append(OTHER_TENANT, buildChain(4, OTHER_TENANT));
    sinks.seed(OTHER_TENANT, 'theirs', SYSLOG);
    sinks.seed(TENANT, 'ours', HOOK);

    await forwarder.forward(TENANT);
    expect(delivery.delivered(SYSLOG)).toEqual([]);
    expect(delivery.delivered(HOOK).map((e) => e.chain)).toEqual([TENANT, TENANT]);
  });

  it('sends batches of batchSize and records the mark after each one', async () => {
    const { sinks, delivery, forwarder } = setup(5, { batchSize: 2 });
    sinks.seed(TENANT, 'hook', HOOK);

    expect(await forwarder.forward(TENANT)).toEqual([{ sink: 'hook', delivered: 5 }]);
    expect(delivery.attempts.map((a) => seqs(a.batch.events))).toEqual([[1, 2], [3, 4], [5]]);
    expect(sinks.deliveries.map((d) => d.deliveredSeq)).toEqual([2, 4, 5]);
  });

  it('sends each batch with its chain and a digest signed over the domain-separated message', async () => {
    const { events, sinks, delivery, signer, forwarder } = setup(3);
    sinks.seed(TENANT, 'hook', HOOK);
    await forwarder.forward(TENANT);

    const batch = delivery.attempts[0]!.batch;
    const unsigned = unsignedDigest({ chain: TENANT, day: '', events });
    expect(batch.chain).toBe(TENANT);
    expect(batch.events).toEqual(events);
    expect(batch.digest).toEqual({ ...unsigned, keyId: signer.keyId, algorithm: signer.algorithm, signature: expect.any(String) });
    expect(
      await signer.verify(signedMessage(batch.digest.digest), Buffer.from(batch.digest.signature, 'base64'), batch.digest.keyId, batch.digest.algorithm),
    ).toBe(true);
  });

  it('tries a failing delivery three times, then records the failure and keeps the mark', async () => {
    const { sinks, delivery, forwarder } = setup(5);
    sinks.seed(TENANT, 'hook', HOOK, 1);
    delivery.failNext(HOOK);

    const error = 'connect ECONNREFUSED https://hooks.example.com/coffer';
    expect(await forwarder.forward(TENANT)).toEqual([{ sink: 'hook', delivered: 0, error }]);
    expect(delivery.attemptsAt(HOOK)).toBe(3);
    expect(delivery.attempts.map((a) => seqs(a.batch.events))).toEqual([
      [2, 3, 4, 5],
      [2, 3, 4, 5],
      [2, 3, 4, 5],
    ]);
    expect(sinks.failures).toEqual([{ tenantId: TENANT, name: 'hook', error, at: NOW }]);
    expect(sinks.deliveries).toEqual([]);
    expect(sinks.get(TENANT, 'hook')!.status).toEqual({ deliveredSeq: 1, lastError: error, lastErrorAt: NOW, consecutiveFailures: 1 });
  });

  it('succeeds without a recorded failure when a retry gets through', async () => {
    const { sinks, delivery, forwarder } = setup(3);
    sinks.seed(TENANT, 'hook', HOOK);
    delivery.failNext(HOOK, 2);

    expect(await forwarder.forward(TENANT)).toEqual([{ sink: 'hook', delivered: 3 }]);
    expect(delivery.attempts.map((a) => a.ok)).toEqual([false, false, true]);
    expect(sinks.failures).toEqual([]);
    expect(sinks.get(TENANT, 'hook')!.status.deliveredSeq).toBe(3);
  });

  it('delivers the whole backlog on a later run once the target is back', async () => {
    const { source, events, sinks, delivery, forwarder } = setup(3);
    sinks.seed(TENANT, 'hook', HOOK);
    delivery.failNext(HOOK);
    await forwarder.forward(TENANT);
    expect(delivery.delivered(HOOK)).toEqual([]);

    delivery.heal(HOOK);
    const late = buildChain(5).slice(3).map((e, i) => ({ ...e, id: `late-${i}` }));
    source.append(TENANT, late);
    source.setMark(TENANT, { seq: 5, hash: late.at(-1)!.hash });
    const rerun = new AuditForwarder(source, sinks, delivery, new FakeDigestSigner(), new FixedClock(Date.parse(NOW) + 60_000), { backoffMs: 1 });

    expect(await rerun.forward(TENANT)).toEqual([{ sink: 'hook', delivered: 5 }]);
    expect(seqs(delivery.delivered(HOOK))).toEqual([1, 2, 3, 4, 5]);
    expect(delivery.delivered(HOOK).slice(0, 3)).toEqual(events);
    expect(sinks.get(TENANT, 'hook')!.status).toEqual({
      deliveredSeq: 5,
      lastDeliveryAt: '2026-11-24T13:01:00.000Z',
      lastError: 'connect ECONNREFUSED https://hooks.example.com/coffer',
      lastErrorAt: NOW,
      consecutiveFailures: 0,
    });
  });

  it('keeps the mark of the batches that got through when a later batch fails', async () => {
    const { sinks, delivery, forwarder } = setup(5, { batchSize: 2 });
    sinks.seed(TENANT, 'hook', HOOK);
    delivery.failWhen = (_target, batch: SinkBatch) => batch.events.some((e) => e.seq === 3);

    expect(await forwarder.forward(TENANT)).toEqual([{ sink: 'hook', delivered: 2, error: 'connect ECONNREFUSED https://hooks.example.com/coffer' }]);
    expect(sinks.get(TENANT, 'hook')!.status.deliveredSeq).toBe(2);

    delivery.failWhen = undefined;
    expect(await forwarder.forward(TENANT)).toEqual([{ sink: 'hook', delivered: 3 }]);
    expect(seqs(delivery.delivered(HOOK))).toEqual([1, 2, 3, 4, 5]);
  });

  it('does not let one failing sink stop another', async () => {
    const { sinks, delivery, forwarder } = setup(4);
    sinks.seed(TENANT, 'a-broken', HOOK);
    sinks.seed(TENANT, 'b-fine', SYSLOG);
    delivery.failNext(HOOK);

    expect(await forwarder.forward(TENANT)).toEqual([
      { sink: 'a-broken', delivered: 0, error: 'connect ECONNREFUSED https://hooks.example.com/coffer' },
      { sink: 'b-fine', delivered: 4 },
    ]);
    expect(seqs(delivery.delivered(SYSLOG))).toEqual([1, 2, 3, 4]);
    expect(sinks.get(TENANT, 'b-fine')!.status.deliveredSeq).toBe(4);
    expect(sinks.get(TENANT, 'a-broken')!.status.deliveredSeq).toBe(0);
  });

  it('caps a recorded error at 300 characters', async () => {
    const { source, sinks, signer, clock } = setup(1);
    sinks.seed(TENANT, 'hook', HOOK);
    const verbose: SinkDelivery = {
      deliver: async () => {
        throw new Error('x'.repeat(400));
      },
    };
    const forwarder = new AuditForwarder(source, sinks, verbose, signer, clock, { backoffMs: 1 });

    const [result] = await forwarder.forward(TENANT);
    expect(result!.error).toBe('x'.repeat(300));
    expect(sinks.failures[0]!.error).toBe('x'.repeat(300));
  });

  it('still answers, with the error, when recording the failure fails too', async () => {
    const { sinks, delivery, forwarder } = setup(1);
    sinks.seed(TENANT, 'hook', HOOK);
    delivery.failNext(HOOK);
    sinks.recordFailure = async () => {
      throw new Error('DynamoDB unavailable');
    };

    expect(await forwarder.forward(TENANT)).toEqual([{ sink: 'hook', delivered: 0, error: 'connect ECONNREFUSED https://hooks.example.com/coffer' }]);
  });

  describe('backoff', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('waits 0.2 s, then 0.8 s, between the three attempts by default', async () => {
      vi.useFakeTimers();
      const events = buildChain(1);
      const source = new InMemoryShippingSource();
      source.append(TENANT, events);
      source.setMark(TENANT, { seq: 1, hash: events[0]!.hash });
      const sinks = new InMemorySinkStore();
      sinks.seed(TENANT, 'hook', HOOK);
      const delivery = new ScriptedDelivery();
      delivery.failNext(HOOK);
      const forwarder = new AuditForwarder(source, sinks, delivery, new FakeDigestSigner(), new FixedClock());

      const done = forwarder.forward(TENANT);
      await vi.advanceTimersByTimeAsync(199);
      expect(delivery.attemptsAt(HOOK)).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(delivery.attemptsAt(HOOK)).toBe(2);
      await vi.advanceTimersByTimeAsync(799);
      expect(delivery.attemptsAt(HOOK)).toBe(2);
      await vi.advanceTimersByTimeAsync(1);
      expect(delivery.attemptsAt(HOOK)).toBe(3);
      expect((await done)[0]!.error).toBe('connect ECONNREFUSED https://hooks.example.com/coffer');
      expect(delivery.attemptsAt(HOOK)).toBe(3);
    });
  });
});
