import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lambdas/adapters/dynamodb/client';
import { keys } from '../../lambdas/adapters/dynamodb/keys';
import { newClientId } from '../../lambdas/core/ids';
import { rawRequest } from '../support/probe';
import { median, mannWhitneyZ } from '../support/stats';
import { startTestRuntime, type Client } from '../support/runtime';

// Run alone, after the other files (npm run test:timing): beside them the machine's noise
// drowns the very gaps this measures.
// The attack run told names apart by time: known user + wrong password 71.7 ms median,
// unknown user 65.1 ms (n = 100 each, Mann-Whitney z = 2.7); client ids 62.6 vs 50.9 ms.
// Here interleaved pairs are taken in batches until the samples could see the attack run's
// gap (it would push z past LIMIT + 1 on these very samples), so a noisy machine takes more
// samples instead of passing blind; then the test fails at |z| ≥ LIMIT. LIMIT sits well above
// the z of 1–2.5 that a ~1 ms emulator wobble reaches at these sizes.
const BATCH = 100;
const MAX_SAMPLES = Number(process.env.LOGIN_TIMING_MAX_SAMPLES ?? 600);
const LIMIT = 4.5;
const TRIES_PER_USER = 4; // under the lockout threshold (5): every known-user try is a plain wrong password

let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let tenant: Awaited<ReturnType<Client['onboard']>>;
const users: string[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  tenant = await api.onboard('timed');
  for (let i = 0; i < Math.ceil(MAX_SAMPLES / TRIES_PER_USER); i++) {
    const username = `known-${i}-${randomUUID().slice(0, 6)}`;
    const created = await api.request('POST', '/v1/users', { token: tenant.token, body: { username, password: `Right-${randomUUID()}` } });
    expect(created.status).toBe(201);
    users.push(username);
  }
}, 300_000);
afterAll(() => runtime?.stop());

/** Wall time of one refused login. */
async function timed(login: () => Promise<{ status: number }>): Promise<number> {
  const started = performance.now();
  const response = await login();
  const elapsed = performance.now() - started;
  expect(response.status).toBe(401);
  return elapsed;
}

/** Interleaved pairs (the order alternating) in batches until they could see `gapMs`, then the verdict. */
async function compare(label: string, known: (i: number) => Promise<{ status: number }>, unknown: (i: number) => Promise<{ status: number }>, gapMs: number) {
  for (let i = MAX_SAMPLES; i < MAX_SAMPLES + 10; i++) await timed(() => unknown(i)); // warm: connections, JIT
  const a: number[] = [];
  const b: number[] = [];
  let withGap = 0;
  while (a.length < MAX_SAMPLES && withGap <= LIMIT + 1) {
    for (let i = a.length, end = a.length + BATCH; i < end; i++) {
      if (i % 2 === 0) (a.push(await timed(() => known(i))), b.push(await timed(() => unknown(i))));
      else (b.push(await timed(() => unknown(i))), a.push(await timed(() => known(i))));
    }
    withGap = mannWhitneyZ(a.map((t) => t + gapMs), b);
  }
  const z = mannWhitneyZ(a, b);
  const summary = `${label}: known ${median(a).toFixed(1)} ms, unknown ${median(b).toFixed(1)} ms, z = ${z.toFixed(2)} (n = ${a.length} each; the attack run's ${gapMs.toFixed(1)} ms gap would give z = ${withGap.toFixed(1)})`;
  console.log(summary);
  expect(withGap, `${label}: even ${MAX_SAMPLES} samples could not see a ${gapMs.toFixed(1)} ms gap`).toBeGreaterThan(LIMIT);
  expect(Math.abs(z), summary).toBeLessThan(LIMIT);
}

const nobody = () => `nobody-${randomUUID().slice(0, 8)}`;

describe('login timing does not tell who exists', () => {
  it('makes an unknown name spend a write that lands, as a known name does on its counter', async () => {
    const doc = createDocumentClient({ region: runtime.aws.region, endpoint: runtime.aws.dynamodbEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const decoy = { pk: keys.identity(tenant.tenantId), sk: keys.decoySk };
    const before = Number((await doc.send(new GetCommand({ TableName: runtime.resources.table, Key: decoy, ConsistentRead: true }))).Item?.failedAttempts ?? 0);
    await timed(() => api.request('POST', '/v1/token', { body: { grant_type: 'password', tenant: tenant.tenantId, username: nobody(), password: 'Wrong-password-1' } }));
    const after = Number((await doc.send(new GetCommand({ TableName: runtime.resources.table, Key: decoy, ConsistentRead: true }))).Item?.failedAttempts ?? 0);
    doc.destroy();
    expect(after).toBe(before + 1);
  });

  it('password grant: a known user with a wrong password vs an unknown user', async () => {
    const login = (username: string) => api.request('POST', '/v1/token', { body: { grant_type: 'password', tenant: tenant.tenantId, username, password: `Wrong-${randomUUID()}` } });
    await compare('password login timing', (i) => login(users[Math.floor(i / TRIES_PER_USER)]!), () => login(nobody()), 71.7 - 65.1);
  }, 300_000);

  it('client credentials: a known client id with a wrong secret vs an unknown client id', async () => {
    const known = (await api.request('POST', '/v1/clients', { token: tenant.token, body: { name: 'timed-ci', roles: ['viewer'] } })).body.clientId as string;
    // Failed client logins are throttled per address (20 a minute): each pair of samples
    // comes from a loopback address of its own group, well under the limit.
    const from = (i: number) => `127.0.${1 + Math.floor(i / 8 / 250)}.${1 + (Math.floor(i / 8) % 250)}`;
    const login = (clientId: string, i: number) =>
      rawRequest(runtime.endpoint, 'POST', '/v1/token', {
        from: from(i),
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: `cs_${randomUUID()}` }),
        headers: { 'content-type': 'application/json' },
      });
    await compare('client login timing', (i) => login(known, i), (i) => login(newClientId(tenant.tenantId), i), 62.6 - 50.9);
  }, 300_000);
});
