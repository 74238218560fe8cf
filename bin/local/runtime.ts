import { randomBytes } from 'node:crypto';
import { newClientId } from '../../lambdas/core/ids';
import { ENV, type FunctionEnvironment } from '../../lambdas/env';
import type { FunctionName } from '../../lambdas/route-manifest';
import { LOCAL_REGIONS, dropTable, localAwsEnv, provisionLocalAws, type LocalAwsResources } from './bootstrap';
import { startGateway, type ProxyHandler, type RunningGateway, type RequestAuthorizer } from './gateway';
import type { DynamoDbLocal } from './dynamodb-local';
import { startEmulators } from './emulators';
import type { MotoServer } from './moto';
import { startStreamPoller, type StreamPoller } from './stream-poller';

export interface LocalRuntimeOptions {
  /** API port; 0 picks a free one. */
  readonly port: number;
  /** Use this moto instead of starting one (tests share one per run). */
  readonly awsEndpoint?: string;
  /** Use this DynamoDB Local instead of starting one (tests share one per run). */
  readonly dynamodbEndpoint?: string;
  readonly authorizerCacheTtlMs?: number;
  readonly logLevel?: string;
  /** How long the secrets function reuses a tenant's policies (default 5 s; tests use 0). */
  readonly accessRulesTtlSeconds?: number;
  /** How often the local audit shipper polls the table stream (default 500 ms). */
  readonly shipIntervalMs?: number;
  /** Each function's deadline; tests shorten it to meet it on purpose. */
  readonly functionTimeoutMs?: number;
}

export interface LocalRuntime {
  readonly endpoint: string;
  /** `endpoint` is moto (KMS, S3, STS, IAM, Route 53); `dynamodbEndpoint` is DynamoDB Local. */
  readonly aws: { readonly endpoint: string; readonly dynamodbEndpoint: string; readonly region: string; readonly regions: readonly string[] };
  readonly resources: LocalAwsResources;
  readonly admin: { readonly clientId: string; readonly clientSecret: string };
  readonly motoPid?: number;
  readonly dynamodbPid?: number;
  /** The local audit shipper; `drain()` waits until every event so far is archived. */
  readonly auditShipping: StreamPoller;
  stop(): Promise<void>;
}

/**
 * Coffer on this machine: DynamoDB Local for the table, moto for the other AWS APIs, the
 * resources the stack would create,
 * and the real handler modules behind the API Gateway emulation. Handlers read their
 * configuration from the environment at import, exactly as in Lambda, so the environment
 * is set first and the modules imported after.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  let moto: MotoServer | undefined;
  let dynamodb: DynamoDbLocal | undefined;
  let gateway: RunningGateway | undefined;
  let shipping: StreamPoller | undefined;
  try {
    ({ moto, dynamodb } = await startEmulators({ moto: !options.awsEndpoint, dynamodb: !options.dynamodbEndpoint }));
    const awsEndpoint = options.awsEndpoint ?? moto!.endpoint;
    const dynamodbEndpoint = options.dynamodbEndpoint ?? dynamodb!.endpoint;
    const resources = await provisionLocalAws({ aws: awsEndpoint, dynamodb: dynamodbEndpoint });

    const port = options.port;
    Object.assign(process.env, localAwsEnv({ aws: awsEndpoint, dynamodb: dynamodbEndpoint }), {
      [ENV.tableName]: resources.table,
      [ENV.regions]: LOCAL_REGIONS.join(','),
      [ENV.signingKeyId]: resources.signingKeyAlias,
      [ENV.audience]: 'coffer',
      [ENV.auditBucket]: resources.auditBucket,
      [ENV.auditSigningKeyId]: resources.auditSigningKeyAlias,
      // Tenants' requests sign with a session of this role tagged with their tenant.
      [ENV.tenantAccessRoleArn]: resources.tenantAccessRoleArn,
      // Local collectors (a webhook or syslog on this machine) are allowed here only.
      [ENV.allowLoopbackSinks]: 'true',
      // aws_iam logins: moto answers sts:GetCallerIdentity on its own host and port.
      [ENV.localStsHost]: new URL(awsEndpoint).host,
      [ENV.accessRulesTtlSeconds]: String(options.accessRulesTtlSeconds ?? 5),
      [ENV.serviceName]: 'coffer',
      [ENV.logLevel]: options.logLevel ?? process.env[ENV.logLevel] ?? 'WARN',
      // The issuer names where tokens come from; fixed before the port is known when port=0.
      [ENV.issuer]: process.env[ENV.issuer] ?? `http://127.0.0.1:${port || 8080}`,
    } satisfies FunctionEnvironment);

    const [secrets, tenants, token, health, authorizer, audit, auditShipper, shipperCore, identity] = await Promise.all([
      import('../../lambdas/handlers/secrets'),
      import('../../lambdas/handlers/tenants'),
      import('../../lambdas/handlers/token'),
      import('../../lambdas/handlers/health'),
      import('../../lambdas/handlers/authorizer'),
      import('../../lambdas/handlers/audit'),
      import('../../lambdas/handlers/audit-shipper'),
      import('../../lambdas/handlers/audit-shipper-core'),
      import('../../lambdas/handlers/identity'),
    ]);

    const admin = { clientId: newClientId('platform'), clientSecret: `cs_${randomBytes(32).toString('base64url')}` };
    await tenants.tenants.ensurePlatformAdmin(admin.clientId, admin.clientSecret);

    const functions: Record<FunctionName, ProxyHandler> = {
      secrets: secrets.handler as unknown as ProxyHandler,
      tenants: tenants.handler as unknown as ProxyHandler,
      token: token.handler as unknown as ProxyHandler,
      health: health.handler as unknown as ProxyHandler,
      audit: audit.handler as unknown as ProxyHandler,
      identity: identity.handler as unknown as ProxyHandler,
    };
    gateway = await startGateway({
      functions,
      authorizer: authorizer.handler as RequestAuthorizer,
      region: LOCAL_REGIONS[0],
      port,
      ...(options.authorizerCacheTtlMs === undefined ? {} : { authorizerCacheTtlMs: options.authorizerCacheTtlMs }),
      ...(options.functionTimeoutMs === undefined ? {} : { functionTimeoutMs: options.functionTimeoutMs }),
    });

    // The stream → shipper mapping the stack deploys, polled here: audit events reach the
    // Object Lock bucket in moto as gzip JSON Lines.
    shipping = await startStreamPoller({
      endpoint: dynamodbEndpoint,
      region: LOCAL_REGIONS[0],
      table: resources.table,
      handler: (records) => shipperCore.shipStreamBatch(auditShipper.shipper, records, auditShipper.forwarder),
      ...(options.shipIntervalMs === undefined ? {} : { intervalMs: options.shipIntervalMs }),
    });

    const running = gateway;
    const poller = shipping;
    return {
      endpoint: running.url,
      aws: { endpoint: awsEndpoint, dynamodbEndpoint, region: LOCAL_REGIONS[0], regions: LOCAL_REGIONS },
      resources,
      admin,
      ...(moto ? { motoPid: moto.pid } : {}),
      ...(dynamodb ? { dynamodbPid: dynamodb.pid } : {}),
      auditShipping: poller,
      stop: async () => {
        try {
          await running.close();
          await poller.stop();
          // On a shared DynamoDB Local (tests), drop this runtime's table: it lives in memory.
          if (!dynamodb) await dropTable(dynamodbEndpoint, resources.table).catch(() => undefined);
        } finally {
          // Whatever failed above, the emulators this runtime started do not outlive it.
          await Promise.all([moto?.stop(), dynamodb?.stop()]);
        }
      },
    };
  } catch (error) {
    await gateway?.close();
    await shipping?.stop();
    await Promise.all([moto?.stop(), dynamodb?.stop()]);
    throw error;
  }
}
