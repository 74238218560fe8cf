import type { ArchiveBatch, ArchivedObject, BatchDigest, DigestSigner } from '../ports/audit-archive';
import { batchDigest, verifyChain, type AuditEvent, type ChainHead, type ChainProblem, type ChainReport } from './audit';

// How audit events are laid out in the archive (S3, Object Lock) and how an archived chain
// is verified. Pure: the shipper and the `verify` tool share it.

export const DIGEST_FORMAT: BatchDigest['format'] = 'coffer-audit-batch-v1';

/** Per-tenant, per-day prefix: `audit/<chain>/<yyyy>/<mm>/<dd>/`. */
export function dayPrefix(chain: string, day: string): string {
  const [yyyy, mm, dd] = day.split('-');
  return `audit/${chain}/${yyyy}/${mm}/${dd}/`;
}

export function chainPrefix(chain: string): string {
  return `audit/${chain}/`;
}

/**
 * `<first seq>-<last seq>` names a batch: a batch shipped twice (the shipper crashed before
 * recording its progress) lands under the same name again, and overlapping batches
 * deduplicate by event id on the way out.
 */
export function batchKeys(chain: string, day: string, firstSeq: number, lastSeq: number) {
  const base = `${dayPrefix(chain, day)}${pad(firstSeq)}-${pad(lastSeq)}`;
  return { events: `${base}.jsonl.gz`, digest: `${base}.digest.json` };
}

const pad = (seq: number) => String(seq).padStart(12, '0');

/** Splits consecutive events into one batch per UTC day, keeping their order. */
export function batchesByDay(chain: string, events: readonly AuditEvent[]): ArchiveBatch[] {
  const batches: { chain: string; day: string; events: AuditEvent[] }[] = [];
  for (const event of events) {
    const day = event.time.slice(0, 10);
    const last = batches.at(-1);
    if (last && last.day === day) last.events.push(event);
    else batches.push({ chain, day, events: [event] });
  }
  return batches;
}

export function toJsonLines(events: readonly AuditEvent[]): string {
  return events.map((event) => `${JSON.stringify(event)}\n`).join('');
}

export function fromJsonLines(text: string): AuditEvent[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AuditEvent);
}

/** Domain-separated, so no other signature by the audit key can pass for a batch's. */
export function signedMessage(digest: string): Uint8Array {
  return Buffer.from(`${DIGEST_FORMAT}:${digest}`, 'utf8');
}

/** Signs a batch's digest over the domain-separated message: the shipper's and the sinks'. */
export async function signDigest(signer: DigestSigner, unsigned: Omit<BatchDigest, 'keyId' | 'algorithm' | 'signature'>): Promise<BatchDigest> {
  const { signature, keyId, algorithm } = await signer.sign(signedMessage(unsigned.digest));
  return { ...unsigned, keyId, algorithm, signature: Buffer.from(signature).toString('base64') };
}

export function unsignedDigest(batch: ArchiveBatch): Omit<BatchDigest, 'keyId' | 'algorithm' | 'signature'> {
  const first = batch.events[0]!;
  const last = batch.events.at(-1)!;
  return {
    format: DIGEST_FORMAT,
    chain: batch.chain,
    firstSeq: first.seq,
    lastSeq: last.seq,
    count: batch.events.length,
    prevHash: first.prevHash,
    lastHash: last.hash,
    digest: batchDigest(batch.chain, batch.events),
  };
}

export type VerifySignature = (digest: BatchDigest) => Promise<boolean>;

export interface ArchiveReport extends ChainReport {
  readonly objects: number;
  readonly duplicatesSkipped: number;
}

/**
 * Verifies an archived chain: every object's digest matches its lines and carries a valid
 * signature, and the events — read in object order, repeats of the same event skipped —
 * form one unbroken chain from the genesis.
 */
export async function verifyArchive(
  chain: string,
  objects: readonly ArchivedObject[],
  verifySignature: VerifySignature,
  /** How far the shipper says it archived: catches a truncated tail, which links can't. */
  shippedMark?: ChainHead,
): Promise<ArchiveReport> {
  const problems: ChainProblem[] = [];
  // In seq order, by the `<first>-<last>` name: an event's day is its request's start time,
  // so a slow request around midnight can file a later seq under the earlier day.
  const rangeOf = (key: string) => key.slice(key.lastIndexOf('/') + 1);
  const ordered = [...objects].sort((a, b) => {
    const [x, y] = [rangeOf(a.key), rangeOf(b.key)];
    return x < y ? -1 : x > y ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  });
  const seen = new Map<string, string>();
  const events: AuditEvent[] = [];
  let duplicatesSkipped = 0;
  for (const object of ordered) {
    const firstSeq = object.events[0]?.seq ?? 0;
    if (!object.digest) {
      problems.push({ kind: 'altered', seq: firstSeq, detail: `${object.key} has no signed digest` });
    } else {
      const expected = object.events.length === 0 ? undefined : unsignedDigest({ chain, day: '', events: object.events });
      if (!expected || expected.digest !== object.digest.digest || expected.count !== object.digest.count) {
        problems.push({ kind: 'altered', seq: firstSeq, detail: `${object.key} does not match its digest` });
      }
      if (!(await verifySignature(object.digest))) {
        problems.push({ kind: 'altered', seq: firstSeq, detail: `${object.key}: the digest signature is not valid` });
      }
    }
    for (const event of object.events) {
      const known = seen.get(event.id);
      if (known === event.hash) {
        duplicatesSkipped++;
        continue;
      }
      seen.set(event.id, event.hash);
      events.push(event);
    }
  }
  const report = verifyChain(chain, events);
  if (shippedMark && shippedMark.seq > 0) {
    const atMark = events.find((e) => e.seq === shippedMark.seq);
    if (!atMark) {
      problems.push({ kind: 'missing', seq: shippedMark.seq, detail: `the archive ends at seq ${report.lastSeq ?? 0}; seq ${shippedMark.seq} was shipped` });
    } else if (atMark.hash !== shippedMark.hash) {
      problems.push({ kind: 'altered', seq: shippedMark.seq, detail: `seq ${shippedMark.seq} differs from the one that was shipped` });
    }
  }
  return { ...report, problems: [...problems, ...report.problems], objects: ordered.length, duplicatesSkipped };
}
