import { DeleteItemCommand, DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand as DocQueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '../../lambdas/adapters/dynamodb/audit-log';
import { KmsDigestSigner } from '../../lambdas/adapters/kms/digest-signer';
import { S3AuditArchive } from '../../lambdas/adapters/s3/audit-archive';
import { hashOf, type AuditEvent } from '../../lambdas/core/audit';
import { signedMessage, verifyArchive } from '../../lambdas/core/audit-archive';
import type { ArchivedObject, BatchDigest } from '../../lambdas/ports/audit-archive';
import { AuditShipper } from '../../lambdas/core/audit-shipper';
import type { ShippingSource } from '../../lambdas/ports/audit-archive';
import { startTestRuntime, type Client } from '../support/runtime';

let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let s3: S3Client;
let archive: S3AuditArchive;
let signer: KmsDigestSigner;
let trail: DynamoAuditLog;

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const verifySignature = (digest: BatchDigest) =>
  signer.verify(signedMessage(digest.digest), Buffer.from(digest.signature, 'base64'), digest.keyId, digest.algorithm);

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  const { endpoint, region } = runtime.aws;
  s3 = new S3Client({ region, endpoint, credentials, forcePathStyle: true });
  archive = new S3AuditArchive(s3, runtime.resources.auditBucket);
  signer = new KmsDigestSigner(new KMSClient({ region, endpoint, credentials }), runtime.resources.auditSigningKeyAlias);
  trail = new DynamoAuditLog(DynamoDBDocumentClient.from(new DynamoDBClient({ region, endpoint: runtime.aws.dynamodbEndpoint, credentials })), runtime.resources.table);
});
afterAll(() => runtime?.stop());

async function tenantWithActivity(name: string, writes = 3) {
  const tenant = await api.onboard(name);
  for (let i = 1; i <= writes; i++) {
    expect((await api.request('PUT', '/v1/secrets/app/key', { token: tenant.token, body: { data: { n: i } } })).status).toBeLessThan(300);
    await api.request('GET', '/v1/secrets/app/key', { token: tenant.token });
  }
  return tenant;
}

describe('shipping to S3', () => {
  it('archives each tenant chain as signed gzip JSON Lines under per-day prefixes, locked in compliance mode', async () => {
    const tenant = await tenantWithActivity('shipped');
    await runtime.auditShipping.drain();

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: runtime.resources.auditBucket, Prefix: `audit/${tenant.tenantId}/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    expect(keys.some((k) => k.startsWith(`audit/${tenant.tenantId}/${day}/`) && k.endsWith('.jsonl.gz'))).toBe(true);
    expect(keys.some((k) => k.endsWith('.digest.json'))).toBe(true);

    const eventsKey = keys.find((k) => k.endsWith('.jsonl.gz'))!;
    const head = await s3.send(new HeadObjectCommand({ Bucket: runtime.resources.auditBucket, Key: eventsKey }));
    expect(head).toMatchObject({ ContentEncoding: 'gzip', ContentType: 'application/x-ndjson', ObjectLockMode: 'COMPLIANCE' });
    expect(head.ObjectLockRetainUntilDate!.getTime()).toBeGreaterThan(Date.now());
    const body = await s3.send(new GetObjectCommand({ Bucket: runtime.resources.auditBucket, Key: eventsKey }));
    const lines = gunzipSync(await body.Body!.transformToByteArray()).toString('utf8').trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ chain: tenant.tenantId, seq: 1 });

    // Object Lock (compliance): not even a versioned delete goes through.
    await expect(
      s3.send(new DeleteObjectCommand({ Bucket: runtime.resources.auditBucket, Key: eventsKey, VersionId: head.VersionId })),
    ).rejects.toThrow();

    const objects = await archive.readChain(tenant.tenantId);
    const report = await verifyArchive(tenant.tenantId, objects, verifySignature);
    expect(report.problems).toEqual([]);
    const fromApi: AuditEvent[] = (await api.request('GET', '/v1/audit?limit=1000', { token: tenant.token })).body.items;
    expect(report.lastSeq).toBeGreaterThanOrEqual(fromApi.length);
    expect(objects.flatMap((o) => o.events).map((e) => e.id)).toEqual(expect.arrayContaining(fromApi.map((e) => e.id)));
  });

  it('keeps serving while S3 is down (DynamoDB holds the record), and archives everything once S3 is back', async () => {
    const tenant = await tenantWithActivity('s3-outage', 1);
    const s3Down = mockClient(S3Client);
    s3Down.onAnyCommand().rejects(Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $fault: 'server' }));
    try {
      // Requests never touch S3: the fail-closed record is the DynamoDB event.
      expect((await api.request('GET', '/v1/secrets/app/key', { token: tenant.token })).status).toBe(200);
      // The shipper's batch fails and is left for redelivery; nothing is marked shipped.
      await expect(runtime.auditShipping.drain({ maxPolls: 3 })).rejects.toThrow('did not drain');
      expect((await trail.shipped(tenant.tenantId)).seq).toBe(0);
    } finally {
      s3Down.restore();
    }
    await runtime.auditShipping.drain();
    const report = await verifyArchive(tenant.tenantId, await archive.readChain(tenant.tenantId), verifySignature);
    expect(report.problems).toEqual([]);
    expect(report.lastSeq).toBe((await trail.head(tenant.tenantId)).seq);
  });

  it('catches up after a transaction killed midway and a stream iterator that expired', async () => {
    const tenant = await tenantWithActivity('killed-midway', 1);
    await runtime.auditShipping.drain();

    // A write whose transaction dies in flight (its change and its event together): the
    // client gets a 503, the trail keeps what did commit, the stream goes on.
    const realDocSend = DynamoDBDocumentClient.prototype.send;
    const killed = mockClient(DynamoDBDocumentClient);
    for (const Command of [GetCommand, PutCommand, DocQueryCommand, UpdateCommand, BatchGetCommand, TransactWriteCommand] as const) {
      killed.on(Command as any).callsFake((input, getClient) => (realDocSend as any).call(getClient(), new (Command as any)(input)));
    }
    killed.on(TransactWriteCommand).rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $fault: 'server' }));
    try {
      expect((await api.request('PUT', '/v1/secrets/app/key', { token: tenant.token, body: { data: { n: 'killed' } } })).status).toBe(503);
    } finally {
      killed.restore();
    }

    // Then the poller's iterator expires (DynamoDB's are good for 15 minutes): it must
    // take up the shard again after the last record it handled, not stop for good.
    const realStreamsSend = DynamoDBStreamsClient.prototype.send;
    const expiring = mockClient(DynamoDBStreamsClient);
    let expired = 0;
    for (const Command of [DescribeStreamCommand, GetShardIteratorCommand] as const) {
      expiring.on(Command as any).callsFake((input, getClient) => (realStreamsSend as any).call(getClient(), new (Command as any)(input)));
    }
    expiring.on(GetRecordsCommand).callsFake((input, getClient) => {
      if (expired++ === 0) throw Object.assign(new Error('Iterator expired'), { name: 'ExpiredIteratorException', $fault: 'client' });
      return (realStreamsSend as any).call(getClient(), new GetRecordsCommand(input));
    });
    try {
      for (let i = 0; i < 3; i++) expect((await api.request('PUT', '/v1/secrets/app/key', { token: tenant.token, body: { data: { n: i } } })).status).toBe(200);
      await runtime.auditShipping.drain({ maxPolls: 20 });
    } finally {
      expiring.restore();
    }
    expect(expired).toBeGreaterThan(1);
    const report = await verifyArchive(tenant.tenantId, await archive.readChain(tenant.tenantId), verifySignature);
    expect(report.problems).toEqual([]);
    expect(report.lastSeq).toBe((await trail.head(tenant.tenantId)).seq);
  });

  it('loses nothing and duplicates nothing visible when the shipper crashes mid-batch', async () => {
    const tenant = await tenantWithActivity('crashy', 2);
    // Crash after the batch reached S3 but before the shipper recorded its progress.
    let crashes = 1;
    const crashing: ShippingSource = {
      after: (chain, seq, limit) => trail.after(chain, seq, limit),
      shipped: (chain) => trail.shipped(chain),
      markShipped: async (chain, from, to) => {
        if (crashes-- > 0) throw new Error('shipper killed');
        return trail.markShipped(chain, from, to);
      },
    };
    const shipper = new AuditShipper(crashing, archive, signer, { batchSize: 4 });
    await expect(shipper.shipChain(tenant.tenantId)).rejects.toThrow('shipper killed');
    await api.request('GET', '/v1/secrets/app/key', { token: tenant.token }); // more events meanwhile
    const resumed = await shipper.shipChain(tenant.tenantId);
    expect(resumed.events).toBeGreaterThan(4);

    const objects = await archive.readChain(tenant.tenantId);
    const report = await verifyArchive(tenant.tenantId, objects, verifySignature);
    expect(report.problems).toEqual([]);
    expect(report.firstSeq).toBe(1);
    // The re-shipped first batch landed under the same name: a second version, same events.
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: runtime.resources.auditBucket, Prefix: `audit/${tenant.tenantId}/` }));
    const first = objects[0]!.key;
    expect((versions.Versions ?? []).filter((v) => v.Key === first)).toHaveLength(2);
    expect(report.lastSeq).toBe((await trail.head(tenant.tenantId)).seq);
  });

  it('continues a chain whose events expired (TTL) from its shipped mark, not from seq 1', async () => {
    const tenant = await tenantWithActivity('idle', 1);
    const shipper = new AuditShipper(trail, archive, signer);
    const first = await shipper.shipChain(tenant.tenantId);
    // The 90-day TTL removes every event item; the shipped mark stays.
    const raw = new DynamoDBClient({ region: runtime.aws.region, endpoint: runtime.aws.dynamodbEndpoint, credentials });
    const { Items } = await raw.send(
      new QueryCommand({
        TableName: runtime.resources.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
        ExpressionAttributeValues: { ':pk': { S: `T#${tenant.tenantId}#AUDIT` }, ':e': { S: 'E#' } },
      }),
    );
    for (const item of Items ?? []) await raw.send(new DeleteItemCommand({ TableName: runtime.resources.table, Key: { pk: item.pk!, sk: item.sk! } }));
    raw.destroy();

    // A new container (no cached tail) records the next request.
    const fresh = new DynamoAuditLog(DynamoDBDocumentClient.from(new DynamoDBClient({ region: runtime.aws.region, endpoint: runtime.aws.dynamodbEndpoint, credentials })), runtime.resources.table);
    expect(await fresh.head(tenant.tenantId)).toEqual(await trail.shipped(tenant.tenantId));
    // …and the secrets function forgets its cached tail, as a cold container would.
    const { auditLog } = await import('../../lambdas/handlers/secrets');
    (auditLog as unknown as { heads: Map<string, unknown> }).heads.clear();
    await api.request('GET', '/v1/secrets/app/key', { token: tenant.token });
    expect((await trail.head(tenant.tenantId)).seq).toBe(first.shippedTo + 1);
    await shipper.shipChain(tenant.tenantId);
    expect((await verifyArchive(tenant.tenantId, await archive.readChain(tenant.tenantId), verifySignature)).problems).toEqual([]);
  });

  it('never claims a seq again when TTL removed the newest event before older ones', async () => {
    const tenant = await tenantWithActivity('ttl-order', 1);
    const shipped = await new AuditShipper(trail, archive, signer).shipChain(tenant.tenantId);
    const raw = new DynamoDBClient({ region: runtime.aws.region, endpoint: runtime.aws.dynamodbEndpoint, credentials });
    await raw.send(
      new DeleteItemCommand({
        TableName: runtime.resources.table,
        Key: { pk: { S: `T#${tenant.tenantId}#AUDIT` }, sk: { S: `E#${String(shipped.shippedTo).padStart(12, '0')}` } },
      }),
    );
    raw.destroy();
    const fresh = new DynamoAuditLog(DynamoDBDocumentClient.from(new DynamoDBClient({ region: runtime.aws.region, endpoint: runtime.aws.dynamodbEndpoint, credentials })), runtime.resources.table);
    expect((await fresh.head(tenant.tenantId)).seq).toBe(shipped.shippedTo);
  });

  it('refuses to archive a chain that was tampered with in DynamoDB', async () => {
    const tenant = await tenantWithActivity('tampered-primary', 1);
    const raw = new DynamoDBClient({ region: runtime.aws.region, endpoint: runtime.aws.dynamodbEndpoint, credentials });
    await raw.send(
      new UpdateItemCommand({
        TableName: runtime.resources.table,
        Key: { pk: { S: `T#${tenant.tenantId}#AUDIT` }, sk: { S: 'E#000000000002' } },
        // Someone with table access rewrites what a write was into a read.
        UpdateExpression: 'SET #action = :a',
        ExpressionAttributeNames: { '#action': 'action' },
        ExpressionAttributeValues: { ':a': { S: 'secret.read' } },
      }),
    );
    const shipper = new AuditShipper(trail, archive, signer);
    await expect(shipper.shipChain(tenant.tenantId)).rejects.toThrow(/does not verify/);
    raw.destroy();
  });
});

describe('verify catches tampering in the archive', () => {
  let objects: ArchivedObject[];
  let chain: string;

  beforeAll(async () => {
    const tenant = await tenantWithActivity('verified', 3);
    chain = tenant.tenantId;
    await new AuditShipper(trail, archive, signer, { batchSize: 1000 }).shipChain(chain);
    objects = await archive.readChain(chain);
    expect(objects.flatMap((o) => o.events).length).toBeGreaterThan(5);
  });

  const withEvents = (edit: (events: AuditEvent[]) => AuditEvent[]): ArchivedObject[] =>
    objects.map((o, i) => (i === 0 ? { ...o, events: edit([...o.events]) } : o));
  const kinds = async (tampered: ArchivedObject[]) => (await verifyArchive(chain, tampered, verifySignature)).problems.map((p) => p.kind);

  it('passes the untouched archive', async () => {
    expect(await kinds(objects)).toEqual([]);
  });

  it('detects a deleted event', async () => {
    const problems = await kinds(withEvents((events) => events.filter((e) => e.seq !== 3)));
    expect(problems).toContain('missing');
  });

  it('detects an altered event, even with its hash recomputed', async () => {
    const altered = withEvents((events) => events.map((e) => (e.seq === 2 ? { ...e, outcome: 'success' as const, status: 200 } : e)));
    expect(await kinds(altered)).toContain('altered');
    const rehashed = withEvents((events) =>
      events.map((e) => {
        if (e.seq !== 2) return e;
        const { hash: _hash, ...rest } = { ...e, status: 200 };
        return { ...rest, hash: hashOf(rest) };
      }),
    );
    const problems = await kinds(rehashed);
    expect(problems).toContain('broken-link');
    expect(problems).toContain('altered'); // the batch digest no longer matches
  });

  it('detects reordered events', async () => {
    const reordered = withEvents((events) => {
      [events[1], events[2]] = [events[2]!, events[1]!];
      return events;
    });
    expect(await kinds(reordered)).toContain('reordered');
  });

  it('detects a deleted tail against the shipped mark (links alone cannot)', async () => {
    const mark = await trail.shipped(chain);
    expect(mark.seq).toBeGreaterThan(0);
    const truncated = withEvents((events) => events.slice(0, -2));
    expect((await verifyArchive(chain, truncated, verifySignature)).problems.map((p) => p.kind)).toEqual(['altered']); // digest only
    const problems = (await verifyArchive(chain, truncated, verifySignature, mark)).problems;
    expect(problems.map((p) => p.kind)).toEqual(['altered', 'missing']);
    expect(problems[1]!.detail).toContain(`seq ${mark.seq} was shipped`);
    expect((await verifyArchive(chain, objects, verifySignature, mark)).problems).toEqual([]);
  });

  it('refuses a digest re-signed with another KMS key, whatever key id it claims', async () => {
    const kms = new KMSClient({ region: runtime.aws.region, endpoint: runtime.aws.endpoint, credentials });
    const forgerKey = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
    const forger = new KmsDigestSigner(kms, forgerKey.KeyMetadata!.Arn!);
    const resigned = await Promise.all(
      objects.map(async (o) => {
        if (!o.digest) return o;
        const { signature, keyId, algorithm } = await forger.sign(signedMessage(o.digest.digest));
        return { ...o, digest: { ...o.digest, keyId, algorithm, signature: Buffer.from(signature).toString('base64') } };
      }),
    );
    // The forger's own verifier accepts them; Coffer's (the configured audit key) does not.
    expect(await forger.verify(signedMessage(resigned[0]!.digest!.digest), Buffer.from(resigned[0]!.digest!.signature, 'base64'), 'any', 'ECDSA_SHA_256')).toBe(true);
    expect(new Set(await kinds(resigned))).toEqual(new Set(['altered']));
    kms.destroy();
  });

  it('detects a batch whose digest was forged without the signing key', async () => {
    const forged = objects.map((o, i) => (i === 0 && o.digest ? { ...o, digest: { ...o.digest, signature: Buffer.alloc(64, 1).toString('base64') } } : o));
    expect(await kinds(forged)).toEqual(['altered']);
  });
});
