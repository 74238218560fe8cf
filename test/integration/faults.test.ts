import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, rawDynamo, rawKms, tableImage, tenantRows } from '../support/probe';
import { startTestRuntime, type Client, type Response } from '../support/runtime';

// Faults moto cannot produce, injected with aws-sdk-client-mock on the SDK clients the
// handlers use: every one is a 503 problem with Retry-After, and none leaves a partial write.
let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let db: DynamoDBClient;
let tenant: Awaited<ReturnType<Client['onboard']>>;
let adminToken: string;
let dataKeyRing: { clear(): void };

// The SDK's own send, kept before any stub replaces it, to let chosen commands reach moto.
type Send<C> = (this: C, command: unknown) => Promise<never>;
const realKmsSend = KMSClient.prototype.send as Send<KMSClient>;
const realDocSend = DynamoDBDocumentClient.prototype.send as Send<DynamoDBDocumentClient>;
type CommandClass = new (input: any) => any;

const awsError = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} (injected)`), { name, $fault: 'server', $metadata: { httpStatusCode: 503 }, ...extra });

const KMS_DOWN = 'A storage or key service (kms) is unavailable; nothing was changed. Retry later.';
const DYNAMO_DOWN = 'A storage or key service (dynamodb) is unavailable; nothing was changed. Retry later.';

let mocks: { restore(): void }[] = [];
afterEach(() => {
  for (const m of mocks) m.restore();
  mocks = [];
});

/** KMS where the listed commands go to moto and every other command fails with `error`. */
function kmsOutage(error: Error, passThrough: CommandClass[] = []) {
  const mock = mockClient(KMSClient);
  mocks.push(mock);
  mock.onAnyCommand().rejects(error);
  for (const Command of passThrough) {
    mock.on(Command as never).callsFake((input: object, getClient: () => KMSClient) => realKmsSend.call(getClient(), new Command(input)));
  }
  return mock;
}

/** The document client where `failing` commands fail with `error` and the rest reach moto. */
function dynamoOutage(error: Error, failing: CommandClass[]) {
  const mock = mockClient(DynamoDBDocumentClient);
  mocks.push(mock);
  for (const Command of [GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, DeleteCommand, BatchWriteCommand] as CommandClass[]) {
    if (failing.includes(Command)) mock.on(Command as never).rejects(error);
    else mock.on(Command as never).callsFake((input: object, getClient: () => DynamoDBDocumentClient) => realDocSend.call(getClient(), new Command(input)));
  }
  return mock;
}

function expectUnavailable(response: Response, detail: string): void {
  expectProblem(response, 503, detail);
  expect(response.body.type).toBe('https://coffer.dev/problems/dependency-unavailable');
  expect(response.headers.get('retry-after')).toBe('1');
}

const rows = () => tenantRows(db, runtime.resources.table, tenant.tenantId);

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  db = rawDynamo(runtime);
  tenant = await api.onboard('faults');
  adminToken = await api.adminToken();
  // The handlers' own module instance, loaded by the runtime after it set the environment.
  ({ dataKeyRing } = await import('../../lambdas/handlers/secrets'));
});
afterAll(async () => {
  db?.destroy();
  await runtime?.stop();
});

describe('KMS outage', () => {
  it('serves a warm read with KMS down, making no KMS call', async () => {
    await api.request('PUT', '/v1/secrets/kms/warm', { token: tenant.token, body: { data: { v: 'warm' } } });
    expect((await api.request('GET', '/v1/secrets/kms/warm', { token: tenant.token })).status).toBe(200);
    const kms = kmsOutage(awsError('KMSInternalException'));
    const read = await api.request('GET', '/v1/secrets/kms/warm', { token: tenant.token });
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual({ v: 'warm' });
    expect(kms.calls()).toHaveLength(0);
  });

  it.each([
    ['KMSInternalException'],
    ['ThrottlingException'],
    ['DisabledException'],
    ['AccessDeniedException'],
    ['TimeoutError'],
  ])('answers a cold read with 503 and Retry-After when KMS fails with %s', async (name) => {
    await api.request('PUT', '/v1/secrets/kms/cold', { token: tenant.token, body: { data: { v: 'cold' } } });
    dataKeyRing.clear();
    const kms = kmsOutage(awsError(name));
    const read = await api.request('GET', '/v1/secrets/kms/cold', { token: tenant.token });
    expectUnavailable(read, KMS_DOWN);
    expect(JSON.stringify(read.body)).not.toContain('cold"');
    expect(kms.commandCalls(DecryptCommand).length).toBeGreaterThan(0);
    // The failure is not cached: once KMS is back the same container reads again.
    kms.restore();
    const after = await api.request('GET', '/v1/secrets/kms/cold', { token: tenant.token });
    expect(after.status).toBe(200);
    expect(after.body.data).toEqual({ v: 'cold' });
  });

  it('refuses a write with 503 during a KMS outage and writes no version', async () => {
    await api.request('PUT', '/v1/secrets/kms/write', { token: tenant.token, body: { data: { n: 1 } } });
    const before = await rows();
    dataKeyRing.clear();
    const kms = kmsOutage(awsError('KMSInternalException'));
    expectUnavailable(await api.request('PUT', '/v1/secrets/kms/write', { token: tenant.token, body: { data: { n: 2 } } }), KMS_DOWN);
    expectUnavailable(await api.request('PUT', '/v1/secrets/kms/write', { token: tenant.token, headers: { 'if-match': '1' }, body: { data: { n: 2 } } }), KMS_DOWN);
    expectUnavailable(await api.request('POST', '/v1/secrets/kms/new', { token: tenant.token, body: { data: { n: 1 } } }), KMS_DOWN);
    kms.restore();
    expect(await rows()).toBe(before);
    expect((await api.request('GET', '/v1/secrets/kms/write', { token: tenant.token })).body).toMatchObject({ version: 1, data: { n: 1 } });
    expect((await api.request('GET', '/v1/metadata/kms/write', { token: tenant.token })).body.versions).toHaveLength(1);
    expectProblem(await api.request('GET', '/v1/secrets/kms/new', { token: tenant.token }), 404);
    // And the next write is version 2, not 3: no version number was burnt.
    expect((await api.request('PUT', '/v1/secrets/kms/write', { token: tenant.token, body: { data: { n: 2 } } })).body.version).toBe(2);
  });

  it('reports KMS as the failed check on /health', async () => {
    kmsOutage(awsError('KMSInternalException'));
    const health = await api.request('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'unavailable', checks: { kms: { ok: false }, dynamodb: { ok: true } } });
  });
});

describe('DynamoDB outage', () => {
  const outages = [
    ['throttling', awsError('ProvisionedThroughputExceededException')],
    ['a request-rate throttle', awsError('ThrottlingException')],
    ['an internal server error', awsError('InternalServerError')],
    ['a transaction cancelled by throttling', awsError('TransactionCanceledException', { CancellationReasons: [{ Code: 'None' }, { Code: 'ThrottlingError' }] })],
    ['a network timeout', awsError('TimeoutError')],
  ] as const;

  it.each(outages)('refuses a write with 503 on %s and leaves no partial write', async (_, error) => {
    await api.request('PUT', '/v1/secrets/ddb/write', { token: tenant.token, body: { data: { n: 1 } } });
    const before = await rows();
    const current = (await api.request('GET', '/v1/secrets/ddb/write', { token: tenant.token })).body;
    dynamoOutage(error, [TransactWriteCommand]);
    expectUnavailable(await api.request('PUT', '/v1/secrets/ddb/write', { token: tenant.token, body: { data: { n: 99 } } }), DYNAMO_DOWN);
    expectUnavailable(await api.request('POST', '/v1/secrets/ddb/new', { token: tenant.token, body: { data: { n: 1 } } }), DYNAMO_DOWN);
    for (const m of mocks) m.restore();
    expect(await rows()).toBe(before);
    expect((await api.request('GET', '/v1/secrets/ddb/write', { token: tenant.token })).body).toMatchObject({ version: current.version, data: current.data });
  });

  it('answers a read and a listing with 503 when DynamoDB cannot be read', async () => {
    await api.request('PUT', '/v1/secrets/ddb/read', { token: tenant.token, body: { data: { n: 1 } } });
    dynamoOutage(awsError('InternalServerError'), [GetCommand, QueryCommand]);
    expectUnavailable(await api.request('GET', '/v1/secrets/ddb/read', { token: tenant.token }), DYNAMO_DOWN);
    expectUnavailable(await api.request('GET', '/v1/secrets', { token: tenant.token }), DYNAMO_DOWN);
    expectUnavailable(await api.request('GET', '/v1/metadata/ddb/read', { token: tenant.token }), DYNAMO_DOWN);
  });

  it('refuses a delete with 503 when the update fails, and the secret stays live', async () => {
    await api.request('PUT', '/v1/secrets/ddb/delete', { token: tenant.token, body: { data: { n: 1 } } });
    const before = await rows();
    // The delete commits with its audit event, so it is a transaction.
    dynamoOutage(awsError('ProvisionedThroughputExceededException'), [UpdateCommand, TransactWriteCommand]);
    expectUnavailable(await api.request('DELETE', '/v1/secrets/ddb/delete', { token: tenant.token }), DYNAMO_DOWN);
    for (const m of mocks) m.restore();
    expect(await rows()).toBe(before);
    expect((await api.request('GET', '/v1/secrets/ddb/delete', { token: tenant.token })).status).toBe(200);
  });

  it('finishes an interrupted purge on the next purge call; the half-purged secret cannot be restored', async () => {
    for (const n of [1, 2, 3]) await api.request('PUT', '/v1/secrets/ddb/purge', { token: tenant.token, body: { data: { n } } });
    await api.request('DELETE', '/v1/secrets/ddb/purge', { token: tenant.token });
    dynamoOutage(awsError('InternalServerError'), [BatchWriteCommand]);
    expectUnavailable(await api.request('DELETE', '/v1/metadata/ddb/purge', { token: tenant.token }), DYNAMO_DOWN);
    for (const m of mocks) m.restore();
    // The head is still there, deleted and marked as purging: listed as deleted, not restorable.
    const listed = await api.request('GET', '/v1/secrets?prefix=ddb/purge&deleted=true', { token: tenant.token });
    expect(listed.body.items.map((i: { path: string }) => i.path)).toEqual(['ddb/purge']);
    expectProblem(await api.request('POST', '/v1/restore/ddb/purge', { token: tenant.token }), 404);
    expect((await api.request('DELETE', '/v1/metadata/ddb/purge', { token: tenant.token })).status).toBe(204);
    expectProblem(await api.request('GET', '/v1/metadata/ddb/purge', { token: tenant.token }), 404);
    expect(await rows()).not.toContain('ddb/purge');
  });

  it('answers the token endpoint with 503, not 401, when the client cannot be looked up', async () => {
    dynamoOutage(awsError('InternalServerError'), [GetCommand]);
    const response = await api.request('POST', '/v1/token', { body: { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret } });
    expectUnavailable(response, DYNAMO_DOWN);
  });

  it('reports DynamoDB as the failed check on /health', async () => {
    dynamoOutage(awsError('InternalServerError'), [GetCommand]);
    const health = await api.request('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'unavailable', checks: { dynamodb: { ok: false }, kms: { ok: true } } });
  });
});

describe('onboarding during an outage', () => {
  let kms: Record<string, KMSClient>;
  const tenantIds = async () =>
    ((await api.request('GET', '/v1/admin/tenants?limit=1000', { token: adminToken })).body.items as { tenantId: string }[]).map((t) => t.tenantId).sort();
  /** Aliases of this tenant id in any region (other test files share moto, so never count all). */
  const aliasesOf = async (tenantId: string) => {
    const found: string[] = [];
    for (const [region, client] of Object.entries(kms)) {
      const { Aliases } = await client.send(new ListAliasesCommand({ Limit: 1000 }));
      found.push(...(Aliases ?? []).filter((a) => a.AliasName === `alias/coffer/${tenantId}`).map((a) => `${region}:${a.AliasName}`));
    }
    return found;
  };

  /** The state of every KMS key made for this tenant id, in every region. */
  const keyStatesOf = async (tenantId: string) => {
    const states: string[] = [];
    for (const client of Object.values(kms)) {
      const { Keys } = await client.send(new ListKeysCommand({ Limit: 1000 }));
      for (const { KeyId } of Keys ?? []) {
        const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId }));
        if (KeyMetadata?.Description?.includes(tenantId)) states.push(KeyMetadata.KeyState ?? 'unknown');
      }
    }
    return states;
  };

  beforeAll(() => {
    kms = Object.fromEntries(runtime.aws.regions.map((r) => [r, rawKms(runtime, r)]));
  });
  afterAll(() => {
    for (const client of Object.values(kms)) client.destroy();
  });

  const KEY_SETUP = [CreateKeyCommand, CreateAliasCommand, GenerateDataKeyCommand, EncryptCommand];
  // The fault hits one operation; undoing the keys already made still reaches KMS.
  const KEY_CLEANUP = [DeleteAliasCommand, ScheduleKeyDeletionCommand];
  // Each returns the KMS stub, whose CreateKey calls name the tenant id that was attempted.
  const failures: [string, () => ReturnType<typeof kmsOutage>][] = [
    ['KMS CreateKey fails at once', () => kmsOutage(awsError('KMSInternalException'))],
    [
      'KMS CreateKey fails in the second region',
      () => {
        const mock = kmsOutage(awsError('LimitExceededException'), [CreateAliasCommand, ...KEY_CLEANUP]);
        mock.on(CreateKeyCommand).callsFakeOnce((input, getClient) => realKmsSend.call(getClient(), new CreateKeyCommand(input))).rejects(awsError('LimitExceededException'));
        return mock;
      },
    ],
    ['KMS GenerateDataKey fails', () => kmsOutage(awsError('KMSInternalException'), [CreateKeyCommand, CreateAliasCommand, EncryptCommand, ...KEY_CLEANUP])],
    [
      'the DynamoDB transaction is throttled',
      () => {
        dynamoOutage(awsError('ProvisionedThroughputExceededException'), [TransactWriteCommand]);
        return kmsOutage(awsError('KMSInternalException'), [...KEY_SETUP, ...KEY_CLEANUP]);
      },
    ],
  ];

  async function onboardDuring(inject: () => ReturnType<typeof kmsOutage>) {
    const image = await tableImage(db, runtime.resources.table);
    const ids = await tenantIds();
    const mock = inject();
    const response = await api.request('POST', '/v1/admin/tenants', { token: adminToken, body: { name: 'doomed' } });
    const attempted = mock.commandCalls(CreateKeyCommand).map((call) => call.args[0].input.Tags?.find((t) => t.TagKey === 'coffer:tenant')?.TagValue);
    for (const m of mocks) m.restore();
    mocks = [];
    return { response, image, ids, attempted: [...new Set(attempted)] };
  }

  it.each(failures)('answers 503 and leaves no tenant row when %s; a retry then works', async (_, inject) => {
    const { response, image, ids, attempted } = await onboardDuring(inject);
    expectProblem(response, 503, /^A storage or key service \((kms|dynamodb)\) is unavailable; nothing was changed\. Retry later\.$/);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(JSON.stringify(response.body)).not.toContain('clientSecret');
    expect(attempted).toHaveLength(1);
    // No half-made tenant: not one row of it, not in the admin listing, not readable by id.
    expect(await tableImage(db, runtime.resources.table)).toBe(image);
    expect(await tenantIds()).toEqual(ids);
    expectProblem(await api.request('GET', `/v1/admin/tenants/${attempted[0]}`, { token: adminToken }), 404);
    // A retry once the dependency is back onboards a working tenant.
    const retried = await api.onboard('retried');
    expect((await api.request('PUT', '/v1/secrets/after/outage', { token: retried.token, body: { data: { ok: true } } })).status).toBe(201);
  });

  it.each(failures.slice(1))('leaves no orphaned tenant KMS key alias behind when %s after keys were created', async (_, inject) => {
    const { response, attempted } = await onboardDuring(inject);
    expect(response.status).toBe(503);
    expect(attempted).toHaveLength(1);
    // The tenant was never created, so nothing in KMS may carry its name, and every key made
    // for it is scheduled for deletion.
    expect(await aliasesOf(attempted[0]!)).toEqual([]);
    const states = await keyStatesOf(attempted[0]!);
    expect(states.length).toBeGreaterThan(0);
    expect(states.every((state) => state === 'PendingDeletion'), states.join(',')).toBe(true);
  });
});
