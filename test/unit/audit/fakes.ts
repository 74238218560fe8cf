// In-memory fakes of the audit ports (lambdas/ports/audit-archive.ts) and small builders of
// drafts and chains. Each fake keeps a shared, ordered log of what happened so a test can
// assert *when* something happened (the mark moves only after the archive holds the batch).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { chainEvent, EMPTY_CHAIN, type AuditDraft, type AuditEvent, type ChainHead } from '../../../lambdas/core/audit';
import { batchKeys } from '../../../lambdas/core/audit-archive';
import type { ArchiveBatch, ArchivedObject, AuditSink, BatchDigest, SinkBatch, SinkTarget } from '../../../lambdas/ports/audit-archive';
import { ConflictError, NotFoundError } from '../../../lambdas/core/errors';
import type { PendingAudit } from '../../../lambdas/ports/audit-log';
import type { AuditArchive, AuditSinkStore, DigestSigner, ShippingSource, SinkDelivery } from '../../../lambdas/ports/audit-archive';
import type { Clock } from '../../../lambdas/ports/clock';

export const TENANT = 'ten_alpha';
export const OTHER_TENANT = 'ten_bravo';

// ---------------------------------------------------------------------------------------------
// Drafts and chains

export function draft(overrides: Partial<AuditDraft> & { readonly n?: number } = {}): AuditDraft {
  const { n = 1, ...rest } = overrides;
  return {
    id: `evt-${String(n).padStart(4, '0')}`,
    chain: TENANT,
    time: `2026-11-24T12:00:${String(n % 60).padStart(2, '0')}.000Z`,
    tenantId: TENANT,
    actor: { type: 'client', id: `${TENANT}.cli_1`, authMethod: 'client_credentials' },
    action: 'secret.read',
    resource: `prod/db/password-${n}`,
    outcome: 'success',
    status: 200,
    sourceIp: '203.0.113.7',
    userAgent: 'curl/8.5.0',
    correlationId: `corr-${n}`,
    region: 'eu-west-1',
    details: { version: n },
    ...rest,
  };
}

/** Links drafts in order from `anchor`, as the trail does when it appends. */
export function link(drafts: readonly AuditDraft[], anchor: ChainHead = EMPTY_CHAIN): AuditEvent[] {
  const events: AuditEvent[] = [];
  let head = anchor;
  for (const d of drafts) {
    const event = chainEvent(head, d);
    events.push(event);
    head = event;
  }
  return events;
}

/** A chain of `count` events (seq 1…count), each with a distinct id, on `chain`. */
export function buildChain(count: number, chain = TENANT, time?: (n: number) => string): AuditEvent[] {
  return link(
    Array.from({ length: count }, (_, i) =>
      draft({ n: i + 1, id: `${chain}-evt-${i + 1}`, chain, tenantId: chain, ...(time ? { time: time(i + 1) } : {}) }),
    ),
  );
}

export const headOf = (event: AuditEvent): ChainHead => ({ seq: event.seq, hash: event.hash });

// ---------------------------------------------------------------------------------------------
// DigestSigner: HMAC stands in for the KMS ECC key; verify accepts only what sign produced.

export class FakeDigestSigner implements DigestSigner {
  readonly signed: Uint8Array[] = [];
  constructor(
    readonly keyId = 'arn:aws:kms:eu-west-1:111122223333:key/audit',
    readonly algorithm = 'ECDSA_SHA_256',
    private readonly secret = 'audit-signing-key',
  ) {}

  async sign(message: Uint8Array): Promise<{ signature: Uint8Array; keyId: string; algorithm: string }> {
    this.signed.push(message);
    return { signature: this.mac(message), keyId: this.keyId, algorithm: this.algorithm };
  }

  async verify(message: Uint8Array, signature: Uint8Array, keyId: string, algorithm: string): Promise<boolean> {
    const expected = this.mac(message);
    return keyId === this.keyId && algorithm === this.algorithm && signature.length === expected.length && timingSafeEqual(signature, expected);
  }

  private mac(message: Uint8Array): Uint8Array {
    return createHmac('sha256', this.secret).update(message).digest();
  }
}

// ---------------------------------------------------------------------------------------------
// ShippingSource and AuditArchive, sharing one log of operations

export type Op =
  | { readonly op: 'putBatch'; readonly key: string; readonly seqs: readonly number[] }
  | { readonly op: 'markShipped'; readonly chain: string; readonly from: number; readonly to: number };

export class InMemoryShippingSource implements ShippingSource {
  private readonly chains = new Map<string, AuditEvent[]>();
  private readonly marks = new Map<string, ChainHead>();
  readonly afterCalls: { chain: string; afterSeq: number; limit: number }[] = [];
  /** Make the next N markShipped calls throw (a crash after the archive write). */
  failMarkShipped = 0;
  /** Make the one markShipped call that moves the mark to this seq throw. */
  crashWhenMarkingTo: number | undefined;

  constructor(readonly log: Op[] = []) {}

  append(chain: string, events: readonly AuditEvent[]): void {
    this.chains.set(chain, [...(this.chains.get(chain) ?? []), ...events]);
  }

  /** Replaces the stored event at `seq` (tampering in the primary trail). */
  replace(chain: string, seq: number, event: AuditEvent): void {
    const events = this.chains.get(chain) ?? [];
    this.chains.set(
      chain,
      events.map((e) => (e.seq === seq ? event : e)),
    );
  }

  remove(chain: string, seq: number): void {
    this.chains.set(
      chain,
      (this.chains.get(chain) ?? []).filter((e) => e.seq !== seq),
    );
  }

  mark(chain: string): ChainHead {
    return this.marks.get(chain) ?? { seq: 0, hash: '0'.repeat(64) };
  }

  setMark(chain: string, head: ChainHead): void {
    this.marks.set(chain, head);
  }

  async after(chain: string, afterSeq: number, limit: number): Promise<AuditEvent[]> {
    this.afterCalls.push({ chain, afterSeq, limit });
    return (this.chains.get(chain) ?? [])
      .filter((e) => e.seq > afterSeq)
      .sort((a, b) => a.seq - b.seq)
      .slice(0, limit);
  }

  async shipped(chain: string): Promise<ChainHead> {
    return this.mark(chain);
  }

  async markShipped(chain: string, from: ChainHead, to: ChainHead): Promise<void> {
    if (this.failMarkShipped > 0 || this.crashWhenMarkingTo === to.seq) {
      if (this.crashWhenMarkingTo === to.seq) this.crashWhenMarkingTo = undefined;
      else this.failMarkShipped--;
      throw new Error('simulated crash before the mark was recorded');
    }
    const current = this.mark(chain);
    if (current.seq !== from.seq || current.hash !== from.hash) throw new ConflictError(`mark of ${chain} moved`);
    this.marks.set(chain, to);
    this.log.push({ op: 'markShipped', chain, from: from.seq, to: to.seq });
  }
}

export class InMemoryAuditArchive implements AuditArchive {
  /** key of the events object → what it holds; a rewrite of the same key replaces it. */
  readonly objects = new Map<string, ArchivedObject>();
  readonly puts: { batch: ArchiveBatch; digest: BatchDigest }[] = [];

  constructor(readonly log: Op[] = []) {}

  async putBatch(batch: ArchiveBatch, digest: BatchDigest): Promise<void> {
    const first = batch.events[0]!.seq;
    const last = batch.events.at(-1)!.seq;
    const { events: key } = batchKeys(batch.chain, batch.day, first, last);
    this.objects.set(key, { key, events: [...batch.events], digest });
    this.puts.push({ batch, digest });
    this.log.push({ op: 'putBatch', key, seqs: batch.events.map((e) => e.seq) });
  }

  async readChain(chain: string): Promise<ArchivedObject[]> {
    return [...this.objects.values()].filter((o) => o.key.startsWith(`audit/${chain}/`));
  }
}

// ---------------------------------------------------------------------------------------------
// Sinks

export class InMemorySinkStore implements AuditSinkStore {
  private readonly sinks = new Map<string, AuditSink>();
  readonly deliveries: { tenantId: string; name: string; deliveredSeq: number; at: string }[] = [];
  readonly failures: { tenantId: string; name: string; error: string; at: string }[] = [];
  readonly listed: string[] = [];

  private static key(tenantId: string, name: string): string {
    return `${tenantId}/${name}`;
  }

  seed(tenantId: string, name: string, target: SinkTarget, deliveredSeq = 0): void {
    this.sinks.set(InMemorySinkStore.key(tenantId, name), {
      tenantId,
      name,
      target,
      createdAt: '2026-11-01T00:00:00.000Z',
      createdBy: `${tenantId}.cli_1`,
      status: { deliveredSeq, consecutiveFailures: 0 },
    });
  }

  get(tenantId: string, name: string): AuditSink | undefined {
    return this.sinks.get(InMemorySinkStore.key(tenantId, name));
  }

  async list(tenantId: string): Promise<AuditSink[]> {
    this.listed.push(tenantId);
    return [...this.sinks.values()].filter((s) => s.tenantId === tenantId).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async put(sink: Omit<AuditSink, 'status'>, _audit?: PendingAudit): Promise<AuditSink> {
    const existing = this.get(sink.tenantId, sink.name);
    const stored: AuditSink = { ...sink, status: existing?.status ?? { deliveredSeq: 0, consecutiveFailures: 0 } };
    this.sinks.set(InMemorySinkStore.key(sink.tenantId, sink.name), stored);
    return stored;
  }

  async delete(tenantId: string, name: string, _audit?: PendingAudit): Promise<void> {
    if (!this.sinks.delete(InMemorySinkStore.key(tenantId, name))) throw new NotFoundError(`no sink ${name}`);
  }

  async recordDelivery(tenantId: string, name: string, deliveredSeq: number, at: string): Promise<void> {
    this.deliveries.push({ tenantId, name, deliveredSeq, at });
    const sink = this.get(tenantId, name);
    if (!sink) throw new NotFoundError(`no sink ${name}`);
    this.sinks.set(InMemorySinkStore.key(tenantId, name), {
      ...sink,
      status: { ...sink.status, deliveredSeq, lastDeliveryAt: at, consecutiveFailures: 0 },
    });
  }

  async recordFailure(tenantId: string, name: string, error: string, at: string): Promise<void> {
    this.failures.push({ tenantId, name, error, at });
    const sink = this.get(tenantId, name);
    if (!sink) throw new NotFoundError(`no sink ${name}`);
    this.sinks.set(InMemorySinkStore.key(tenantId, name), {
      ...sink,
      status: { ...sink.status, lastError: error, lastErrorAt: at, consecutiveFailures: sink.status.consecutiveFailures + 1 },
    });
  }
}

const targetKey = (target: SinkTarget): string => (target.type === 'webhook' ? target.url : `syslog://${target.host}:${target.port}`);

/** Records every attempt; a target can be told to fail its next N attempts (or forever). */
export class ScriptedDelivery implements SinkDelivery {
  readonly attempts: { target: string; batch: SinkBatch; ok: boolean }[] = [];
  private readonly failures = new Map<string, number>();
  /** Fails every attempt for which this returns true (e.g. a batch the collector rejects). */
  failWhen: ((target: SinkTarget, batch: SinkBatch) => boolean) | undefined;

  failNext(target: SinkTarget, times = Number.POSITIVE_INFINITY): void {
    this.failures.set(targetKey(target), times);
  }

  heal(target: SinkTarget): void {
    this.failures.delete(targetKey(target));
  }

  delivered(target: SinkTarget): AuditEvent[] {
    return this.attempts.filter((a) => a.ok && a.target === targetKey(target)).flatMap((a) => [...a.batch.events]);
  }

  attemptsAt(target: SinkTarget): number {
    return this.attempts.filter((a) => a.target === targetKey(target)).length;
  }

  async deliver(target: SinkTarget, batch: SinkBatch): Promise<void> {
    const key = targetKey(target);
    const left = this.failures.get(key) ?? 0;
    if (left > 0 || this.failWhen?.(target, batch)) {
      if (left > 0) this.failures.set(key, left - 1);
      this.attempts.push({ target: key, batch, ok: false });
      throw new Error(`connect ECONNREFUSED ${key}`);
    }
    this.attempts.push({ target: key, batch, ok: true });
  }
}

export class FixedClock implements Clock {
  constructor(public ms = Date.parse('2026-11-24T13:00:00.000Z')) {}
  now(): number {
    return this.ms;
  }
}
