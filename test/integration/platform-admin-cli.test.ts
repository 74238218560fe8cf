import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type Client } from '../support/runtime';

// `npm run platform-admin`: a stage's first platform admin, made with AWS credentials for
// the table (here moto's and DynamoDB Local's), as an SRE would after the first deploy.
const run = promisify(execFile);
let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;

async function platformAdmin(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = {
    ...process.env,
    AWS_ENDPOINT_URL: runtime.aws.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: runtime.aws.dynamodbEndpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: runtime.aws.region,
  };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bin/platform-admin.ts', ...args], { env: { ...base, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const login = (clientId: string, clientSecret: string) =>
  api.request('POST', '/v1/token', { body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret } });

async function platformEvents(action: string) {
  const page = await api.request('GET', `/v1/audit?limit=1000&action=${action}`, { token: await api.adminToken() });
  expect(page.status).toBe(200);
  return page.body.items as any[];
}

beforeAll(async () => {
  runtime = await startTestRuntime({ authorizerCacheTtlMs: 0 });
  api = runtime.client;
});
afterAll(async () => {
  await runtime?.stop();
});

describe('npm run platform-admin', () => {
  let created: { clientId: string; clientSecret: string; name: string; status: string; createdBy: string };

  it('creates an admin whose secret logs in and onboards a tenant, shown once, recorded as the AWS caller', async () => {
    const result = await platformAdmin(['create', '--table', runtime.resources.table, '--name', 'sre-first', '--json']);
    expect(result.code, result.stderr).toBe(0);
    created = JSON.parse(result.stdout);
    expect(created).toMatchObject({ clientId: expect.stringMatching(/^platform\.cli_[a-z2-7]{20}$/), clientSecret: expect.stringMatching(/^cs_/), name: 'sre-first', status: 'active' });
    expect(created).not.toHaveProperty('secretHash');
    expect(created.createdBy).toMatch(/^platform:arn:aws:/);

    const token = await login(created.clientId, created.clientSecret);
    expect(token.status).toBe(200);
    const tenant = await api.request('POST', '/v1/admin/tenants', { token: token.body.access_token, body: { name: 'made-by-the-first-admin' } });
    expect(tenant.status).toBe(201);

    const [event, ...more] = (await platformEvents('platform.admin.create')).filter((e) => e.details.clientId === created.clientId);
    expect(more).toEqual([]);
    expect(event).toMatchObject({ actor: { type: 'platform', id: created.createdBy.slice('platform:'.length), authMethod: 'aws_iam' }, outcome: 'success', status: 201, sourceIp: 'shell', details: { name: 'sre-first' } });
    expect(JSON.stringify(event)).not.toContain(created.clientSecret);
  });

  it('prints the credentials on stdout and the advice on stderr for a person', async () => {
    const result = await platformAdmin(['create', '--table', runtime.resources.table]);
    expect(result.code, result.stderr).toBe(0);
    const [id, secret] = result.stdout.trim().split('\n').map((line) => line.split(/\s+/)[1]!);
    expect(result.stdout).toMatch(/^client_id {6}platform\.cli_\w+\nclient_secret {2}cs_\S+\n$/);
    expect(result.stderr).toContain('shown once');
    expect(result.stderr).not.toContain(secret);
    expect((await login(id!, secret!)).status).toBe(200);
  });

  it('lists the admins in a table, without secrets or hashes', async () => {
    const result = await platformAdmin(['list', '--table', runtime.resources.table]);
    expect(result.code, result.stderr).toBe(0);
    const [header, ...rows] = result.stdout.trim().split('\n');
    expect(header).toMatch(/^CLIENT ID\s+NAME\s+STATUS\s+CREATED\s+CREATED BY$/);
    // The runtime's own admin, and the two made above.
    expect(rows).toHaveLength(3);
    expect(rows.find((r) => r.startsWith(created.clientId))).toMatch(/sre-first\s+active/);
    expect(result.stdout).not.toContain(created.clientSecret);
    expect(result.stdout).not.toMatch(/scrypt|\$s\d/);
  });

  it('disables an admin: its secret stops logging in and its tokens are refused, recorded; again is a no-op', async () => {
    const token = (await login(created.clientId, created.clientSecret)).body.access_token as string;
    expect((await api.request('GET', '/v1/admin/tenants', { token })).status).toBe(200);

    const result = await platformAdmin(['disable', created.clientId, '--table', runtime.resources.table]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Disabled ${created.clientId}`);
    expect((await login(created.clientId, created.clientSecret)).status).toBe(401);
    expect((await api.request('GET', '/v1/admin/tenants', { token })).status).toBe(401);
    expect((await platformEvents('platform.admin.disable')).filter((e) => e.resource === created.clientId)).toHaveLength(1);

    const again = await platformAdmin(['disable', created.clientId, '--table', runtime.resources.table]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already disabled');
    expect((await platformEvents('platform.admin.disable')).filter((e) => e.resource === created.clientId)).toHaveLength(1);
  });

  it('says what is wrong: usage (2), a table that is not there, an unknown client (1)', async () => {
    const table = ['--table', runtime.resources.table];
    const usage = [
      [[], 'Name a command.'],
      [['rotate', ...table], "Unknown command 'rotate'."],
      [['list'], 'Name the table'],
      [['list', '--stage', 'prod', ...table], 'not both'],
      [['create', '--name', 'has space', ...table], '--name:'],
      [['disable', ...table], 'Name the client to disable.'],
      [['disable', 'ten_x.cli_y', ...table], 'is not a platform client id'],
      [['list', '--bogus', ...table], "Unknown option '--bogus'"],
    ] as const;
    for (const [args, message] of usage) {
      const result = await platformAdmin([...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(message);
    }
    const noRegion = await platformAdmin(['list', ...table], { AWS_REGION: '', AWS_DEFAULT_REGION: '' });
    expect(noRegion.code).toBe(2);
    expect(noRegion.stderr).toContain('Name the primary region');

    const missing = await platformAdmin(['list', '--stage', 'nowhere']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`No table coffer-nowhere in ${runtime.aws.region}`);

    const unknown = await platformAdmin(['disable', 'platform.cli_aaaaaaaaaaaaaaaaaaaa', ...table]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("No platform admin client 'platform.cli_aaaaaaaaaaaaaaaaaaaa'.");
  });
});
