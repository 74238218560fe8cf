import { verifyChain, type AuditEvent } from '../lambdas/core/audit';
import { readFile } from 'node:fs/promises';

// `npm run demo`: the README walk-through, run against `npm start` (reads .coffer/local.json).
// Onboards a tenant, gets its token, writes three versions, reads v2, lists, deletes, restores.
interface LocalState {
  endpoint: string;
  admin: { clientId: string; clientSecret: string };
}

const state = JSON.parse(await readFile('.coffer/local.json', 'utf8').catch(() => {
  console.error('No .coffer/local.json: start Coffer first with `npm start` (in another terminal).');
  process.exit(1);
})) as LocalState;

const rows: { step: string; request: string; status: number; result: string }[] = [];

async function call(step: string, method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${state.endpoint}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  }).catch(() => {
    console.error(`Coffer is not answering on ${state.endpoint}: is \`npm start\` still running?`);
    process.exit(1);
  });
  const text = await response.text();
  const body = text ? JSON.parse(text) : undefined;
  return { status: response.status, body, record: (result: string) => rows.push({ step, request: `${method} ${path}`, status: response.status, result }) };
}

function expectStatus(r: { status: number; body: unknown }, ...ok: number[]) {
  if (!ok.includes(r.status)) {
    console.table(rows);
    console.error(`Unexpected ${r.status}:`, r.body);
    process.exit(1);
  }
}

const tokenBody = (id: string, secret: string) => ({ grant_type: 'client_credentials', client_id: id, client_secret: secret });

const admin = await call('admin token', 'POST', '/v1/token', { body: tokenBody(state.admin.clientId, state.admin.clientSecret) });
expectStatus(admin, 200);
admin.record(`expires in ${admin.body.expires_in}s`);

const tenant = await call('onboard tenant', 'POST', '/v1/admin/tenants', { token: admin.body.access_token, body: { name: 'Demo Corp' } });
expectStatus(tenant, 201);
tenant.record(`${tenant.body.tenantId}, owner ${tenant.body.owner.clientId.slice(0, 34)}…`);

const owner = await call('owner token', 'POST', '/v1/token', { body: tokenBody(tenant.body.owner.clientId, tenant.body.owner.clientSecret) });
expectStatus(owner, 200);
owner.record('Bearer token (ES256, signed in KMS)');
const token = owner.body.access_token as string;

for (const n of [1, 2, 3]) {
  const put = await call(`write v${n}`, 'PUT', '/v1/secrets/prod/db/password', { token, body: { data: { username: 'app', password: `s3cret-v${n}` }, tags: { env: 'prod' } } });
  expectStatus(put, 200, 201);
  put.record(`version ${put.body.version}`);
}
const v2 = await call('read v2', 'GET', '/v1/secrets/prod/db/password?version=2', { token });
expectStatus(v2, 200);
v2.record(`version ${v2.body.version} of ${v2.body.latestVersion}: password=${v2.body.data.password}`);

const stale = await call('stale If-Match', 'PUT', '/v1/secrets/prod/db/password', { token, headers: { 'if-match': '2' }, body: { data: { password: 'lost?' } } });
expectStatus(stale, 412);
stale.record(stale.body.detail);

const list = await call('list prefix prod/', 'GET', '/v1/secrets?prefix=prod/', { token });
expectStatus(list, 200);
list.record(list.body.items.map((i: { path: string; version: number }) => `${i.path}@v${i.version}`).join(', '));

const del = await call('soft delete', 'DELETE', '/v1/secrets/prod/db/password', { token });
expectStatus(del, 204);
del.record('deleted (restorable)');

const gone = await call('read deleted', 'GET', '/v1/secrets/prod/db/password', { token });
expectStatus(gone, 404);
gone.record(gone.body.detail);

const restored = await call('restore', 'POST', '/v1/restore/prod/db/password', { token });
expectStatus(restored, 200);
restored.record(`back at version ${restored.body.version}`);

const back = await call('read latest', 'GET', '/v1/secrets/prod/db/password', { token });
expectStatus(back, 200);
back.record(`password=${back.body.data.password}`);

const trail = await call('audit trail', 'GET', '/v1/audit?limit=1000', { token });
expectStatus(trail, 200);
const events = trail.body.items as AuditEvent[];
const intact = verifyChain(tenant.body.tenantId, events).problems.length === 0;
trail.record(`${events.length} events, ${events.filter((e) => e.outcome !== 'success').length} refused; hash chain ${intact ? 'intact' : 'BROKEN'}`);

console.table(rows);
console.log('Walk-through complete. Archived audit batches: npm run audit -- verify --chain ' + tenant.body.tenantId);
