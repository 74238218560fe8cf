#!/usr/bin/env node
// `npm run platform-admin -- <command>`: the platform admins' API clients, managed with AWS
// credentials for the table instead of an admin token — how a freshly deployed stage gets
// its first platform admin, and how an admin's credentials are added or withdrawn.
//
//   create  [--name NAME] [--json]     a new admin client; prints its id and secret once
//   list    [--json]                   every platform admin client (never a secret or hash)
//   disable <clientId>                 its secret and every token issued to it stop working
//
// Where:  --stage S (the table coffer-S) or --table T, and --region R (else AWS_REGION):
//         the primary region. Credentials: the standard AWS chain (env, profile, SSO, role).
//         They need dynamodb:DescribeTable, GetItem, Query, PutItem on the table and
//         sts:GetCallerIdentity; every change is recorded on the platform audit chain,
//         naming the caller's AWS identity (its ARN).
// Exit status: 0 done, 1 refused or failed (the reason on stderr), 2 usage.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { dynamoClient } from '../lambdas/adapters/aws-clients';
import { DynamoAuditLog } from '../lambdas/adapters/dynamodb/audit-log';
import { DynamoTenantRepository } from '../lambdas/adapters/dynamodb/tenant-repository';
import { CofferError } from '../lambdas/core/errors';
import { PlatformAdmins, type PlatformAdminView } from '../lambdas/core/platform-admins';
import type { PlatformPrincipal } from '../lambdas/core/principal';
import { ENV } from '../lambdas/env';
import { RequestAudit } from '../lambdas/http/request-audit';
import { systemClock } from '../lambdas/ports/clock';
import { tableName } from '../lib/naming';

class UsageError extends Error {}

const USAGE = `usage: npm run platform-admin -- create [--name NAME] | list | disable <clientId>
       with --stage S or --table T, and --region R (or AWS_REGION); add --json for machine output`;

const NAME = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", at most 64');
const CLIENT_ID = z.string().regex(/^platform\.cli_[a-z2-7]{20}$/, 'a platform client id, platform.cli_…');

interface Target {
  readonly table: string;
  readonly region: string;
}

function targetOf(values: { stage?: string; table?: string; region?: string }): Target {
  if (values.stage && values.table) throw new UsageError('Give --stage or --table, not both.');
  const table = values.table ?? (values.stage ? tableName(values.stage) : undefined);
  if (!table) throw new UsageError('Name the table: --stage S (coffer-S) or --table T.');
  const region = values.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('Name the primary region: --region R (or set AWS_REGION).');
  return { table, region };
}

const endpoints = () => ({
  ...(process.env[ENV.endpoint] ? { endpoint: process.env[ENV.endpoint] } : {}),
  ...(process.env[ENV.dynamodbEndpoint] ? { dynamodbEndpoint: process.env[ENV.dynamodbEndpoint] } : {}),
});

/** Who runs this, as AWS says: the operator every change is recorded under. */
async function operator(target: Target): Promise<PlatformPrincipal> {
  const sts = new STSClient({ region: target.region, ...(process.env[ENV.endpoint] ? { endpoint: process.env[ENV.endpoint] } : {}) });
  try {
    const me = await sts.send(new GetCallerIdentityCommand({}));
    return { kind: 'platform', type: 'platform', id: me.Arn!, authMethod: 'aws_iam' };
  } catch (error) {
    throw new Error(`Cannot tell who you are from your AWS credentials (sts:GetCallerIdentity): ${(error as Error).message}`);
  } finally {
    sts.destroy();
  }
}

/** A clear answer for the commonest mistake: a stage or region where nothing was deployed. */
async function checkTable(target: Target): Promise<void> {
  const { dynamodbEndpoint, endpoint } = endpoints();
  const db = new DynamoDBClient({ region: target.region, ...((dynamodbEndpoint ?? endpoint) ? { endpoint: dynamodbEndpoint ?? endpoint } : {}) });
  try {
    await db.send(new DescribeTableCommand({ TableName: target.table }));
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') throw new Error(`No table ${target.table} in ${target.region}: deploy the stage first, or check --stage/--table and --region.`);
    throw error;
  } finally {
    db.destroy();
  }
}

function services(target: Target) {
  const db = dynamoClient({ region: target.region, ...endpoints() });
  const auditLog = new DynamoAuditLog(db, target.table);
  return { admins: new PlatformAdmins({ clients: new DynamoTenantRepository(db, target.table, auditLog), clock: systemClock }), close: () => db.destroy() };
}

function auditOf(action: string, target: Target, by: PlatformPrincipal): RequestAudit {
  const facts = { action, correlationId: randomUUID(), sourceIp: 'shell', userAgent: `coffer platform-admin on ${hostname()}`, region: target.region, time: new Date().toISOString() };
  return new RequestAudit(facts, by);
}

function table(admins: readonly PlatformAdminView[]): string {
  const rows = [['CLIENT ID', 'NAME', 'STATUS', 'CREATED', 'CREATED BY'], ...admins.map((a) => [a.clientId, a.name, a.status, a.createdAt, a.createdBy])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { stage: { type: 'string' }, table: { type: 'string' }, region: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } },
  });
  const [command, ...rest] = positionals;
  if (!command || !['create', 'list', 'disable'].includes(command)) throw new UsageError(command ? `Unknown command '${command}'.` : 'Name a command.');
  if (command !== 'disable' && rest.length) throw new UsageError(`'${command}' takes no argument '${rest[0]}'.`);
  const target = targetOf(values);
  const name = NAME.safeParse(values.name ?? 'platform-admin');
  if (!name.success) throw new UsageError(`--name: ${name.error.issues[0]!.message}.`);

  await checkTable(target);
  const { admins, close } = services(target);
  try {
    if (command === 'list') {
      const all = await admins.list();
      console.log(values.json ? JSON.stringify(all, null, 2) : all.length ? table(all) : `No platform admin clients in ${target.table} (${target.region}).`);
      return 0;
    }
    const by = await operator(target);
    if (command === 'create') {
      const audit = auditOf('platform.admin.create', target, by);
      const { admin, clientSecret } = await admins.create(by, name.data, audit);
      if (values.json) {
        console.log(JSON.stringify({ ...admin, clientSecret }, null, 2));
        return 0;
      }
      console.log(`client_id      ${admin.clientId}\nclient_secret  ${clientSecret}`);
      process.stderr.write(
        `\nCreated platform admin '${admin.name}' in ${target.table} (${target.region}), recorded on the platform audit chain as ${by.id}.\n` +
          'The secret is shown once (only its hash is stored): keep it in your password manager. Exchange it for a token:\n' +
          `  curl -s https://<your API>/v1/token -H 'content-type: application/json' \\\n` +
          `    -d '{"grant_type":"client_credentials","client_id":"${admin.clientId}","client_secret":"…"}'\n`,
      );
      return 0;
    }
    const clientId = CLIENT_ID.safeParse(rest[0]);
    if (!clientId.success) throw new UsageError(rest[0] ? `'${rest[0]}' is not ${clientId.error.issues[0]!.message}.` : 'Name the client to disable.');
    const audit = auditOf('platform.admin.disable', target, by);
    audit.about(clientId.data);
    const { changed } = await admins.disable(by, clientId.data, audit);
    process.stderr.write(
      changed
        ? `Disabled ${clientId.data}: its secret no longer logs in, and the tokens it was issued are refused (at once where the authorizer's 300 s cache has not kept an answer). Recorded as ${by.id}.\n`
        : `${clientId.data} was already disabled; nothing changed.\n`,
    );
    return 0;
  } finally {
    close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
      process.exit(2);
    }
    const cause = (error as { cause?: Error }).cause;
    // An operator at a shell needs the AWS reason (AccessDenied, a wrong region), not only ours.
    const why = error instanceof CofferError && cause ? ` (${cause.name}: ${cause.message})` : '';
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}${why}\n`);
    process.exit(1);
  },
);
