#!/usr/bin/env node
// `npm run iam -- <command>`: log in every way Coffer accepts, and manage a tenant's
// identities from the shell.
//
//   login client  --id ID --secret SECRET
//   login password --tenant T --username U --password P [--otp CODE]
//   login refresh --refresh-token RT
//   login aws_iam --tenant T [--sts-endpoint URL]     signs sts:GetCallerIdentity with your
//                                                     AWS credentials (env); they never leave you
//   login jwt --tenant T --assertion JWT [--role R]
//   whoami
//   list  users|clients|groups|policies|issuers|iam-bindings    a table, every page
//   get   <collection> <name>
//   put   groups|policies|issuers|iam-bindings <name> --file BODY.json
//   create users|clients --file BODY.json
//   patch users|clients <name> --file BODY.json
//   delete <collection> <name>
//
// `login` prints the token response (JSON). The rest use COFFER_TOKEN against
// COFFER_ENDPOINT (default: .coffer/local.json's endpoint).
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { signedCallerIdentityRequest } from './login/aws-iam-request';

const COLLECTIONS = ['users', 'clients', 'groups', 'policies', 'issuers', 'iam-bindings'] as const;

function endpoint(): string {
  if (process.env.COFFER_ENDPOINT) return process.env.COFFER_ENDPOINT;
  if (existsSync('.coffer/local.json')) return (JSON.parse(readFileSync('.coffer/local.json', 'utf8')) as { endpoint: string }).endpoint;
  throw new Error('Set COFFER_ENDPOINT (or run `npm start` for a local Coffer).');
}

async function call(method: string, path: string, body?: unknown, token = process.env.COFFER_TOKEN): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${endpoint()}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

function collection(name: string | undefined): (typeof COLLECTIONS)[number] {
  if (!COLLECTIONS.includes(name as never)) throw new Error(`Name one of ${COLLECTIONS.join(', ')}.`);
  return name as (typeof COLLECTIONS)[number];
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      id: { type: 'string' }, secret: { type: 'string' }, tenant: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' },
      otp: { type: 'string' }, 'refresh-token': { type: 'string' }, 'sts-endpoint': { type: 'string' }, assertion: { type: 'string' }, role: { type: 'string' },
      file: { type: 'string' },
    },
  });
  const body = () => {
    if (!values.file) throw new Error('Pass the request body with --file BODY.json.');
    return JSON.parse(readFileSync(values.file, 'utf8')) as unknown;
  };
  let result: { status: number; body: any };
  switch (command) {
    case 'login': {
      const method = positionals[0];
      const grant =
        method === 'client' ? { grant_type: 'client_credentials', client_id: values.id, client_secret: values.secret }
        : method === 'password' ? { grant_type: 'password', tenant: values.tenant, username: values.username, password: values.password, ...(values.otp ? { otp: values.otp } : {}) }
        : method === 'refresh' ? { grant_type: 'refresh_token', refresh_token: values['refresh-token'] }
        : method === 'jwt' ? { grant_type: 'jwt', tenant: values.tenant, assertion: values.assertion, ...(values.role ? { role: values.role } : {}) }
        : method === 'aws_iam' ? {
            grant_type: 'aws_iam',
            tenant: values.tenant,
            request: await signedCallerIdentityRequest({
              credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '', ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}) },
              tenant: values.tenant ?? '',
              ...(values['sts-endpoint'] ? { stsEndpoint: values['sts-endpoint'] } : {}),
            }),
          }
        : undefined;
      if (!grant) throw new Error('login client|password|refresh|aws_iam|jwt');
      result = await call('POST', '/v1/token', grant, undefined);
      break;
    }
    case 'whoami':
      result = await call('GET', '/v1/whoami');
      break;
    case 'list': {
      const c = collection(positionals[0]);
      const items: any[] = [];
      let cursor: string | undefined;
      do {
        result = await call('GET', `/v1/${c}?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        if (result.status !== 200) break;
        items.push(...result.body.items);
        cursor = result.body.nextCursor;
      } while (cursor);
      if (result.status === 200) {
        console.table(items.map(({ rev: _rev, createdBy: _cb, updatedBy: _ub, tenantId: _t, entries, bindings, ...rest }) => ({ ...rest, ...(entries ? { entries: entries.length } : {}), ...(bindings ? { bindings: bindings.length } : {}) })));
        return 0;
      }
      break;
    }
    case 'get':
      result = await call('GET', `/v1/${collection(positionals[0])}/${encodeURIComponent(positionals[1] ?? '')}`);
      break;
    case 'put':
      result = await call('PUT', `/v1/${collection(positionals[0])}/${encodeURIComponent(positionals[1] ?? '')}`, body());
      break;
    case 'create':
      result = await call('POST', `/v1/${collection(positionals[0])}`, body());
      break;
    case 'patch':
      result = await call('PATCH', `/v1/${collection(positionals[0])}/${encodeURIComponent(positionals[1] ?? '')}`, body());
      break;
    case 'delete':
      result = await call('DELETE', `/v1/${collection(positionals[0])}/${encodeURIComponent(positionals[1] ?? '')}`);
      break;
    default:
      console.error('usage: npm run iam -- login|whoami|list|get|put|create|patch|delete … (see bin/iam.ts)');
      return 2;
  }
  console.log(JSON.stringify(result.body ?? { status: result.status }, null, 2));
  return result.status < 400 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(2);
  },
);
