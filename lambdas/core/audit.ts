import { createHash } from 'node:crypto';
import type { Principal, PrincipalType } from './principal';

// The audit trail's domain: what one event says, how events chain, and how a chain is
// verified. Pure: the adapters store events (DynamoDB, then S3) but never decide content.

/** The chain of the platform itself (tenant onboarding, unauthenticated attempts). */
export const PLATFORM_CHAIN = 'platform';
/** `prevHash` of the first event of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

export type AuditOutcome = 'success' | 'denied' | 'failure' | 'error';

export interface AuditActor {
  /** `client`, `user`, `iam`, `federated`, `platform`, or `anonymous` when no credential was verified. */
  readonly type: PrincipalType | 'anonymous';
  readonly id: string | null;
  /** How the caller proved who it is (`client_credentials`, `password`, …), when it did. */
  readonly authMethod: string | null;
}

/** What a request contributes to its event; the trail adds the chain fields. */
export interface AuditDraft {
  readonly id: string;
  /** The tenant id (one chain per tenant), or `platform` for the platform's own events. */
  readonly chain: string;
  readonly time: string;
  readonly tenantId: string | null;
  readonly actor: AuditActor;
  readonly action: string;
  readonly resource: string | null;
  readonly outcome: AuditOutcome;
  readonly status: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly correlationId: string;
  readonly region: string;
  /** Small, non-secret facts (a version number, an error code). Never values or credentials. */
  readonly details: Readonly<Record<string, string | number | boolean>>;
}

export interface AuditEvent extends AuditDraft {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const EMPTY_CHAIN: ChainHead = { seq: 0, hash: GENESIS_HASH };

/** Links a draft after `head`: its hash covers every field, the predecessor's hash included. */
export function chainEvent(head: ChainHead, draft: AuditDraft): AuditEvent {
  const linked = { ...draft, seq: head.seq + 1, prevHash: head.hash };
  return { ...linked, hash: hashOf(linked) };
}

export function hashOf(event: Omit<AuditEvent, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(event)).digest('hex');
}

/** JSON with object keys sorted at every depth: one byte sequence per value, so hashes agree. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function actorOf(principal: Principal | undefined): AuditActor {
  if (!principal) return { type: 'anonymous', id: null, authMethod: null };
  return { type: principal.type, id: principal.id, authMethod: principal.authMethod ?? 'client_credentials' };
}

/** A resource or user agent as recorded: control characters dropped, at most 512 characters. */
export function printable(text: string): string {
  // biome-ignore lint: stripping control characters is the point
  // By code point, so the cap never splits a surrogate pair into invalid UTF-16.
  return Array.from(text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '')).slice(0, 512).join('');
}

export function chainOf(tenantId: string | null): string {
  return tenantId ?? PLATFORM_CHAIN;
}

export function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 'success';
  if (status === 401 || status === 403) return 'denied';
  if (status < 500) return 'failure';
  return 'error';
}

export type ChainProblemKind = 'altered' | 'missing' | 'reordered' | 'duplicate-seq' | 'foreign' | 'broken-link';

export interface ChainProblem {
  readonly kind: ChainProblemKind;
  readonly seq: number;
  readonly detail: string;
}

export interface ChainReport {
  readonly chain: string;
  readonly events: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly lastHash: string | null;
  readonly problems: readonly ChainProblem[];
}

/**
 * Checks a chain in the order it was stored. Catches an altered event (its hash no longer
 * matches), a deleted one (a gap in `seq`, or a `prevHash` that points past it), and a
 * reordered one (`seq` going backwards). `anchor` is the head before the first event given,
 * when verifying a window that does not start at the genesis.
 */
export function verifyChain(chain: string, events: readonly AuditEvent[], anchor: ChainHead = EMPTY_CHAIN): ChainReport {
  const problems: ChainProblem[] = [];
  let previous = anchor;
  const seen = new Set<number>();
  for (const event of events) {
    const { hash, ...linked } = event;
    if (event.chain !== chain) problems.push({ kind: 'foreign', seq: event.seq, detail: `event ${event.id} belongs to chain ${event.chain}` });
    if (hashOf(linked) !== hash) problems.push({ kind: 'altered', seq: event.seq, detail: `event ${event.id}: content does not match its hash` });
    if (seen.has(event.seq)) {
      problems.push({ kind: 'duplicate-seq', seq: event.seq, detail: `two different events claim seq ${event.seq}` });
    } else if (event.seq <= previous.seq) {
      problems.push({ kind: 'reordered', seq: event.seq, detail: `seq ${event.seq} follows seq ${previous.seq}` });
    } else if (event.seq > previous.seq + 1) {
      problems.push({ kind: 'missing', seq: previous.seq + 1, detail: `events ${previous.seq + 1}–${event.seq - 1} are missing` });
    } else if (event.prevHash !== previous.hash) {
      problems.push({ kind: 'broken-link', seq: event.seq, detail: `event ${event.id} does not link to seq ${previous.seq}` });
    }
    seen.add(event.seq);
    if (event.seq > previous.seq) previous = { seq: event.seq, hash };
  }
  const last = events.at(-1);
  return {
    chain,
    events: events.length,
    firstSeq: events[0]?.seq ?? null,
    lastSeq: last?.seq ?? null,
    lastHash: last?.hash ?? null,
    problems,
  };
}

/** What a batch's signature covers: the chain, its seq range and every event hash in order. */
export function batchDigest(chain: string, events: readonly AuditEvent[]): string {
  const hash = createHash('sha256').update(`coffer-audit-batch-v1\n${chain}\n`);
  for (const event of events) hash.update(`${event.seq}:${event.hash}\n`);
  return hash.digest('hex');
}
