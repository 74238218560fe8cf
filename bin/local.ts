import { mkdir, writeFile } from 'node:fs/promises';
import { startLocalRuntime } from './local/runtime';

// `npm start`: Coffer on 127.0.0.1 with DynamoDB Local for the table and moto for the other
// AWS APIs. Ctrl-C stops everything.
const port = Number(process.env.PORT ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, not '${process.env.PORT}'.`);
  process.exit(2);
}

console.log('Starting DynamoDB Local and moto, provisioning local AWS resources…');
const runtime = await startLocalRuntime({ port }).catch((error: Error) => {
  console.error(`Coffer could not start: ${error.message}`);
  process.exit(1);
});

const state = {
  endpoint: runtime.endpoint,
  admin: runtime.admin,
  aws: { endpoint: runtime.aws.endpoint, dynamodbEndpoint: runtime.aws.dynamodbEndpoint, region: runtime.aws.region, regions: runtime.aws.regions },
  table: runtime.resources.table,
  auditBucket: runtime.resources.auditBucket,
  signingKey: runtime.resources.signingKeyAlias,
  auditSigningKey: runtime.resources.auditSigningKeyAlias,
  pids: { runtime: process.pid, moto: runtime.motoPid, dynamodb: runtime.dynamodbPid },
};
await mkdir('.coffer', { recursive: true });
await writeFile('.coffer/local.json', `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });

console.log(`
Coffer is serving on ${runtime.endpoint}
  DynamoDB Local:  ${runtime.aws.dynamodbEndpoint}  table ${runtime.resources.table}
  moto (KMS, S3, STS, IAM, Route 53): ${runtime.aws.endpoint}  regions ${runtime.aws.regions.join(', ')}
  Platform admin credentials and endpoints: .coffer/local.json

Get an admin token:
  curl -s ${runtime.endpoint}/v1/token -H 'content-type: application/json' \\
    -d "$(jq -c '{grant_type:"client_credentials", client_id:.admin.clientId, client_secret:.admin.clientSecret}' .coffer/local.json)"
Or walk through onboarding, tokens and secrets: npm run demo

Press Ctrl-C to stop.`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping Coffer, DynamoDB Local and moto…`);
  await runtime.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
