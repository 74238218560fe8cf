import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CofferConfig } from '../config';
import { actingTenant } from '../ports/acting-tenant';
import { systemClock } from '../ports/clock';
import { countCalls } from './call-counter';
import { createDocumentClient } from './dynamodb/client';
import { recentlyUsed } from './recently-used';
import { TenantSessions, type TenantCredentials } from './sts/tenant-session';

// The one place the functions' SDK clients are built. Each composition root (handlers/*)
// calls what it uses once per container, outside the handler. One factory per client:
// the SDK packages are side-effect free, so esbuild leaves out of a bundle every client
// its function never builds (the authorizer carries no S3).

type Target = Pick<CofferConfig, 'region' | 'endpoint' | 'dynamodbEndpoint'>;

const retry = { maxAttempts: 3 };
const endpointOf = (config: Target) => (config.endpoint ? { endpoint: config.endpoint } : {});

/**
 * A DynamoDB or STS call that hangs is cut off (the SDK's default waits forever), so a
 * request reaches api()'s deadline answer, never Lambda's own timeout. Calls take milliseconds.
 */
const AWS_CALL_TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 3_000 };

/** A tenant's clients: its session's credentials, over the function's own connections. */
interface SignedAs {
  readonly credentials: () => Promise<TenantCredentials>;
  readonly requestHandler: unknown;
}

/** Locally the table lives in DynamoDB Local, apart from moto's other services. */
export function dynamoClient(config: Target, as?: SignedAs): DynamoDBDocumentClient {
  const endpoint = config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : endpointOf(config);
  return countCalls(createDocumentClient({ region: config.region, ...endpoint, ...retry, requestHandler: AWS_CALL_TIMEOUTS, ...(as as object) }), 'dynamodb');
}

/** This region's KMS unless another is named. */
export function kmsClient(config: Target, region: string = config.region, as?: SignedAs): KMSClient {
  return countCalls(new KMSClient({ region, ...endpointOf(config), ...retry, ...(as as object) }), 'kms');
}

function stsClient(config: Target): STSClient {
  // The regional endpoint: a session minted here does not depend on another region. A hung
  // AssumeRole is cut off like a DynamoDB call: every request of the tenant waits on it.
  return countCalls(new STSClient({ region: config.region, ...endpointOf(config), ...retry, requestHandler: AWS_CALL_TIMEOUTS }), 'sts');
}

export function s3Client(config: Target): S3Client {
  // moto serves buckets by path, not as virtual hosts.
  return countCalls(new S3Client({ region: config.region, ...endpointOf(config), forcePathStyle: Boolean(config.endpoint), ...retry }), 's3');
}

export interface AwsClients {
  readonly dynamo: DynamoDBDocumentClient;
  /** One per configured region (the standby's key wraps a copy of every data key). */
  readonly kms: ReadonlyMap<string, KMSClient>;
}

/** DynamoDB, and KMS in every configured region, as the function's own role. */
export function createAwsClients(config: CofferConfig): AwsClients {
  return { dynamo: dynamoClient(config), kms: new Map(config.regions.map((region) => [region, kmsClient(config, region)])) };
}

/**
 * What the functions serving tenants' requests use: while a request acts for a tenant
 * (ports/acting-tenant.ts), every call signs with that tenant's session of the
 * tenant-access role, so IAM holds the request to the tenant's partitions and keys
 * whatever its code asks for. Other calls (the platform admin's, an anonymous caller's
 * refusal) run as the function's own role, which the stacks allow only platform partitions.
 * Without a tenant-access role configured, the function's own clients.
 */
export function createRequestClients(config: CofferConfig): AwsClients {
  return { dynamo: requestDynamoClient(config), kms: new Map(config.regions.map((region) => [region, requestKmsClient(config, region)])) };
}

/** DynamoDB alone, as createRequestClients builds it (a function that needs no KMS). */
export function requestDynamoClient(config: CofferConfig): DynamoDBDocumentClient {
  const own = dynamoClient(config);
  const sessions = tenantSessionsOf(config);
  if (!sessions) return own;
  return actingTenantAware(own, (tenantId) => dynamoClient(config, { credentials: sessions.provider(tenantId), requestHandler: own.config.requestHandler }));
}

function requestKmsClient(config: CofferConfig, region: string): KMSClient {
  const own = kmsClient(config, region);
  const sessions = tenantSessionsOf(config);
  if (!sessions) return own;
  return actingTenantAware(own, (tenantId) => kmsClient(config, region, { credentials: sessions.provider(tenantId), requestHandler: own.config.requestHandler }));
}

/** One per container and role: every client of a tenant shares its one session. */
const sessionsByRole = new Map<string, TenantSessions>();
function tenantSessionsOf(config: CofferConfig): TenantSessions | undefined {
  const role = config.tenantAccessRoleArn;
  if (!role) return undefined;
  let sessions = sessionsByRole.get(role);
  if (!sessions) sessionsByRole.set(role, (sessions = new TenantSessions(stsClient(config), role, systemClock)));
  return sessions;
}

/** Per-tenant clients kept per function container; their sessions outlive them (tenant-session.ts). */
export const TENANT_CLIENTS_KEPT = 200;

interface Sender {
  send(...args: never[]): Promise<unknown>;
}

/** `own`, except that each call made while a request acts for a tenant goes through that tenant's client. */
function actingTenantAware<C extends Sender>(own: C, clientOf: (tenantId: string) => C): C {
  // An evicted client's connections are shared: nothing to close.
  const tenants = new Map<string, C>();
  const send = (...args: never[]) => {
    const tenantId = actingTenant();
    const client = tenantId === undefined ? own : recentlyUsed(tenants, tenantId, () => clientOf(tenantId), TENANT_CLIENTS_KEPT);
    return client.send(...args);
  };
  return new Proxy(own, { get: (target, property, receiver) => (property === 'send' ? send : Reflect.get(target, property, receiver)) });
}
