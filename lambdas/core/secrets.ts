import type { MutationAudit } from '../ports/audit-log';
import type { Clock } from '../ports/clock';
import type { TenantDataKeys } from '../ports/data-keys';
import type { Page, PageRequest } from '../ports/page';
import type { SecretHead, SecretRepository, SecretSummary, SecretVersionInfo } from '../ports/secret-repository';
import { open, seal } from './envelope';
import { ConflictError, ContendedError, DeadlineExceededError, NotFoundError, PayloadTooLargeError, VersionConflictError, WriteConflictError } from './errors';
import type { SecretAccessGate } from './policy';
import type { TenantPrincipal } from './principal';
import { describePrincipal } from './principal';
import type { SecretPath } from './secret-path';

export const MAX_SECRET_DATA_BYTES = 64 * 1024;
/**
 * Unconditional writes retry on a lost race, with jitter: each success is its own version.
 * Bounded by tries and by time, so a writer that keeps losing hears 409 in about two
 * seconds, far inside the function's deadline, instead of a timeout.
 */
const WRITE_ATTEMPTS = 8;
const WRITE_RETRY_BUDGET_MS = 2_000;
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** Math.min(attempt, 5)));

export interface SecretInput {
  readonly data: Readonly<Record<string, unknown>>;
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface SecretView {
  readonly path: string;
  readonly version: number;
  readonly latestVersion: number;
  readonly data: Record<string, unknown>;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly description?: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface SecretMetadataView extends SecretSummary {
  readonly versions: Page<SecretVersionInfo>;
}

export interface SecretsDeps {
  readonly repository: SecretRepository;
  readonly dataKeys: TenantDataKeys;
  readonly clock: Clock;
  /** The request's audit event: every change commits together with it. */
  readonly audit?: MutationAudit;
  /** Roles, policies and network safelists, with the tenant's rules as this request read them. */
  readonly access: SecretAccessGate;
  /** Aborted when the request runs out of time: no new attempt starts after it. */
  readonly signal?: AbortSignal;
}

/** A tenant's secrets: the rules of create, version, read, list, delete, restore and purge. */
export class Secrets {
  private readonly access: SecretAccessGate;

  constructor(private readonly tenantId: string, private readonly deps: SecretsDeps) {
    this.access = deps.access;
  }

  async create(principal: TenantPrincipal, path: SecretPath, input: SecretInput): Promise<SecretSummary> {
    await this.access.authorize(principal, 'create', path);
    const existing = await this.deps.repository.head(path);
    if (existing) throw this.exists(existing);
    try {
      return await this.writeNext(principal, path, input, undefined);
    } catch (error) {
      if (error instanceof WriteConflictError) throw new ConflictError(`A secret already exists at '${path}'.`);
      throw error;
    }
  }

  /** Writes a new version, creating the secret when missing; `ifMatch` makes it check-and-set. */
  async write(principal: TenantPrincipal, path: SecretPath, input: SecretInput, ifMatch?: number): Promise<SecretSummary> {
    // Refused before anything is read when the caller may neither create nor update here.
    await this.access.authorizeAny(principal, ['update', 'create'], path);
    const giveUpAt = this.deps.clock.now() + WRITE_RETRY_BUDGET_MS;
    for (let attempt = 1; ; attempt++) {
      if (this.deps.signal?.aborted) throw new DeadlineExceededError();
      const head = await this.deps.repository.head(path);
      if (head?.deletedAt) throw new ConflictError(`The secret at '${path}' is deleted; restore it before writing.`);
      await this.access.authorize(principal, head === undefined ? 'create' : 'update', path);
      if (ifMatch !== undefined && head?.version !== ifMatch) throw new VersionConflictError(ifMatch, head?.version);
      try {
        return await this.writeNext(principal, path, input, head);
      } catch (error) {
        if (!(error instanceof WriteConflictError)) throw error;
        if (ifMatch !== undefined) throw new VersionConflictError(ifMatch, (await this.deps.repository.head(path))?.version);
        if (attempt >= WRITE_ATTEMPTS || this.deps.clock.now() >= giveUpAt) {
          throw new ContendedError(`Too many concurrent writers on '${path}'; nothing was written. Retry shortly, or write with If-Match.`);
        }
        await backoff(attempt);
      }
    }
  }

  async read(principal: TenantPrincipal, path: SecretPath, version?: number): Promise<SecretView> {
    await this.access.authorize(principal, 'read', path);
    const head = await this.liveHead(path);
    const record =
      version === undefined || version === head.version ? head.latest : await this.deps.repository.version(path, version);
    if (!record) throw new NotFoundError(`Secret '${path}' has no version ${version}.`);
    const key = await this.deps.dataKeys.get(record.keyVersion);
    let plaintext: Buffer;
    try {
      plaintext = open(key, this.sealContext(path, record.version, record.keyVersion), record.ciphertext);
    } finally {
      key.fill(0);
    }
    return {
      path,
      version: record.version,
      latestVersion: head.version,
      data: JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>,
      createdAt: record.createdAt,
      createdBy: record.createdBy,
      ...(head.description === undefined ? {} : { description: head.description }),
      tags: head.tags,
    };
  }

  async list(principal: TenantPrincipal, prefix: string, page: PageRequest, includeDeleted = false): Promise<Page<SecretSummary>> {
    const listable = await this.access.authorizeListing(principal);
    const page_ = await this.deps.repository.list(prefix, page, includeDeleted);
    // Paths a policy hides are left out; the cursor still moves past them.
    return { ...page_, items: page_.items.filter((item) => listable(item.path)) };
  }

  async metadata(principal: TenantPrincipal, path: SecretPath, page: PageRequest): Promise<SecretMetadataView> {
    await this.access.authorize(principal, 'list', path);
    const head = await this.deps.repository.head(path);
    if (!head) throw this.notFound(path);
    const { latest: _latest, ...summary } = head;
    return { ...summary, versions: await this.deps.repository.listVersions(path, page) };
  }

  async delete(principal: TenantPrincipal, path: SecretPath): Promise<void> {
    await this.access.authorize(principal, 'delete', path);
    await this.liveHead(path);
    await this.orNotFound(path, () =>
      this.deps.repository.markDeleted(path, this.now(), describePrincipal(principal), this.deps.audit?.pending(204)),
    );
  }

  async restore(principal: TenantPrincipal, path: SecretPath): Promise<SecretSummary> {
    await this.access.authorize(principal, 'delete', path);
    const head = await this.deps.repository.head(path);
    if (!head?.deletedAt) throw new NotFoundError(`No deleted secret at '${path}'.`);
    const at = this.now();
    const by = describePrincipal(principal);
    await this.orNotFound(path, () => this.deps.repository.restore(path, at, by, this.deps.audit?.pending(200, { version: head.version })));
    const { latest: _latest, deletedAt: _at, deletedBy: _by, ...summary } = head;
    return { ...summary, updatedAt: at, updatedBy: by };
  }

  /** Irreversible. Only a soft-deleted secret can be purged, so nothing goes in one step. */
  async purge(principal: TenantPrincipal, path: SecretPath): Promise<void> {
    await this.access.authorize(principal, 'purge', path);
    const head = await this.deps.repository.head(path);
    if (!head) throw this.notFound(path);
    if (!head.deletedAt) throw new ConflictError(`Delete the secret at '${path}' before purging it.`);
    await this.deps.repository.purge(path, this.deps.audit?.pending(204, { versions: head.version }));
  }

  private async writeNext(principal: TenantPrincipal, path: SecretPath, input: SecretInput, head: SecretHead | undefined) {
    const plaintext = Buffer.from(JSON.stringify(input.data), 'utf8');
    if (plaintext.length > MAX_SECRET_DATA_BYTES) {
      throw new PayloadTooLargeError(`Secret data is ${plaintext.length} bytes serialized; the limit is ${MAX_SECRET_DATA_BYTES}.`);
    }
    const version = (head?.version ?? 0) + 1;
    const { keyVersion, key } = await this.deps.dataKeys.current();
    const at = this.now();
    const by = describePrincipal(principal);
    const ciphertext = seal(key, this.sealContext(path, version, keyVersion), plaintext);
    plaintext.fill(0);
    key.fill(0);
    const description = input.description ?? head?.description;
    const next: SecretHead = {
      path,
      version,
      createdAt: head?.createdAt ?? at,
      createdBy: head?.createdBy ?? by,
      updatedAt: at,
      updatedBy: by,
      ...(description === undefined ? {} : { description }),
      tags: input.tags ?? head?.tags ?? {},
      latest: { path, version, createdAt: at, createdBy: by, keyVersion, ciphertext },
    };
    // 201 when this write created the secret, as the route answers.
    const audit = this.deps.audit?.pending(version === 1 ? 201 : 200, { version });
    await this.deps.repository.writeVersion(next, head ? head.version : 'absent', audit);
    const { latest: _latest, ...summary } = next;
    return summary;
  }

  private async liveHead(path: SecretPath): Promise<SecretHead> {
    const head = await this.deps.repository.head(path);
    if (!head || head.deletedAt) throw this.notFound(path);
    return head;
  }

  private async orNotFound(path: SecretPath, change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (error) {
      if (error instanceof WriteConflictError) throw this.notFound(path);
      throw error;
    }
  }

  private exists(head: SecretHead): ConflictError {
    return head.deletedAt
      ? new ConflictError(`A deleted secret exists at '${head.path}'; restore or purge it first.`)
      : new ConflictError(`A secret already exists at '${head.path}'.`);
  }

  private notFound(path: SecretPath): NotFoundError {
    return new NotFoundError(`No secret at '${path}'.`);
  }

  private sealContext(path: SecretPath, version: number, keyVersion: number) {
    return { tenantId: this.tenantId, path, version, keyVersion };
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
