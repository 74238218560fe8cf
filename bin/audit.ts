#!/usr/bin/env node
// `npm run audit -- <command>`: read, export and verify the audit trail.
//
//   query  [--from T] [--to T] [--principal ID] [--path PREFIX] [--action A] [--outcome O] [--limit N]
//   export [same filters] [--out FILE]        JSON Lines, every page, progress on stderr
//   verify [--chain TENANT_ID|platform]        the archived chain in S3: digests, signatures, links,
//                                              and its end against the shipper's mark in the table
//
// query/export call the API with COFFER_TOKEN, or a token for COFFER_CLIENT_ID and
// COFFER_CLIENT_SECRET, against COFFER_ENDPOINT; all default to `.coffer/local.json`
// (the local platform admin). verify reads the bucket and checks signatures with KMS
// (COFFER_AUDIT_BUCKET, COFFER_AUDIT_SIGNING_KEY_ID, COFFER_TABLE_NAME or the local ones,
// AWS credentials).
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DynamoAuditLog } from '../lambdas/adapters/dynamodb/audit-log';
import { createDocumentClient } from '../lambdas/adapters/dynamodb/client';
import { KmsDigestSigner } from '../lambdas/adapters/kms/digest-signer';
import { S3AuditArchive } from '../lambdas/adapters/s3/audit-archive';
import { PLATFORM_CHAIN, type AuditEvent } from '../lambdas/core/audit';
import { signedMessage, verifyArchive } from '../lambdas/core/audit-archive';

interface LocalState {
  endpoint: string;
  admin: { clientId: string; clientSecret: string };
  aws: { endpoint: string; dynamodbEndpoint?: string; region: string };
  auditBucket?: string;
  auditSigningKey?: string;
  table?: string;
}

const FILTERS = ['from', 'to', 'principal', 'path', 'action', 'outcome'] as const;

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      ...Object.fromEntries(FILTERS.map((name) => [name, { type: 'string' as const }])),
      limit: { type: 'string' },
      out: { type: 'string' },
      chain: { type: 'string' },
    },
  });
  const local = readLocal();
  switch (command) {
    case 'query':
      return query(values, local);
    case 'export':
      return exportTrail(values, local);
    case 'verify':
      return verify(values.chain ?? PLATFORM_CHAIN, local);
    default:
      process.stderr.write('usage: npm run audit -- query|export|verify [options]  (see bin/audit.ts)\n');
      return 2;
  }
}

function readLocal(): LocalState | undefined {
  return existsSync('.coffer/local.json') ? (JSON.parse(readFileSync('.coffer/local.json', 'utf8')) as LocalState) : undefined;
}

async function api(local: LocalState | undefined) {
  const endpoint = process.env.COFFER_ENDPOINT ?? local?.endpoint;
  if (!endpoint) throw new Error('set COFFER_ENDPOINT (or run `npm start`, which writes .coffer/local.json)');
  let token = process.env.COFFER_TOKEN;
  if (!token) {
    const clientId = process.env.COFFER_CLIENT_ID ?? local?.admin.clientId;
    const clientSecret = process.env.COFFER_CLIENT_SECRET ?? local?.admin.clientSecret;
    if (!clientId || !clientSecret) throw new Error('set COFFER_TOKEN, or COFFER_CLIENT_ID and COFFER_CLIENT_SECRET');
    const response = await fetch(`${endpoint}/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
    });
    if (!response.ok) throw new Error(`token request refused: ${response.status} ${await response.text()}`);
    token = ((await response.json()) as { access_token: string }).access_token;
  }
  return async (path: string) => {
    const response = await fetch(`${endpoint}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response;
  };
}

/**
 * Says on stderr whose trail the token reads: the local default is the platform admin,
 * whose trail is the platform chain (onboarding, failed logins), not a tenant's.
 */
async function announceChain(get: Awaited<ReturnType<typeof api>>): Promise<void> {
  const me = (await (await get('/v1/whoami')).json()) as { tenantId: string | null; principal: { id: string } };
  process.stderr.write(
    me.tenantId
      ? `reading the trail of tenant ${me.tenantId} (as ${me.principal.id})\n`
      : 'reading the platform chain (onboarding, refused tokens, failed logins): this token is the platform admin\'s; ' +
          "for a tenant's trail set COFFER_TOKEN to a token of its Owner or Admin\n",
  );
}

function filterQuery(values: Record<string, string | undefined>, cursor?: string, limit?: string): string {
  const qs = new URLSearchParams();
  for (const name of FILTERS) if (values[name]) qs.set(name, values[name]!);
  if (limit) qs.set('limit', limit);
  if (cursor) qs.set('cursor', cursor);
  return qs.toString();
}

async function query(values: Record<string, string | undefined>, local: LocalState | undefined): Promise<number> {
  const get = await api(local);
  await announceChain(get);
  const page = (await (await get(`/v1/audit?${filterQuery(values, undefined, values.limit ?? '50')}`)).json()) as { items: AuditEvent[]; nextCursor?: string };
  console.table(
    page.items.map((e) => ({
      seq: e.seq,
      time: e.time,
      actor: e.actor.id ?? e.actor.type,
      action: e.action,
      resource: e.resource ?? '',
      outcome: `${e.outcome} ${e.status}`,
      source: e.sourceIp,
      correlation: e.correlationId,
    })),
  );
  if (page.nextCursor) console.log(`more: add --limit or use export (next cursor ${page.nextCursor})`);
  return 0;
}

async function exportTrail(values: Record<string, string | undefined>, local: LocalState | undefined): Promise<number> {
  const get = await api(local);
  await announceChain(get);
  const out = values.out ? createWriteStream(values.out) : process.stdout;
  let cursor: string | undefined;
  let events = 0;
  let pages = 0;
  do {
    const response = await get(`/v1/audit/export?${filterQuery(values, cursor)}`);
    const body = await response.text();
    out.write(body);
    events += body.split('\n').filter(Boolean).length;
    pages++;
    cursor = response.headers.get('x-next-cursor') ?? undefined;
    process.stderr.write(`\rexported ${events} events (${pages} page${pages === 1 ? '' : 's'})`);
  } while (cursor);
  process.stderr.write('\n');
  if (out !== process.stdout) out.end();
  return 0;
}

async function verify(chain: string, local: LocalState | undefined): Promise<number> {
  const bucket = process.env.COFFER_AUDIT_BUCKET ?? local?.auditBucket;
  const keyId = process.env.COFFER_AUDIT_SIGNING_KEY_ID ?? local?.auditSigningKey;
  if (!bucket || !keyId) throw new Error('set COFFER_AUDIT_BUCKET and COFFER_AUDIT_SIGNING_KEY_ID (or run `npm start`)');
  const endpoint = process.env.AWS_ENDPOINT_URL ?? local?.aws.endpoint;
  const region = process.env.AWS_REGION ?? local?.aws.region ?? 'eu-west-1';
  const localCredentials = local && !process.env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } } : {};
  const aws = { region, ...(endpoint ? { endpoint } : {}), ...localCredentials };
  const archive = new S3AuditArchive(new S3Client({ ...aws, forcePathStyle: Boolean(endpoint) }), bucket);
  const signer = new KmsDigestSigner(new KMSClient(aws), keyId);

  process.stderr.write(`reading s3://${bucket}/audit/${chain}/ …\n`);
  const objects = await archive.readChain(chain);
  // The shipper's mark in the table, when we can read it, also catches a deleted tail.
  const table = process.env.COFFER_TABLE_NAME ?? local?.table;
  if (local && !local.aws.dynamodbEndpoint && !process.env.AWS_ENDPOINT_URL_DYNAMODB) {
    // Written before DynamoDB Local: its endpoint would be moto's, which holds no table now.
    throw new Error('.coffer/local.json names no aws.dynamodbEndpoint (it predates DynamoDB Local); restart npm start, or set AWS_ENDPOINT_URL_DYNAMODB');
  }
  const dynamodbEndpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? local?.aws.dynamodbEndpoint ?? endpoint;
  const dynamo = createDocumentClient({ ...aws, ...(dynamodbEndpoint ? { endpoint: dynamodbEndpoint } : {}) });
  const mark = table ? await new DynamoAuditLog(dynamo, table).shipped(chain) : undefined;
  if (!mark) process.stderr.write('no table given (COFFER_TABLE_NAME): a deleted tail of the archive would go unnoticed\n');
  let checked = 0;
  const report = await verifyArchive(
    chain,
    objects,
    async (digest) => {
      process.stderr.write(`\rchecking signatures ${++checked}/${objects.length}`);
      return signer.verify(signedMessage(digest.digest), Buffer.from(digest.signature, 'base64'), digest.keyId, digest.algorithm);
    },
    mark,
  );
  process.stderr.write('\n');
  console.table([
    {
      chain,
      objects: report.objects,
      events: report.events,
      'seq range': report.firstSeq === null ? '—' : `${report.firstSeq}–${report.lastSeq}`,
      're-shipped copies skipped': report.duplicatesSkipped,
      verdict: report.problems.length > 0 ? `${report.problems.length} PROBLEM(S)` : report.events === 0 ? 'NOTHING ARCHIVED YET' : 'INTACT',
    },
  ]);
  if (report.problems.length > 0) console.table(report.problems);
  return report.problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`audit: ${(error as Error).message}\n`);
    process.exit(2);
  },
);
