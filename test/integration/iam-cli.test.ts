import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateSync } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type Client } from '../support/runtime';

// `npm run iam` (bin/iam.ts) as a user runs it: a child process against the local runtime,
// logging in, administering identities, and answering refusals with exit status 1.
const run = promisify(execFile);
let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let t: Awaited<ReturnType<Client['onboard']>>;
const dir = mkdtempSync(join(tmpdir(), 'coffer-iam-cli-'));

async function iam(args: string[], token?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, COFFER_ENDPOINT: runtime.endpoint, ...(token ? { COFFER_TOKEN: token } : { COFFER_TOKEN: '' }) };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bin/iam.ts', ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const file = (body: unknown) => {
  const path = join(dir, `${randomUUID()}.json`);
  writeFileSync(path, JSON.stringify(body));
  return path;
};

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  t = await api.onboard('cli');
});
afterAll(async () => {
  await runtime?.stop();
});

describe('npm run iam', () => {
  it('logs a client in (JSON, or an export line for eval) and shows whoami and the role table', async () => {
    const json = await iam(['login', 'client', '--id', t.clientId, '--secret', t.clientSecret]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const exported = await iam(['login', 'client', '--id', t.clientId, '--secret', t.clientSecret, '--export']);
    const token = /^export COFFER_TOKEN=(\S+)\n$/.exec(exported.stdout)?.[1];
    expect(token).toBeDefined();
    const who = await iam(['whoami'], token);
    expect(JSON.parse(who.stdout)).toMatchObject({ principal: { type: 'client', id: t.clientId }, tenantId: t.tenantId, roles: ['owner'] });
    const roles = await iam(['roles'], token);
    expect(roles.stdout).toMatch(/contributor.*create read update delete list/);
  });

  it('creates a user, lists users as a table, resets its password, and enrols and confirms TOTP for it', async () => {
    const created = await iam(['create', 'users', '--file', file({ username: 'carla', password: 'first-passphrase-1', roles: ['viewer'] })], t.token);
    expect(created.code, created.stdout).toBe(0);
    const listed = await iam(['list', 'users'], t.token);
    expect(listed.stdout).toMatch(/carla.*viewer.*active/);
    expect((await iam(['password', 'carla', '--new', 'second-passphrase-2'], t.token)).code).toBe(0);
    const carla = await iam(['login', 'password', '--tenant', t.tenantId, '--username', 'carla', '--password', 'second-passphrase-2', '--export']);
    const token = /^export COFFER_TOKEN=(\S+)/.exec(carla.stdout)![1]!;
    const refreshToken = /^export COFFER_REFRESH_TOKEN=(crt_\S+)$/m.exec(carla.stdout)?.[1];
    expect(refreshToken).toBeDefined();
    expect((await iam(['login', 'refresh', '--refresh-token', refreshToken!, '--export'])).stdout).toMatch(/^export COFFER_TOKEN=\S+\nexport COFFER_REFRESH_TOKEN=crt_/);

    const enrol = await iam(['totp', 'enrol', 'carla'], token);
    expect(enrol.code).toBe(0);
    const secret = /secret=([A-Z2-7]+)/.exec(enrol.stdout)![1]!;
    expect(enrol.stdout).toContain('otpauth://totp/');
    const verify = await iam(['totp', 'verify', 'carla', '--otp', generateSync({ secret })], token);
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toContain('log in again with --otp');
    expect((await api.request('GET', '/v1/users/carla', { token: t.token })).body.mfa).toBe('enabled');
  });

  it('rotates a client secret as an admin; sets and clears the network safelist', async () => {
    const made = await iam(['create', 'clients', '--file', file({ name: 'deploy', roles: ['contributor'] })], t.token);
    const { clientId, clientSecret } = JSON.parse(made.stdout);
    const rotated = await iam(['rotate', clientId], t.token);
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout).clientSecret).not.toBe(clientSecret);
    const set = await iam(['network', '--set', '127.0.0.0/8,::1/128'], t.token);
    expect(JSON.parse(set.stdout)).toMatchObject({ cidrs: ['127.0.0.0/8', '::1/128'] });
    expect(JSON.parse((await iam(['network', '--set', ''], t.token)).stdout)).toMatchObject({ cidrs: [] });
  });

  it("exits 1 and prints Coffer's problem when refused, and 2 on a usage mistake", async () => {
    const refused = await iam(['login', 'client', '--id', t.clientId, '--secret', 'cs_wrong']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ status: 401, detail: 'The credentials are missing, invalid or expired.' });
    // With --export stdout is for eval: the refusal goes to stderr, nothing to stdout.
    const exported = await iam(['login', 'client', '--id', t.clientId, '--secret', 'cs_wrong', '--export']);
    expect([exported.code, exported.stdout]).toEqual([1, '']);
    expect(JSON.parse(exported.stderr)).toMatchObject({ status: 401 });
    expect((await iam(['get', 'users', 'nobody'], t.token)).code).toBe(1);
    expect((await iam(['list', 'widgets'], t.token)).code).toBe(2);
    expect((await iam(['login', 'client', '--id', t.clientId])).stderr).toContain('Missing --secret.');
    expect((await iam(['frobnicate'])).code).toBe(2);
  });
});
