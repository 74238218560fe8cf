import type { SecretPath } from '../core/secret-path';
import type { PendingAudit } from './audit-log';
import type { Page, PageRequest } from './page';

export interface SecretMetadata {
  readonly path: SecretPath;
  readonly description?: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** The head of a secret: its metadata and, inline, the latest version's ciphertext. */
export interface SecretHead extends SecretMetadata {
  readonly version: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
  readonly deletedAt?: string;
  readonly deletedBy?: string;
  readonly latest: SecretVersionRecord;
}

export interface SecretVersionRecord {
  readonly path: SecretPath;
  readonly version: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly keyVersion: number;
  readonly ciphertext: Uint8Array;
}

export type SecretVersionInfo = Omit<SecretVersionRecord, 'ciphertext' | 'path'>;
export type SecretSummary = Omit<SecretHead, 'latest'>;

/**
 * Storage of one tenant's secrets. Bound to a tenant when created, so no call can forget
 * or swap the tenant. Writing the head and the version is one atomic step; every change
 * commits its pending audit event in that same step, or not at all.
 */
export interface SecretRepository {
  head(path: SecretPath): Promise<SecretHead | undefined>;
  version(path: SecretPath, version: number): Promise<SecretVersionRecord | undefined>;
  /** Throws WriteConflictError when the head is not at `expect` ('absent': no head). */
  writeVersion(head: SecretHead, expect: number | 'absent', audit?: PendingAudit): Promise<void>;
  list(prefix: string, page: PageRequest, includeDeleted: boolean): Promise<Page<SecretSummary>>;
  listVersions(path: SecretPath, page: PageRequest): Promise<Page<SecretVersionInfo>>;
  /** Throws WriteConflictError when the head is missing or not in the expected state. */
  markDeleted(path: SecretPath, at: string, by: string, audit?: PendingAudit): Promise<void>;
  restore(path: SecretPath, at: string, by: string, audit?: PendingAudit): Promise<void>;
  /** Removes every version and then the head; resumable if interrupted. The event commits with the first step. */
  purge(path: SecretPath, audit?: PendingAudit): Promise<void>;
}
