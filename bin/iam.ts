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
//     (add --export to print `export COFFER_TOKEN=…` and, for password logins,
//      `export COFFER_REFRESH_TOKEN=…` for eval, instead of the JSON answer)
//   whoami | logout | roles
//   list  users|clients|groups|policies|issuers|iam-bindings    a table, every page
//   get   <collection> <name>
//   put   groups|policies|issuers|iam-bindings <name> --file BODY.json
//   create users|clients --file BODY.json
//   patch users|clients <name> --file BODY.json
//   delete <collection> <name>
//   password <user> --new P [--current P]          yours with --current, anyone's as an admin
//   rotate <clientId> [--current-secret S]         yours with --current-secret, any as an admin
//   totp enrol|verify|disable <user> [--otp CODE]
//   network [--set CIDR,CIDR…]                     the tenant safelist (--set '' clears it)
//
// The rest use COFFER_TOKEN against COFFER_ENDPOINT (default: .coffer/local.json's endpoint).
// Exit status: 0 on success, 1 when Coffer refused (its problem+json is printed), 2 on usage.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { signedCallerIdentityRequest } from './login/aws-iam-request';

const COLLECTIONS = ['users', 'clients', 'groups', 'policies', 'issuers', 'iam-bindings'] as const;
type Collection = (typeof COLLECTIONS)[number];

class UsageError extends Error {}

interface Answer {
  readonly status: number;
  readonly body: any;
}

function endpoint(): string {
  if (process.env.COFFER_ENDPOINT) return process.env.COFFER_ENDPOINT;
  if (existsSync('.coffer/local.json')) return (JSON.parse(readFileSync('.coffer/local.json', 'utf8')) as { endpoint: string }).endpoint;
  throw new UsageError('Set COFFER_ENDPOINT (or run `npm start` for a local Coffer).');
}

async function call(method: string, path: string, body?: unknown, token = process.env.COFFER_TOKEN): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${endpoint()}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = { status: response.status, detail: text.slice(0, 500) };
  }
  return { status: response.status, body: parsed };
}

function collection(name: string | undefined): Collection {
  if (!COLLECTIONS.includes(name as never)) throw new UsageError(`Name one of ${COLLECTIONS.join(', ')}.`);
  return name as Collection;
}

function need(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new UsageError(`Missing ${what}.`);
  return value;
}

const segment = (value: string | undefined, what: string) => encodeURIComponent(need(value, what));

/** Every page of a collection, as one list. */
async function listAll(c: Collection): Promise<Answer & { items?: any[] }> {
  const items: any[] = [];
  let cursor: string | undefined;
  do {
    const page = await call('GET', `/v1/${c}?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (page.status !== 200) return page;
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
    if (cursor) process.stderr.write(`\r${items.length} ${c}…`);
  } while (cursor);
  if (items.length > 1000) process.stderr.write('\n');
  return { status: 200, body: undefined, items };
}

/** One row per record: the fields a reader scans for, nested lists as counts. */
function tableRow({ rev: _rev, createdBy: _cb, updatedBy: _ub, tenantId: _t, entries, bindings, ...rest }: Record<string, any>) {
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) flat[key] = Array.isArray(value) ? value.join(' ') : value;
  return { ...flat, ...(entries ? { entries: entries.length } : {}), ...(bindings ? { bindings: bindings.length } : {}) };
}

async function login(method: string | undefined, values: Record<string, string | boolean | undefined>): Promise<Answer> {
  const v = (name: string) => values[name] as string | undefined;
  const grant =
    method === 'client' ? { grant_type: 'client_credentials', client_id: need(v('id'), '--id'), client_secret: need(v('secret'), '--secret') }
    : method === 'password' ? { grant_type: 'password', tenant: need(v('tenant'), '--tenant'), username: need(v('username'), '--username'), password: need(v('password'), '--password'), ...(v('otp') ? { otp: v('otp') } : {}) }
    : method === 'refresh' ? { grant_type: 'refresh_token', refresh_token: need(v('refresh-token'), '--refresh-token') }
    : method === 'jwt' ? { grant_type: 'jwt', tenant: need(v('tenant'), '--tenant'), assertion: need(v('assertion'), '--assertion'), ...(v('role') ? { role: v('role') } : {}) }
    : method === 'aws_iam' ? {
        grant_type: 'aws_iam',
        tenant: need(v('tenant'), '--tenant'),
        request: await signedCallerIdentityRequest({
          credentials: {
            accessKeyId: need(process.env.AWS_ACCESS_KEY_ID, 'AWS_ACCESS_KEY_ID'),
            secretAccessKey: need(process.env.AWS_SECRET_ACCESS_KEY, 'AWS_SECRET_ACCESS_KEY'),
            ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
          },
          tenant: v('tenant')!,
          ...(v('sts-endpoint') ? { stsEndpoint: v('sts-endpoint')! } : {}),
        }),
      }
    : undefined;
  if (!grant) throw new UsageError('login client|password|refresh|aws_iam|jwt');
  return call('POST', '/v1/token', grant, undefined);
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      id: { type: 'string' }, secret: { type: 'string' }, tenant: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' },
      otp: { type: 'string' }, 'refresh-token': { type: 'string' }, 'sts-endpoint': { type: 'string' }, assertion: { type: 'string' }, role: { type: 'string' },
      file: { type: 'string' }, new: { type: 'string' }, current: { type: 'string' }, 'current-secret': { type: 'string' }, set: { type: 'string' },
      export: { type: 'boolean' },
    },
  });
  const body = () => JSON.parse(readFileSync(need(values.file, '--file BODY.json'), 'utf8')) as unknown;
  let answer: Answer;
  switch (command) {
    case 'login':
      answer = await login(positionals[0], values);
      if (values.export) {
        // stdout is eval'd: only export lines go there, a refusal goes to stderr.
        if (answer.status !== 200) {
          console.error(JSON.stringify(answer.body, null, 2));
          return 1;
        }
        console.log(`export COFFER_TOKEN=${answer.body.access_token}`);
        if (answer.body.refresh_token) console.log(`export COFFER_REFRESH_TOKEN=${answer.body.refresh_token}`);
        return 0;
      }
      break;
    case 'whoami':
      answer = await call('GET', '/v1/whoami');
      break;
    case 'logout':
      answer = await call('POST', '/v1/logout');
      break;
    case 'roles': {
      answer = await call('GET', '/v1/roles');
      if (answer.status === 200) {
        console.table(answer.body.items.map((r: any) => ({ role: r.role, operations: r.operations.join(' '), 'manages identities': r.managesIdentities })));
        return 0;
      }
      break;
    }
    case 'list': {
      const listed = await listAll(collection(positionals[0]));
      if (listed.items) {
        if (listed.items.length === 0) console.log(`No ${positionals[0]}.`);
        else console.table(listed.items.map(tableRow));
        return 0;
      }
      answer = listed;
      break;
    }
    case 'get':
      answer = await call('GET', `/v1/${collection(positionals[0])}/${segment(positionals[1], 'a name')}`);
      break;
    case 'put':
      answer = await call('PUT', `/v1/${collection(positionals[0])}/${segment(positionals[1], 'a name')}`, body());
      break;
    case 'create':
      answer = await call('POST', `/v1/${collection(positionals[0])}`, body());
      break;
    case 'patch':
      answer = await call('PATCH', `/v1/${collection(positionals[0])}/${segment(positionals[1], 'a name')}`, body());
      break;
    case 'delete':
      answer = await call('DELETE', `/v1/${collection(positionals[0])}/${segment(positionals[1], 'a name')}`);
      break;
    case 'password':
      answer = await call('PUT', `/v1/users/${segment(positionals[0], 'a username')}/password`, {
        newPassword: need(values.new, '--new'),
        ...(values.current ? { currentPassword: values.current } : {}),
      });
      break;
    case 'rotate':
      answer = await call('POST', `/v1/clients/${segment(positionals[0], 'a client id')}/secret`, values['current-secret'] ? { currentSecret: values['current-secret'] } : undefined);
      break;
    case 'totp': {
      const [action, user] = positionals;
      const base = `/v1/users/${segment(user, 'a username')}/totp`;
      if (action === 'enrol') answer = await call('POST', base);
      else if (action === 'verify') answer = await call('POST', `${base}/verify`, { otp: need(values.otp, '--otp CODE') });
      else if (action === 'disable') answer = await call('DELETE', base);
      else throw new UsageError('totp enrol|verify|disable <user>');
      if (action === 'verify' && answer.status === 204) {
        console.log('TOTP is on. Every earlier session of this user has ended, this one too: log in again with --otp.');
        return 0;
      }
      if (action === 'enrol' && answer.status === 201) {
        console.log(`Add this to your authenticator app, then confirm with: npm run iam -- totp verify ${user} --otp CODE\n\n  ${answer.body.otpauthUri}\n`);
        console.log(`(or type the key by hand: ${answer.body.secret})`);
        return 0;
      }
      break;
    }
    case 'network':
      answer =
        values.set === undefined
          ? await call('GET', '/v1/network')
          : await call('PUT', '/v1/network', { cidrs: values.set.split(',').map((c) => c.trim()).filter(Boolean) });
      break;
    default:
      throw new UsageError('usage: npm run iam -- login|whoami|logout|roles|list|get|put|create|patch|delete|password|rotate|totp|network … (see bin/iam.ts)');
  }
  if (answer.body !== undefined) console.log(JSON.stringify(answer.body, null, 2));
  else console.log(answer.status < 400 ? 'Done.' : `Failed with ${answer.status}.`);
  return answer.status < 400 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    const usage = error instanceof UsageError || error instanceof SyntaxError || String((error as { code?: string }).code).startsWith('ERR_PARSE_ARGS');
    process.exit(usage ? 2 : 1);
  },
);
