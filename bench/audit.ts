import { startLocalRuntime } from '../bin/local/runtime';
import { clientFor } from '../test/support/runtime';
import { awsCallCounts, countCalls, resetAwsCallCounts } from '../lambdas/adapters/call-counter';
import type { AuditDraft, AuditEvent } from '../lambdas/core/audit';
import type { PendingAudit } from '../lambdas/ports/audit-log';

// `npm run bench:audit`: what the audit trail costs.
//  1. Warm read and write through the whole local stack with the trail on, against the same
//     requests with the trail switched off *in this harness only* (the secrets function's
//     audit log replaced by a no-op), interleaved in rounds so noise hits both alike.
//  2. AWS calls per request with and without the trail (counted by an SDK middleware).
//  3. Shipper throughput: events per second from DynamoDB to signed gzip objects in S3.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 40);
const SHIP_EVENTS = Number(process.env.BENCH_SHIP_EVENTS ?? 2000);

const runtime = await startLocalRuntime({ port: 0, logLevel: 'SILENT', shipIntervalMs: 3_600_000 });
try {
  const api = clientFor(runtime);
  const { token, tenantId } = await api.onboard('bench-audit');
  const path = 'bench/audit/one';
  const body = { data: { password: 'x'.repeat(64) } };
  await api.request('PUT', `/v1/secrets/${path}`, { token, body });

  const secrets = await import('../lambdas/handlers/secrets');
  const log = secrets.auditLog;
  const real = { append: log.append.bind(log), transact: log.transact.bind(log) };
  const setAudit = (on: boolean) => {
    if (on) Object.assign(log, real);
    else
      Object.assign(log, {
        append: async (draft: AuditDraft): Promise<AuditEvent> => ({ ...draft, seq: 0, prevHash: '', hash: '' }),
        transact: (items: Parameters<typeof real.transact>[0], _pending: PendingAudit | undefined) => real.transact(items, undefined),
      });
  };

  const read = async () => {
    const r = await api.request('GET', `/v1/secrets/${path}`, { token });
    if (r.status !== 200) throw new Error(`read failed: ${r.status}`);
  };
  const write = async () => {
    const r = await api.request('PUT', `/v1/secrets/${path}`, { token, body });
    if (r.status !== 200) throw new Error(`write failed: ${r.status}`);
  };
  for (let i = 0; i < 10; i++) await read();

  const samples: Record<string, number[]> = { 'read, audit off': [], 'read, audit on': [], 'write, audit off': [], 'write, audit on': [] };
  const measure = async (label: string, on: boolean, fn: () => Promise<void>) => {
    setAudit(on);
    for (let i = 0; i < PER_ROUND; i++) {
      const t = performance.now();
      await fn();
      samples[label]!.push(performance.now() - t);
    }
  };
  for (let round = 0; round < ROUNDS; round++) {
    await measure('read, audit off', false, read);
    await measure('read, audit on', true, read);
    await measure('write, audit off', false, write);
    await measure('write, audit on', true, write);
    process.stderr.write(`\rround ${round + 1}/${ROUNDS}`);
  }
  setAudit(true);
  process.stderr.write('\n');

  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
    return { p50: q(0.5), p95: q(0.95) };
  };
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const table: Record<string, Record<string, string>> = {};
  for (const op of ['read', 'write']) {
    const off = stats(samples[`${op}, audit off`]!);
    const on = stats(samples[`${op}, audit on`]!);
    table[`${op}, audit off (baseline)`] = { p50: ms(off.p50), p95: ms(off.p95), 'ratio p50': '1.00×' };
    table[`${op}, audit on`] = { p50: ms(on.p50), p95: ms(on.p95), 'ratio p50': `${(on.p50 / off.p50).toFixed(2)}×`, 'extra p50': ms(on.p50 - off.p50) };
  }
  console.log(`\nAudit overhead, ${ROUNDS} × ${PER_ROUND} interleaved samples each (DynamoDB Local and moto on 127.0.0.1)`);
  console.table(table);

  const count = async (label: string, on: boolean, op: () => Promise<void>) => {
    setAudit(on);
    resetAwsCallCounts();
    await op();
    const calls = Object.entries(awsCallCounts()).sort().map(([k, v]) => `${k}×${v}`).join(' ');
    return { request: label, calls };
  };
  console.log('\nAWS calls per request (authorizer cache warm, data key cached)');
  console.table([
    await count('read, audit off', false, read),
    await count('read, audit on', true, read),
    await count('write, audit off', false, write),
    await count('write, audit on', true, write),
  ]);
  setAudit(true);

  // Contention: every request of a tenant claims the next seq of one chain. Many concurrent
  // readers of one tenant, each request's event racing the others for the tail.
  console.log('\nOne tenant, concurrent readers: every event claims the next seq of the same chain');
  const contention: Record<string, Record<string, string | number>> = {};
  for (const concurrency of [1, 4, 16]) {
    resetAwsCallCounts();
    const statuses = new Map<number, number>();
    const latencies: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = 0; i < Math.ceil(160 / concurrency); i++) {
          const t = performance.now();
          const r = await api.request('GET', `/v1/secrets/${path}`, { token });
          latencies.push(performance.now() - t);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const counts = awsCallCounts();
    const requests = latencies.length;
    contention[`${concurrency} concurrent`] = {
      requests,
      'req/s': Math.round(requests / seconds),
      p50: ms(stats(latencies).p50),
      p95: ms(stats(latencies).p95),
      statuses: [...statuses].map(([status, n]) => `${status}×${n}`).join(' '),
      'PutItem per request': ((counts['dynamodb:PutItem'] ?? 0) / requests).toFixed(2),
      'Query per request': ((counts['dynamodb:Query'] ?? 0) / requests).toFixed(2),
    };
  }
  console.table(contention);

  // Across containers (separate audit logs, as separate Lambda containers have): the
  // conditional put decides, and each lost race costs one more put.
  const { DynamoAuditLog } = await import('../lambdas/adapters/dynamodb/audit-log');
  const { createDocumentClient } = await import('../lambdas/adapters/dynamodb/client');
  const template0 = (await log.query(tenantId, { limit: 1 })).items[0]!;
  const { seq: _s0, prevHash: _p0, hash: _h0, ...draft0 } = template0;
  const across: Record<string, Record<string, string | number>> = {};
  for (const containers of [2, 4, 8]) {
    const logs = Array.from({ length: containers }, () => {
      const db = createDocumentClient({ region: runtime.aws.region, endpoint: runtime.aws.dynamodbEndpoint });
      countCalls(db, 'dynamodb');
      return new DynamoAuditLog(db, runtime.resources.table);
    });
    resetAwsCallCounts();
    let failed = 0;
    const latencies: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      logs.map(async (container) => {
        for (let i = 0; i < Math.ceil(160 / containers); i++) {
          const t = performance.now();
          await container.append({ ...draft0, id: crypto.randomUUID(), time: new Date().toISOString() }).catch(() => failed++);
          latencies.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const counts = awsCallCounts();
    across[`${containers} containers`] = {
      events: latencies.length - failed,
      'events/s': Math.round((latencies.length - failed) / seconds),
      p50: ms(stats(latencies).p50),
      p95: ms(stats(latencies).p95),
      'gave up (503)': failed,
      'PutItem per event': ((counts['dynamodb:PutItem'] ?? 0) / latencies.length).toFixed(2),
    };
  }
  console.log('\nOne chain, several containers appending at once (no HTTP)');
  console.table(across);

  // Shipper throughput: fill one chain, then ship it from DynamoDB to S3 in one go.
  const chain = tenantId;
  const already = (await log.head(chain)).seq;
  const template = (await log.query(chain, { limit: 1 })).items[0]!;
  for (let i = 0; i < SHIP_EVENTS - already; i++) {
    const { seq: _s, prevHash: _p, hash: _h, ...draft } = template;
    await log.append({ ...draft, id: crypto.randomUUID(), time: new Date().toISOString() });
    if (i % 200 === 0) process.stderr.write(`\rfilling chain ${i}/${SHIP_EVENTS}`);
  }
  process.stderr.write('\n');
  const { shipper } = await import('../lambdas/handlers/audit-shipper');
  resetAwsCallCounts();
  const t = performance.now();
  const shipped = await shipper.shipChain(chain);
  const seconds = (performance.now() - t) / 1000;
  console.log('\nShipper: one chain from DynamoDB to S3 (gzip JSON Lines + signed digest per batch of 500)');
  console.table({
    shipper: {
      events: shipped.events,
      objects: shipped.objects,
      seconds: seconds.toFixed(2),
      'events/s': Math.round(shipped.events / seconds),
      calls: Object.entries(awsCallCounts()).sort().map(([k, v]) => `${k}×${v}`).join(' '),
    },
  });
} finally {
  await runtime.stop();
}
