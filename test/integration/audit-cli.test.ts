import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type Client } from '../support/runtime';

// `npm run audit -- query|export` as a user runs it: a child process against the local
// runtime. Its default credentials are the platform admin's, whose trail is the platform
// chain, so it says whose trail it reads before printing any of it.
const run = promisify(execFile);
let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let t: Awaited<ReturnType<Client['onboard']>>;

async function audit(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = { ...process.env, COFFER_ENDPOINT: runtime.endpoint, COFFER_TOKEN: '', COFFER_CLIENT_ID: '', COFFER_CLIENT_SECRET: '' };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bin/audit.ts', ...args], { env: { ...base, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  t = await api.onboard('audit-cli');
  await api.request('PUT', '/v1/secrets/cli/x', { token: t.token, body: { data: { a: 1 } } });
});
afterAll(async () => {
  await runtime?.stop();
});

describe('npm run audit', () => {
  it('says that the platform admin reads the platform chain, and shows its onboarding', async () => {
    const admin = { COFFER_CLIENT_ID: runtime.admin.clientId, COFFER_CLIENT_SECRET: runtime.admin.clientSecret };
    const result = await audit(['query', '--action', 'tenant.create'], admin);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/reading the platform chain .*platform admin/);
    expect(result.stdout).toContain('tenant.create');
    expect(result.stdout).not.toContain('secret.write');
  });

  it("says which tenant's trail a tenant token reads, in query and export", async () => {
    const query = await audit(['query', '--action', 'secret.write'], { COFFER_TOKEN: t.token });
    expect(query.code, query.stderr).toBe(0);
    expect(query.stderr).toContain(`reading the trail of tenant ${t.tenantId}`);
    expect(query.stdout).toContain('cli/x');
    const exported = await audit(['export', '--action', 'secret.write'], { COFFER_TOKEN: t.token });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain(`reading the trail of tenant ${t.tenantId}`);
    expect(exported.stdout.trim().split('\n').map((line) => JSON.parse(line).resource)).toContain('cli/x');
  });
});
