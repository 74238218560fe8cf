import { describe, expect, it } from 'vitest';
import { chainEvent, EMPTY_CHAIN, hashOf, type AuditEvent } from '../../../lambdas/core/audit';
import { batchKeys, signedMessage, unsignedDigest, verifyArchive } from '../../../lambdas/core/audit-archive';
import { AuditShipper } from '../../../lambdas/core/audit-shipper';
import { InternalError } from '../../../lambdas/core/errors';
import { buildChain, draft, FakeDigestSigner, headOf, InMemoryAuditArchive, InMemoryShippingSource, OTHER_TENANT, TENANT, type Op } from './fakes';

function setup(events: readonly AuditEvent[], batchSize = 3) {
  const log: Op[] = [];
  const source = new InMemoryShippingSource(log);
  source.append(TENANT, events);
  const archive = new InMemoryAuditArchive(log);
  const signer = new FakeDigestSigner();
  const shipper = new AuditShipper(source, archive, signer, { batchSize });
  const verify = async () =>
    verifyArchive(TENANT, await archive.readChain(TENANT), (d) =>
      signer.verify(signedMessage(d.digest), Buffer.from(d.signature, 'base64'), d.keyId, d.algorithm),
    );
  return { log, source, archive, signer, shipper, verify };
}

const key = (first: number, last: number, day = '2026-11-24') => batchKeys(TENANT, day, first, last).events;

describe('AuditShipper', () => {
  it('ships a chain from the genesis in batches of batchSize, oldest first', async () => {
    const events = buildChain(7);
    const { source, archive, shipper, log } = setup(events);

    const result = await shipper.shipChain(TENANT);

    expect(result).toEqual({ chain: TENANT, events: 7, objects: 3, shippedTo: 7 });
    expect(source.afterCalls).toEqual([
      { chain: TENANT, afterSeq: 0, limit: 3 },
      { chain: TENANT, afterSeq: 3, limit: 3 },
      { chain: TENANT, afterSeq: 6, limit: 3 },
      { chain: TENANT, afterSeq: 7, limit: 3 },
    ]);
    expect(log).toEqual([
      { op: 'putBatch', key: key(1, 3), seqs: [1, 2, 3] },
      { op: 'markShipped', chain: TENANT, from: 0, to: 3 },
      { op: 'putBatch', key: key(4, 6), seqs: [4, 5, 6] },
      { op: 'markShipped', chain: TENANT, from: 3, to: 6 },
      { op: 'putBatch', key: key(7, 7), seqs: [7] },
      { op: 'markShipped', chain: TENANT, from: 6, to: 7 },
    ]);
    expect(source.mark(TENANT)).toEqual(headOf(events[6]!));
    expect([...archive.objects.keys()]).toEqual([key(1, 3), key(4, 6), key(7, 7)]);
  });

  it('defaults to batches of 500', async () => {
    const { source } = setup(buildChain(2));
    await new AuditShipper(source, new InMemoryAuditArchive(), new FakeDigestSigner()).shipChain(TENANT);
    expect(source.afterCalls[0]).toEqual({ chain: TENANT, afterSeq: 0, limit: 500 });
  });

  it('resumes from the mark of the last run and ships only what follows it', async () => {
    const events = buildChain(7);
    const { source, archive, shipper } = setup(events);
    source.setMark(TENANT, headOf(events[3]!));

    const result = await shipper.shipChain(TENANT);

    expect(result).toEqual({ chain: TENANT, events: 3, objects: 1, shippedTo: 7 });
    expect(archive.puts.map((p) => p.batch.events.map((e) => e.seq))).toEqual([[5, 6, 7]]);
  });

  it('ships nothing and keeps the mark when no event follows it', async () => {
    const events = buildChain(3);
    const { source, archive, shipper, log } = setup(events);
    source.setMark(TENANT, headOf(events[2]!));

    expect(await shipper.shipChain(TENANT)).toEqual({ chain: TENANT, events: 0, objects: 0, shippedTo: 3 });
    expect(archive.puts).toEqual([]);
    expect(log).toEqual([]);
  });

  it('writes one object per UTC day within a round, then moves the mark once', async () => {
    const times = ['2026-11-24T23:59:59.000Z', '2026-11-24T23:59:59.999Z', '2026-11-25T00:00:00.000Z'];
    const events = buildChain(3, TENANT, (n) => times[n - 1]!);
    const { shipper, log } = setup(events, 10);

    expect(await shipper.shipChain(TENANT)).toEqual({ chain: TENANT, events: 3, objects: 2, shippedTo: 3 });
    expect(log).toEqual([
      { op: 'putBatch', key: key(1, 2, '2026-11-24'), seqs: [1, 2] },
      { op: 'putBatch', key: key(3, 3, '2026-11-25'), seqs: [3] },
      { op: 'markShipped', chain: TENANT, from: 0, to: 3 },
    ]);
  });

  it('signs each batch’s digest over the domain-separated message', async () => {
    const events = buildChain(4);
    const { archive, signer, shipper } = setup(events, 4);
    await shipper.shipChain(TENANT);

    const [{ batch, digest }] = archive.puts as [(typeof archive.puts)[number]];
    expect(batch).toEqual({ chain: TENANT, day: '2026-11-24', events });
    const unsigned = unsignedDigest({ chain: TENANT, day: '2026-11-24', events });
    expect(digest).toEqual({ ...unsigned, keyId: signer.keyId, algorithm: signer.algorithm, signature: expect.any(String) });
    expect(signer.signed.map((m) => Buffer.from(m).toString('utf8'))).toEqual([`coffer-audit-batch-v1:${unsigned.digest}`]);
    expect(await signer.verify(signedMessage(digest.digest), Buffer.from(digest.signature, 'base64'), digest.keyId, digest.algorithm)).toBe(true);
  });

  it('leaves an archive that verifies end to end', async () => {
    const { shipper, verify } = setup(buildChain(8));
    await shipper.shipChain(TENANT);
    const report = await verify();
    expect(report.problems).toEqual([]);
    expect([report.events, report.objects, report.lastSeq, report.duplicatesSkipped]).toEqual([8, 3, 8, 0]);
  });

  it('moves the mark only after the archive holds the batch', async () => {
    const events = buildChain(2);
    const { source, archive, shipper } = setup(events);
    archive.putBatch = async () => {
      throw new Error('S3 unavailable');
    };

    await expect(shipper.shipChain(TENANT)).rejects.toThrow('S3 unavailable');
    expect(source.mark(TENANT)).toEqual(EMPTY_CHAIN);
  });

  it('re-ships the same batch under the same name after a crash in markShipped, losing nothing', async () => {
    const events = buildChain(7);
    const { source, archive, shipper, log } = setup(events);
    source.setMark(TENANT, headOf(events[2]!));
    source.failMarkShipped = 1;

    await expect(shipper.shipChain(TENANT)).rejects.toThrow('simulated crash before the mark was recorded');
    expect(source.mark(TENANT)).toEqual(headOf(events[2]!));
    expect([...archive.objects.keys()]).toEqual([key(4, 6)]);

    const result = await shipper.shipChain(TENANT);

    expect(result).toEqual({ chain: TENANT, events: 4, objects: 2, shippedTo: 7 });
    expect(log).toEqual([
      { op: 'putBatch', key: key(4, 6), seqs: [4, 5, 6] },
      { op: 'putBatch', key: key(4, 6), seqs: [4, 5, 6] },
      { op: 'markShipped', chain: TENANT, from: 3, to: 6 },
      { op: 'putBatch', key: key(7, 7), seqs: [7] },
      { op: 'markShipped', chain: TENANT, from: 6, to: 7 },
    ]);
    expect([...archive.objects.values()].flatMap((o) => o.events.map((e) => e.seq))).toEqual([4, 5, 6, 7]);
  });

  it('after a crash mid-chain, the next run finishes and the archive verifies from the genesis', async () => {
    const { source, archive, shipper, verify } = setup(buildChain(7), 3);
    source.crashWhenMarkingTo = 6;

    await expect(shipper.shipChain(TENANT)).rejects.toThrow('simulated crash');
    expect(source.mark(TENANT).seq).toBe(3);
    expect(await shipper.shipChain(TENANT)).toEqual({ chain: TENANT, events: 4, objects: 2, shippedTo: 7 });

    expect(archive.puts.map((p) => p.batch.events.map((e) => e.seq))).toEqual([[1, 2, 3], [4, 5, 6], [4, 5, 6], [7]]);
    const report = await verify();
    expect(report.problems).toEqual([]);
    expect([report.events, report.objects, report.lastSeq, report.duplicatesSkipped]).toEqual([7, 3, 7, 0]);
  });

  it('when the re-run uses another batch size, the overlapping objects deduplicate and verify', async () => {
    const events = buildChain(7);
    const { source, archive, signer, shipper, verify } = setup(events, 3);
    source.crashWhenMarkingTo = 6;
    await expect(shipper.shipChain(TENANT)).rejects.toThrow('simulated crash');

    await new AuditShipper(source, archive, signer, { batchSize: 10 }).shipChain(TENANT);

    expect([...archive.objects.keys()]).toEqual([key(1, 3), key(4, 6), key(4, 7)]);
    const report = await verify();
    expect(report.problems).toEqual([]);
    expect([report.events, report.objects, report.lastSeq, report.duplicatesSkipped]).toEqual([7, 3, 7, 3]);
  });

  it('refuses a chain with an altered event, archiving nothing and keeping the mark', async () => {
    const events = buildChain(5);
    const { source, archive, shipper } = setup(events, 10);
    source.replace(TENANT, 3, { ...events[2]!, resource: 'prod/db/innocent' });

    const error = await shipper.shipChain(TENANT).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InternalError);
    expect((error as Error).message).toBe(`audit chain ${TENANT} does not verify after seq 0: event ${events[2]!.id}: content does not match its hash`);
    expect(archive.puts).toEqual([]);
    expect(source.mark(TENANT)).toEqual(EMPTY_CHAIN);
  });

  it('refuses at the batch holding the tampering, after shipping the good batches before it', async () => {
    const events = buildChain(7);
    const { source, archive, shipper } = setup(events, 3);
    source.remove(TENANT, 5);

    await expect(shipper.shipChain(TENANT)).rejects.toThrow(`audit chain ${TENANT} does not verify after seq 3: events 5–5 are missing`);
    expect(archive.puts.map((p) => p.batch.events.map((e) => e.seq))).toEqual([[1, 2, 3]]);
    expect(source.mark(TENANT)).toEqual(headOf(events[2]!));
  });

  it('refuses events that do not link to the shipped mark (rewritten and rehashed)', async () => {
    const events = buildChain(5);
    const { source, archive, shipper } = setup(events);
    source.setMark(TENANT, headOf(events[1]!));
    const { hash: _h, ...rest } = { ...events[2]!, prevHash: 'e'.repeat(64) };
    source.replace(TENANT, 3, { ...rest, hash: hashOf(rest) });

    await expect(shipper.shipChain(TENANT)).rejects.toThrow(`event ${events[2]!.id} does not link to seq 2`);
    expect(archive.puts).toEqual([]);
  });

  it('refuses an event of another chain slipped into this one', async () => {
    const events = buildChain(3);
    const { source, archive, shipper } = setup(events);
    source.append(TENANT, [chainEvent(headOf(events[2]!), draft({ n: 4, id: 'intruder', chain: OTHER_TENANT, tenantId: OTHER_TENANT }))]);
    source.setMark(TENANT, headOf(events[2]!));

    await expect(shipper.shipChain(TENANT)).rejects.toThrow(`event intruder belongs to chain ${OTHER_TENANT}`);
    expect(archive.puts).toEqual([]);
    expect(source.mark(TENANT)).toEqual(headOf(events[2]!));
  });
});
