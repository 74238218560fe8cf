import type { AuditEvent, ChainHead } from '../core/audit';
import type { PendingAudit } from './audit-log';

// The archive's and the sinks' records are the port's own types: core/audit-archive and
// core/audit-sinks implement the rules over them and import them from here, never the
// other way round.

export interface ArchiveBatch {
  readonly chain: string;
  readonly day: string;
  readonly events: readonly AuditEvent[];
}

/** The signed statement that accompanies each batch object. */
export interface BatchDigest {
  /** `DIGEST_FORMAT` in core/audit-archive; the compiler holds the two together. */
  readonly format: 'coffer-audit-batch-v1';
  readonly chain: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly count: number;
  readonly prevHash: string;
  readonly lastHash: string;
  readonly digest: string;
  readonly keyId: string;
  readonly algorithm: string;
  /** base64 signature over `signedMessage(digest)`. */
  readonly signature: string;
}

export interface ArchivedObject {
  readonly key: string;
  readonly events: readonly AuditEvent[];
  readonly digest?: BatchDigest;
}

export type SinkTarget =
  | { readonly type: 'webhook'; readonly url: string }
  | { readonly type: 'syslog'; readonly host: string; readonly port: number };

export interface SinkStatus {
  /** Last seq delivered (0: nothing yet). */
  readonly deliveredSeq: number;
  readonly lastDeliveryAt?: string;
  readonly lastError?: string;
  readonly lastErrorAt?: string;
  readonly consecutiveFailures: number;
}

export interface AuditSink {
  readonly tenantId: string;
  readonly name: string;
  readonly target: SinkTarget;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly status: SinkStatus;
}

/** A batch as a sink receives it: the events and the signed digest that covers them. */
export interface SinkBatch {
  readonly chain: string;
  readonly events: readonly AuditEvent[];
  readonly digest: BatchDigest;
}

/** The long-term, write-once store of audit batches (S3 with Object Lock). */
export interface AuditArchive {
  /** Writes the batch's events and its signed digest; rewriting the same batch is harmless. */
  putBatch(batch: ArchiveBatch, digest: BatchDigest): Promise<void>;
  /** Every archived object of a chain, with its digest when there is one. */
  readChain(chain: string): Promise<ArchivedObject[]>;
}

/** Signs batch digests with a key no request-serving function can use. */
export interface DigestSigner {
  sign(message: Uint8Array): Promise<{ signature: Uint8Array; keyId: string; algorithm: string }>;
  /** True only for a signature by the trusted audit key; `claimedKeyId` (from the digest) is not trusted. */
  verify(message: Uint8Array, signature: Uint8Array, claimedKeyId: string, algorithm: string): Promise<boolean>;
}

/** The primary trail as the shipper sees it: events by seq, and how far each chain shipped. */
export interface ShippingSource {
  after(chain: string, afterSeq: number, limit: number): Promise<AuditEvent[]>;
  shipped(chain: string): Promise<ChainHead>;
  /** Moves the mark from `from` to `to`; fails if another shipper moved it first. */
  markShipped(chain: string, from: ChainHead, to: ChainHead): Promise<void>;
}

/** Tenants' event sinks: their configuration and how far each has received its chain. */
export interface AuditSinkStore {
  list(tenantId: string): Promise<AuditSink[]>;
  put(sink: Omit<AuditSink, 'status'>, audit?: PendingAudit): Promise<AuditSink>;
  /** Throws NotFoundError when there is no such sink. */
  delete(tenantId: string, name: string, audit?: PendingAudit): Promise<void>;
  recordDelivery(tenantId: string, name: string, deliveredSeq: number, at: string): Promise<void>;
  recordFailure(tenantId: string, name: string, error: string, at: string): Promise<void>;
}

/** Sends one batch to a sink's target; throws when the target did not take it. */
export interface SinkDelivery {
  deliver(target: SinkTarget, batch: SinkBatch): Promise<void>;
}
