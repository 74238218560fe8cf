// In-memory fakes of the ports in lambdas/ports/, faithful to the contracts the DynamoDB and
// KMS adapters honour (conditional writes raise WriteConflictError, every KMS call is bound to
// one tenant), and instrumented so tests can count calls and inject faults.
import { createCipheriv, createDecipheriv, generateKeyPairSync, randomBytes, sign as signWithKey, type KeyObject } from 'node:crypto';
import { ConflictError, DependencyUnavailableError, InternalError, WriteConflictError } from '../../../lambdas/core/errors';
import type { Role, TenantPrincipal, PlatformPrincipal } from '../../../lambdas/core/principal';
import type { SecretPath } from '../../../lambdas/core/secret-path';
import type { Clock } from '../../../lambdas/ports/clock';
import type { TenantDataKeys } from '../../../lambdas/ports/data-keys';
import type { PublicJwk, TenantKeyService, TokenSigner } from '../../../lambdas/ports/key-service';
import type { Page, PageRequest } from '../../../lambdas/ports/page';
import type {
  SecretHead,
  SecretRepository,
  SecretSummary,
  SecretVersionInfo,
  SecretVersionRecord,
} from '../../../lambdas/ports/secret-repository';
import type {
  ClientRecord,
  ClientRepository,
  CredentialScope,
  DataKeyRecord,
  RegionalWrap,
  TenantRecord,
  TenantRepository,
} from '../../../lambdas/ports/tenant-repository';

// ---------------------------------------------------------------------------------------------
// Clock

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  constructor(private ms = Date.parse('2025-01-01T00:00:00.000Z')) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}

// ---------------------------------------------------------------------------------------------
// Principals

export const TENANT_A = 'ten_aaaaaaaaaaaaaaaaaaaa';
export const TENANT_B = 'ten_bbbbbbbbbbbbbbbbbbbb';

export function tenantPrincipal(tenantId: string, roles: readonly Role[] = ['owner'], id = 'cli_tester'): TenantPrincipal {
  return { kind: 'tenant', tenantId, type: 'client', id, roles };
}

export const platformAdmin: PlatformPrincipal = { kind: 'platform', type: 'platform', id: 'platform.cli_admin' };

// ---------------------------------------------------------------------------------------------
// SecretRepository

interface StoredSecret {
  head: SecretHead;
  versions: Map<number, SecretVersionRecord>;
  purging?: boolean;
}

const copyRecord = (r: SecretVersionRecord): SecretVersionRecord => ({ ...r, ciphertext: Uint8Array.from(r.ciphertext) });
const copyHead = (h: SecretHead): SecretHead => ({ ...h, tags: { ...h.tags }, latest: copyRecord(h.latest) });

function encodeCursor(position: string | number): string {
  return Buffer.from(JSON.stringify({ p: position }), 'utf8').toString('base64url');
}
function decodeCursor(cursor: string): string | number {
  return (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p: string | number }).p;
}

/** All tenants' secrets, as one table; hand each tenant a repository bound to it. */
export class InMemorySecretStore {
  readonly tenants = new Map<string, Map<string, StoredSecret>>();

  forTenant(tenantId: string): InMemorySecretRepository {
    return new InMemorySecretRepository(this, tenantId);
  }

  partition(tenantId: string): Map<string, StoredSecret> {
    let p = this.tenants.get(tenantId);
    if (!p) this.tenants.set(tenantId, (p = new Map()));
    return p;
  }
}

export class InMemorySecretRepository implements SecretRepository {
  readonly calls = { head: 0, version: 0, writeVersion: 0, list: 0, listVersions: 0, markDeleted: 0, restore: 0, purge: 0 };
  /** Makes the next N writeVersion calls fail as if another writer won the race. */
  conflictingWrites = 0;
  /** Runs before each writeVersion's condition check: lets a test simulate a concurrent writer. */
  beforeWrite?: () => Promise<void> | void;

  constructor(private readonly store: InMemorySecretStore, readonly tenantId: string) {}

  private get rows(): Map<string, StoredSecret> {
    return this.store.partition(this.tenantId);
  }

  async head(path: SecretPath): Promise<SecretHead | undefined> {
    this.calls.head++;
    const row = this.rows.get(path);
    return row ? copyHead(row.head) : undefined;
  }

  async version(path: SecretPath, version: number): Promise<SecretVersionRecord | undefined> {
    this.calls.version++;
    const record = this.rows.get(path)?.versions.get(version);
    return record ? copyRecord(record) : undefined;
  }

  async writeVersion(head: SecretHead, expect: number | 'absent'): Promise<void> {
    this.calls.writeVersion++;
    await this.beforeWrite?.();
    if (head.latest.version !== head.version || head.latest.path !== head.path) throw new InternalError('head and version disagree');
    if (this.conflictingWrites > 0) {
      this.conflictingWrites--;
      throw new WriteConflictError('simulated lost race');
    }
    const row = this.rows.get(head.path);
    if (expect === 'absent' ? row !== undefined : !row || row.head.version !== expect || row.head.deletedAt !== undefined) {
      throw new WriteConflictError('The secret changed since it was read.');
    }
    if (row?.versions.has(head.version)) throw new WriteConflictError('version exists');
    const versions = row?.versions ?? new Map<number, SecretVersionRecord>();
    versions.set(head.version, copyRecord(head.latest));
    this.rows.set(head.path, { head: copyHead(head), versions });
  }

  async list(prefix: string, page: PageRequest, includeDeleted: boolean): Promise<Page<SecretSummary>> {
    this.calls.list++;
    const after = page.cursor === undefined ? undefined : (decodeCursor(page.cursor) as string);
    const matching = [...this.rows.values()]
      .map((r) => r.head)
      .filter((h) => h.path.startsWith(prefix) && (includeDeleted || h.deletedAt === undefined))
      .filter((h) => after === undefined || h.path > after)
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const items = matching.slice(0, page.limit).map(({ latest: _latest, ...summary }) => ({ ...summary, tags: { ...summary.tags } }));
    const last = items.at(-1);
    return { items, ...(matching.length > page.limit && last ? { cursor: encodeCursor(last.path) } : {}) };
  }

  async listVersions(path: SecretPath, page: PageRequest): Promise<Page<SecretVersionInfo>> {
    this.calls.listVersions++;
    const before = page.cursor === undefined ? undefined : (decodeCursor(page.cursor) as number);
    const all = [...(this.rows.get(path)?.versions.values() ?? [])]
      .filter((v) => before === undefined || v.version < before)
      .sort((a, b) => b.version - a.version);
    const items = all.slice(0, page.limit).map(({ version, createdAt, createdBy, keyVersion }) => ({ version, createdAt, createdBy, keyVersion }));
    const last = items.at(-1);
    return { items, ...(all.length > page.limit && last ? { cursor: encodeCursor(last.version) } : {}) };
  }

  async markDeleted(path: SecretPath, at: string, by: string): Promise<void> {
    this.calls.markDeleted++;
    const row = this.rows.get(path);
    if (!row || row.head.deletedAt !== undefined) throw new WriteConflictError('not live');
    row.head = { ...row.head, deletedAt: at, deletedBy: by };
  }

  async restore(path: SecretPath, at: string, by: string): Promise<void> {
    this.calls.restore++;
    const row = this.rows.get(path);
    if (!row || row.head.deletedAt === undefined || row.purging) throw new WriteConflictError('not deleted');
    const { deletedAt: _at, deletedBy: _by, ...rest } = row.head;
    row.head = { ...rest, updatedAt: at, updatedBy: by };
  }

  async purge(path: SecretPath): Promise<void> {
    this.calls.purge++;
    const row = this.rows.get(path);
    if (!row || row.head.deletedAt === undefined) throw new WriteConflictError('not deleted');
    row.purging = true;
    row.versions.clear();
    this.rows.delete(path);
  }

  /** Test helper: the raw stored row (not a copy), to tamper with. */
  raw(path: string): StoredSecret | undefined {
    return this.rows.get(path);
  }
}

// ---------------------------------------------------------------------------------------------
// TenantRepository and ClientRepository

export class InMemoryTenantRepository implements TenantRepository {
  readonly tenants = new Map<string, TenantRecord>();
  readonly dataKeys = new Map<string, DataKeyRecord>();
  readonly calls = { createTenant: 0, getTenant: 0, listTenants: 0, getDataKey: 0 };

  constructor(private readonly clients?: InMemoryClientRepository) {}

  async createTenant(tenant: TenantRecord, dataKey: DataKeyRecord, owner: ClientRecord): Promise<void> {
    this.calls.createTenant++;
    if (this.tenants.has(tenant.tenantId)) throw new ConflictError('tenant exists');
    this.tenants.set(tenant.tenantId, tenant);
    this.dataKeys.set(`${dataKey.tenantId}#${dataKey.keyVersion}`, dataKey);
    await this.clients?.put(owner, true);
  }

  async getTenant(tenantId: string): Promise<TenantRecord | undefined> {
    this.calls.getTenant++;
    return this.tenants.get(tenantId);
  }

  async listTenants(page: PageRequest): Promise<Page<TenantRecord>> {
    this.calls.listTenants++;
    const after = page.cursor === undefined ? undefined : (decodeCursor(page.cursor) as string);
    const all = [...this.tenants.values()].filter((t) => after === undefined || t.tenantId > after).sort((a, b) => (a.tenantId < b.tenantId ? -1 : 1));
    const items = all.slice(0, page.limit);
    const last = items.at(-1);
    return { items, ...(all.length > page.limit && last ? { cursor: encodeCursor(last.tenantId) } : {}) };
  }

  async getDataKey(tenantId: string, keyVersion: number): Promise<DataKeyRecord | undefined> {
    this.calls.getDataKey++;
    return this.dataKeys.get(`${tenantId}#${keyVersion}`);
  }

  /** Test helper: store a tenant and its data-key records directly. */
  seed(tenant: TenantRecord, ...dataKeys: DataKeyRecord[]): void {
    this.tenants.set(tenant.tenantId, tenant);
    for (const k of dataKeys) this.dataKeys.set(`${k.tenantId}#${k.keyVersion}`, k);
  }
}

export class InMemoryClientRepository implements ClientRepository {
  readonly clients = new Map<string, ClientRecord>();
  readonly calls = { get: 0, put: 0 };

  async get(scope: CredentialScope, clientId: string): Promise<ClientRecord | undefined> {
    this.calls.get++;
    return this.clients.get(`${scope}#${clientId}`);
  }

  async put(client: ClientRecord, mustBeNew: boolean): Promise<void> {
    this.calls.put++;
    const id = `${client.scope}#${client.clientId}`;
    if (mustBeNew && this.clients.has(id)) throw new ConflictError('client exists');
    this.clients.set(id, client);
  }
}

// ---------------------------------------------------------------------------------------------
// KMS: TenantKeyService

export const REGIONS = ['eu-west-1', 'eu-central-1'] as const;
/** The region this fake "runs" in: unwrapDataKey uses this region's copy, as the adapter does. */
export const HOME_REGION = REGIONS[0];

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A fake KMS: one master key per (tenant, region); wrapping is AES-256-GCM with the tenant id
 * as AAD (the encryption context), so unwrapping under another tenant fails as KMS would.
 */
export class FakeKeyService implements TenantKeyService {
  private readonly masterKeys = new Map<string, Buffer>();
  readonly calls = { createTenantKeys: 0, generateDataKey: 0, unwrapDataKey: 0, discardTenantKeys: 0 };
  /** Key ARNs discarded (alias removed, deletion scheduled). */
  readonly discarded: string[] = [];
  /** The next N generateDataKey calls fail with DependencyUnavailableError('kms'). */
  failingGenerates = 0;
  /** Every plaintext data key handed out by generateDataKey, as the caller received it. */
  readonly issuedPlaintexts: Uint8Array[] = [];
  /** The next N unwrapDataKey calls fail with DependencyUnavailableError('kms'). */
  failingUnwraps = 0;
  /** While set, unwrapDataKey waits for `release()` before answering. */
  private gate?: Deferred;

  async createTenantKeys(tenantId: string): Promise<Record<string, string>> {
    this.calls.createTenantKeys++;
    const out: Record<string, string> = {};
    for (const region of REGIONS) {
      const arn = `arn:aws:kms:${region}:123456789012:key/${tenantId}-${region}`;
      this.masterKeys.set(arn, randomBytes(32));
      out[region] = arn;
    }
    return out;
  }

  async discardTenantKeys(_tenantId: string, keys: Readonly<Record<string, string>>): Promise<void> {
    this.calls.discardTenantKeys++;
    for (const keyArn of Object.values(keys)) {
      this.masterKeys.delete(keyArn);
      this.discarded.push(keyArn);
    }
  }

  async generateDataKey(tenantId: string, keys: Readonly<Record<string, string>>) {
    this.calls.generateDataKey++;
    if (this.failingGenerates > 0) {
      this.failingGenerates--;
      throw new DependencyUnavailableError('kms');
    }
    const plaintext = randomBytes(32);
    const wrapped: Record<string, RegionalWrap> = {};
    for (const [region, keyArn] of Object.entries(keys)) wrapped[region] = { keyArn, ciphertext: this.wrap(keyArn, tenantId, plaintext) };
    const handedOut = Uint8Array.from(plaintext);
    this.issuedPlaintexts.push(handedOut);
    return { plaintext: handedOut, wrapped };
  }

  async unwrapDataKey(tenantId: string, wrapped: Readonly<Record<string, RegionalWrap>>): Promise<Uint8Array> {
    this.calls.unwrapDataKey++;
    if (this.gate) await this.gate.promise;
    if (this.failingUnwraps > 0) {
      this.failingUnwraps--;
      throw new DependencyUnavailableError('kms');
    }
    const copy = wrapped[HOME_REGION];
    if (!copy) throw new InternalError('no wrapped copy for this region');
    return this.unwrap(copy.keyArn, tenantId, copy.ciphertext);
  }

  /** Holds every unwrap until `release()`; for in-flight tests. */
  hold(): void {
    this.gate = deferred();
  }
  release(): void {
    const gate = this.gate;
    this.gate = undefined;
    gate?.resolve();
  }

  private master(keyArn: string): Buffer {
    const key = this.masterKeys.get(keyArn);
    if (!key) throw new InternalError(`no such KMS key ${keyArn}`);
    return key;
  }

  private wrap(keyArn: string, tenantId: string, plaintext: Uint8Array): Uint8Array {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.master(keyArn), iv);
    c.setAAD(Buffer.from(`coffer:tenant=${tenantId}`));
    const body = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]);
  }

  private unwrap(keyArn: string, tenantId: string, blob: Uint8Array): Uint8Array {
    const buf = Buffer.from(blob);
    const d = createDecipheriv('aes-256-gcm', this.master(keyArn), buf.subarray(0, 12));
    d.setAAD(Buffer.from(`coffer:tenant=${tenantId}`));
    d.setAuthTag(buf.subarray(12, 28));
    try {
      return Uint8Array.from(Buffer.concat([d.update(buf.subarray(28)), d.final()]));
    } catch {
      throw new Error('AccessDeniedException: the encryption context does not match');
    }
  }
}

/**
 * Provisions a tenant in the fake KMS and tenant table: its regional keys and `keyVersions`
 * data keys, the last one current. Returns the plaintext data keys by version.
 */
export async function provisionTenant(
  tenants: InMemoryTenantRepository,
  kms: FakeKeyService,
  tenantId: string,
  keyVersions = 1,
  createdAt = '2025-01-01T00:00:00.000Z',
): Promise<Map<number, Uint8Array>> {
  const keys = await kms.createTenantKeys(tenantId);
  const plain = new Map<number, Uint8Array>();
  const records: DataKeyRecord[] = [];
  for (let v = 1; v <= keyVersions; v++) {
    const dk = await kms.generateDataKey(tenantId, keys);
    plain.set(v, dk.plaintext);
    records.push({ tenantId, keyVersion: v, createdAt, wrapped: dk.wrapped });
  }
  tenants.seed(
    { tenantId, name: tenantId, plan: 'free', status: 'active', createdAt, createdBy: 'platform:test', keys, currentKeyVersion: keyVersions },
    ...records,
  );
  kms.calls.createTenantKeys = 0;
  kms.calls.generateDataKey = 0;
  return plain;
}

/** TenantDataKeys from fixed keys, with no cache and no KMS: for tests of Secrets alone. */
export class StaticDataKeys implements TenantDataKeys {
  readonly calls = { current: 0, get: 0 };
  constructor(private readonly keys: Map<number, Uint8Array>, private readonly currentVersion = Math.max(...keys.keys())) {}
  async current() {
    this.calls.current++;
    return { keyVersion: this.currentVersion, key: await this.get(this.currentVersion) };
  }
  async get(keyVersion: number): Promise<Uint8Array> {
    this.calls.get++;
    const key = this.keys.get(keyVersion);
    if (!key) throw new InternalError(`no key version ${keyVersion}`);
    return key;
  }
}

// ---------------------------------------------------------------------------------------------
// TokenSigner

/** Signs with a real P-256 key held in memory, in JWS (r‖s) form, like the KMS adapter. */
export class FakeTokenSigner implements TokenSigner {
  readonly publicKey: KeyObject;
  private readonly privateKey: KeyObject;
  readonly signed: Uint8Array[] = [];

  constructor(readonly kid = 'kid-test-1') {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.publicKey = pair.publicKey;
    this.privateKey = pair.privateKey;
  }

  async keyId(): Promise<string> {
    return this.kid;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    this.signed.push(Uint8Array.from(message));
    return signWithKey('sha256', message, { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
  }

  async publicJwks(): Promise<PublicJwk[]> {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return [{ kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y!, kid: this.kid, alg: 'ES256', use: 'sig' }];
  }
}
