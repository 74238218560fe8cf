import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startLocalRuntime } from '../bin/local/runtime';
import { clientFor } from '../test/support/runtime';
import { awsCallCounts, resetAwsCallCounts } from '../lambdas/adapters/call-counter';

// `npm run bench:read`: a warm secret read through the whole local stack (HTTP → gateway
// → cached authorizer → handler → DynamoDB → AES-GCM) against a bare DynamoDB GetItem of
// the same item on the same DynamoDB Local, interleaved in rounds so machine noise hits both alike.
// Prints the ratio, and the AWS calls each operation makes (counted by an SDK middleware).
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 50);

const runtime = await startLocalRuntime({ port: 0, logLevel: 'SILENT', shipIntervalMs: 3_600_000 });
try {
  const api = clientFor(runtime);
  const { tenantId, token } = await api.onboard('bench');
  const path = 'bench/db/password';
  const value = { username: 'app', password: 'x'.repeat(64) };
  await api.request('PUT', `/v1/secrets/${path}`, { token, body: { data: value } });

  const dynamo = new DynamoDBClient({ region: runtime.aws.region, endpoint: runtime.aws.dynamodbEndpoint });
  const getItem = new GetItemCommand({
    TableName: runtime.resources.table,
    Key: { pk: { S: `T#${tenantId}#HEADS` }, sk: { S: path } },
    ConsistentRead: true,
  });
  const apiRead = async () => {
    const r = await api.request('GET', `/v1/secrets/${path}`, { token });
    if (r.status !== 200) throw new Error(`read failed: ${r.status}`);
  };
  const bareRead = async () => {
    const r = await dynamo.send(getItem);
    if (!r.Item) throw new Error('item missing');
  };

  // Warm both paths (connections, JIT, data-key cache, authorizer cache).
  for (let i = 0; i < 20; i++) {
    await apiRead();
    await bareRead();
  }

  const samples = { api: [] as number[], bare: [] as number[] };
  const measure = async (fn: () => Promise<void>, into: number[]) => {
    for (let i = 0; i < PER_ROUND; i++) {
      const t = performance.now();
      await fn();
      into.push(performance.now() - t);
    }
  };
  for (let round = 0; round < ROUNDS; round++) {
    await measure(bareRead, samples.bare);
    await measure(apiRead, samples.api);
    process.stderr.write(`\rround ${round + 1}/${ROUNDS}`);
  }
  process.stderr.write('\n');

  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
    return { p50: q(0.5), p95: q(0.95), mean: xs.reduce((a, b) => a + b, 0) / xs.length };
  };
  const a = stats(samples.api);
  const b = stats(samples.bare);
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  console.log(`\nWarm read, ${ROUNDS} × ${PER_ROUND} interleaved samples each (DynamoDB Local and moto on 127.0.0.1)`);
  console.table({
    'bare DynamoDB GetItem (baseline)': { p50: ms(b.p50), p95: ms(b.p95), mean: ms(b.mean), 'ratio p50': '1.00×' },
    'GET /v1/secrets/{path} via API': { p50: ms(a.p50), p95: ms(a.p95), mean: ms(a.mean), 'ratio p50': `${(a.p50 / b.p50).toFixed(2)}×` },
  });

  // AWS calls per operation, from the handlers' own SDK clients.
  const { dataKeyRing } = await import('../lambdas/handlers/secrets');
  const count = async (operation: string, op: () => Promise<unknown>) => {
    resetAwsCallCounts();
    await op();
    const counts = awsCallCounts();
    const sum = (prefix: string) => Object.entries(counts).filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);
    const calls = Object.entries(counts).sort().map(([k, v]) => `${k}×${v}`).join(' ');
    return { operation, DynamoDB: sum('dynamodb:'), KMS: sum('kms:'), calls };
  };
  const write = () => api.request('PUT', `/v1/secrets/${path}`, { token, body: { data: value } });
  const rows = [];
  rows.push(await count('read latest, warm', apiRead));
  await write();
  rows.push(await count('write new version, warm', write));
  rows.push(await count('read older version, warm', () => api.request('GET', `/v1/secrets/${path}?version=1`, { token })));
  rows.push(await count('list by prefix', () => api.request('GET', '/v1/secrets?prefix=bench/', { token })));
  dataKeyRing.clear();
  rows.push(await count('read latest, cold data-key cache', apiRead));
  rows.push(await count('token (client_credentials)', () => api.token(runtime.admin.clientId, runtime.admin.clientSecret)));
  rows.push(await count('onboard tenant (+ owner token)', () => api.onboard('bench-2')));
  console.log('\nAWS calls per operation (authorizer cache warm; counted by an SDK middleware)');
  console.table(rows);
  dynamo.destroy();
} finally {
  await runtime.stop();
}
