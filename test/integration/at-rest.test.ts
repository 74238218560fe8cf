import { GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DecryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lambdas/adapters/dynamodb/keys';
import { expectProblem, rawDynamo, rawKms, scanTable, type RawItem } from '../support/probe';
import { startTestRuntime, type Client, type Response } from '../support/runtime';

// What DynamoDB holds is ciphertext bound to its row: no plaintext, no plain data key, and a
// blob moved to another tenant, path or version fails authentication instead of decrypting.
let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let db: DynamoDBClient;
let kms: KMSClient;
let a: Awaited<ReturnType<Client['onboard']>>;
let b: Awaited<ReturnType<Client['onboard']>>;

const CANARY = `canary-${randomBytes(12).toString('hex')}`;
const DATA = { password: CANARY, note: `the password is ${CANARY}` };
const PATH = 'prod/db/password';

/** Every way the canary could show up in a row, in text or in bytes. */
const needles = (value: string | Buffer): Buffer[] => {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
  return [
    bytes,
    Buffer.from(bytes.toString('base64')),
    Buffer.from(bytes.toString('base64url')),
    Buffer.from(bytes.toString('hex')),
    Buffer.from(bytes.toString('hex').toUpperCase()),
  ];
};

/** All strings and binaries of an item (names included), as byte buffers. */
function leaves(value: unknown, out: Buffer[] = []): Buffer[] {
  if (value instanceof Uint8Array) {
    out.push(Buffer.from(value));
    out.push(Buffer.from(Buffer.from(value).toString('base64')));
  } else if (typeof value === 'string') out.push(Buffer.from(value, 'utf8'));
  else if (Array.isArray(value)) for (const v of value) leaves(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(Buffer.from(k, 'utf8'));
      leaves(v, out);
    }
  }
  return out;
}

function expectAbsent(items: readonly RawItem[], secret: string | Buffer): void {
  const hay = items.flatMap((item) => leaves(item));
  expect(hay.length).toBeGreaterThan(0);
  for (const needle of needles(secret)) {
    const hit = hay.find((h) => h.includes(needle));
    expect(hit, `found ${needle.toString('latin1').slice(0, 40)}…`).toBeUndefined();
  }
}

const headKey = (tenantId: string, path: string) => ({ pk: { S: keys.secretHeads(tenantId) }, sk: { S: path } });
const versionKey = (tenantId: string, path: string, version: number) => ({
  pk: { S: keys.secretVersions(tenantId, path) },
  sk: { S: keys.versionSk(version) },
});

async function getItem(key: RawItem): Promise<RawItem> {
  const { Item } = await db.send(new GetItemCommand({ TableName: runtime.resources.table, Key: key, ConsistentRead: true }));
  if (!Item) throw new Error(`no item ${JSON.stringify(key)}`);
  return Item;
}

async function setBinary(key: RawItem, attribute: string, value: Uint8Array): Promise<void> {
  await db.send(
    new UpdateItemCommand({
      TableName: runtime.resources.table,
      Key: key,
      UpdateExpression: 'SET #a = :v',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#a': attribute },
      ExpressionAttributeValues: { ':v': { B: value } },
    }),
  );
}

/** Puts `blob` in both places a version's ciphertext lives: its version row and (if latest) the head. */
async function plant(tenantId: string, path: string, version: number, blob: Uint8Array, alsoHead: boolean): Promise<void> {
  await setBinary(versionKey(tenantId, path, version), 'ciphertext', blob);
  if (alsoHead) await setBinary(headKey(tenantId, path), 'latestCiphertext', blob);
}

const ciphertextOf = async (tenantId: string, path: string, version: number) =>
  (await getItem(versionKey(tenantId, path, version))).ciphertext!.B!;

function expectIntegrityFailure(response: Response): void {
  // open() throws InternalError('ciphertext failed authentication'): a generic 500 problem
  // that names no internals and, above all, carries no plaintext.
  expectProblem(response, 500, 'An unexpected error occurred. Quote the correlation id when reporting it.');
  expect(response.body.type).toBe('https://coffer.dev/problems/internal');
  expect(JSON.stringify(response.body)).not.toContain(CANARY);
  expect(JSON.stringify(response.body)).not.toContain('ciphertext');
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  db = rawDynamo(runtime);
  kms = rawKms(runtime);
  [a, b] = [await api.onboard('at-rest-a'), await api.onboard('at-rest-b')];
  expect((await api.request('PUT', `/v1/secrets/${PATH}`, { token: a.token, body: { data: DATA, description: 'db', tags: { env: 'prod' } } })).status).toBe(201);
});
afterAll(async () => {
  db?.destroy();
  kms?.destroy();
  await runtime?.stop();
});

describe('what the table holds', () => {
  it('holds the secret only as ciphertext: the value, its JSON, base64 and hex appear in no row', async () => {
    const items = await scanTable(db, runtime.resources.table);
    const rows = items.filter((i) => i.pk!.S!.startsWith(`T#${a.tenantId}#`));
    expect(rows.map((r) => r.pk!.S)).toEqual(expect.arrayContaining([keys.secretHeads(a.tenantId), keys.secretVersions(a.tenantId, PATH)]));
    expectAbsent(items, CANARY);
    expectAbsent(items, JSON.stringify(DATA));
    // The search itself finds what is there (a control: the tenant id is in every key).
    expect(() => expectAbsent(items, a.tenantId)).toThrow();
    // The ciphertext is there and the API still returns the value.
    expect((await getItem(versionKey(a.tenantId, PATH, 1))).ciphertext?.B?.length).toBeGreaterThan(CANARY.length);
    expect((await api.request('GET', `/v1/secrets/${PATH}`, { token: a.token })).body.data).toEqual(DATA);
  });

  it('keeps the ciphertext out of every listing and metadata response', async () => {
    const list = await api.request('GET', '/v1/secrets?deleted=true', { token: a.token });
    const meta = await api.request('GET', `/v1/metadata/${PATH}`, { token: a.token });
    for (const body of [list.body, meta.body]) {
      const text = JSON.stringify(body);
      expect(text).not.toContain(CANARY);
      expect(text.toLowerCase()).not.toContain('ciphertext');
    }
  });

  it('stores the data key only wrapped, under an encryption context naming the tenant', async () => {
    const dataKey = await getItem({ pk: { S: keys.tenantMeta(a.tenantId) }, sk: { S: keys.dataKeySk(1) } });
    const wrapped = dataKey.wrapped!.M!;
    expect(Object.keys(wrapped).sort()).toEqual([...runtime.aws.regions].sort());
    const local = wrapped[runtime.aws.region]!.M!;
    const blob = local.ciphertext!.B!;
    const keyArn = local.keyArn!.S!;
    const plain = await kms.send(new DecryptCommand({ KeyId: keyArn, CiphertextBlob: blob, EncryptionContext: { 'coffer:tenant': a.tenantId } }));
    expect(plain.Plaintext).toHaveLength(32);
    // The plain data key is in no row, in no encoding.
    expectAbsent(await scanTable(db, runtime.resources.table), Buffer.from(plain.Plaintext!));
    // Without the tenant's context, or with another tenant's, KMS refuses to unwrap it.
    await expect(kms.send(new DecryptCommand({ KeyId: keyArn, CiphertextBlob: blob }))).rejects.toThrow();
    await expect(
      kms.send(new DecryptCommand({ KeyId: keyArn, CiphertextBlob: blob, EncryptionContext: { 'coffer:tenant': b.tenantId } })),
    ).rejects.toThrow();
  });

  it('writes nothing readable to the audit bucket either', async () => {
    const s3 = new S3Client({ region: runtime.aws.region, endpoint: runtime.aws.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    try {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: runtime.resources.auditBucket }));
      for (const object of listed.Contents ?? []) {
        const body = await (await s3.send(new GetObjectCommand({ Bucket: runtime.resources.auditBucket, Key: object.Key! }))).Body!.transformToByteArray();
        for (const needle of needles(CANARY)) expect(Buffer.from(body).includes(needle)).toBe(false);
      }
    } finally {
      s3.destroy();
    }
  });
});

describe('ciphertext moved out of its row fails authentication, never decrypts', () => {
  it("refuses tenant A's ciphertext planted in tenant B's row for the same path", async () => {
    await api.request('PUT', `/v1/secrets/${PATH}`, { token: b.token, body: { data: { password: 'b-own' } } });
    const stolen = await ciphertextOf(a.tenantId, PATH, 1);
    await plant(b.tenantId, PATH, 1, stolen, true);
    expectIntegrityFailure(await api.request('GET', `/v1/secrets/${PATH}`, { token: b.token }));
    expectIntegrityFailure(await api.request('GET', `/v1/secrets/${PATH}?version=1`, { token: b.token }));
    // A is unaffected.
    expect((await api.request('GET', `/v1/secrets/${PATH}`, { token: a.token })).body.data).toEqual(DATA);
  });

  it("refuses tenant A's ciphertext planted under another of A's own paths (same data key)", async () => {
    await api.request('PUT', '/v1/secrets/prod/db/other', { token: a.token, body: { data: { password: 'other' } } });
    await plant(a.tenantId, 'prod/db/other', 1, await ciphertextOf(a.tenantId, PATH, 1), true);
    expectIntegrityFailure(await api.request('GET', '/v1/secrets/prod/db/other', { token: a.token }));
    expectIntegrityFailure(await api.request('GET', '/v1/secrets/prod/db/other?version=1', { token: a.token }));
    expect((await api.request('GET', `/v1/secrets/${PATH}`, { token: a.token })).body.data).toEqual(DATA);
  });

  it('refuses an old version replayed as the latest of the same path', async () => {
    const path = 'prod/rotating';
    await api.request('PUT', `/v1/secrets/${path}`, { token: a.token, body: { data: { password: `${CANARY}-old` } } });
    await api.request('PUT', `/v1/secrets/${path}`, { token: a.token, body: { data: { password: 'new' } } });
    await plant(a.tenantId, path, 2, await ciphertextOf(a.tenantId, path, 1), true);
    expectIntegrityFailure(await api.request('GET', `/v1/secrets/${path}`, { token: a.token }));
    expectIntegrityFailure(await api.request('GET', `/v1/secrets/${path}?version=2`, { token: a.token }));
    // Version 1 itself is untouched and still reads.
    expect((await api.request('GET', `/v1/secrets/${path}?version=1`, { token: a.token })).body.data).toEqual({ password: `${CANARY}-old` });
  });

  it('refuses a ciphertext with one flipped bit, truncated, or in an unknown format', async () => {
    const path = 'prod/tampered';
    await api.request('PUT', `/v1/secrets/${path}`, { token: a.token, body: { data: { password: 'x' } } });
    const original = Buffer.from(await ciphertextOf(a.tenantId, path, 1));
    const flipped = Buffer.from(original);
    flipped[flipped.length - 1]! ^= 0x01;
    const unknownFormat = Buffer.from(original);
    unknownFormat[0] = 9;
    for (const blob of [flipped, original.subarray(0, 20), unknownFormat, Buffer.from('not a blob')]) {
      await plant(a.tenantId, path, 1, blob, true);
      expectIntegrityFailure(await api.request('GET', `/v1/secrets/${path}`, { token: a.token }));
    }
    await plant(a.tenantId, path, 1, original, true);
    expect((await api.request('GET', `/v1/secrets/${path}`, { token: a.token })).body.data).toEqual({ password: 'x' });
  });
});
