import { z } from 'zod';
import { CONFIG_ENV as ENV, type ConfigEnvName } from './env';

// Read once per container, at cold start, and fail fast: a misconfigured function should
// refuse every request loudly rather than half-work.
const regionList = z
  .string()
  .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region like eu-west-1')).min(1));

// Keyed by env.ts: `satisfies` makes the compiler refuse a name missing here or unknown there.
const ConfigSchema = z.object({
  [ENV.tableName]: z.string().min(3),
  [ENV.regions]: regionList,
  [ENV.region]: z.string().min(1),
  [ENV.signingKeyId]: z.string().min(1),
  /** Keys that signed tokens before a rotation: still published and accepted, never used to sign. */
  [ENV.previousSigningKeyIds]: z.string().default('').transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean)),
  /** The other regions' signing keys: their tokens verify here, so a token outlives a failover. */
  [ENV.peerSigningKeyIds]: z.string().default('').transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean)),
  [ENV.issuer]: z.string().url(),
  /** Local runtime only: the moto endpoint a signed sts:GetCallerIdentity may name. */
  [ENV.localStsHost]: z.string().optional(),
  /** How long a function reuses a tenant's policies before reading them again (0 = every request). */
  [ENV.accessRulesTtlSeconds]: z.coerce.number().int().min(0).max(60).default(5),
  [ENV.audience]: z.string().min(1).default('coffer'),
  [ENV.auditBucket]: z.string().optional(),
  [ENV.auditSigningKeyId]: z.string().optional(),
  [ENV.tenantAccessRoleArn]: z.string().optional(),
  /** Local runtime only: audit sinks may point at 127.0.0.1. */
  [ENV.allowLoopbackSinks]: z.enum(['true', 'false']).default('false'),
  [ENV.dataKeyTtlSeconds]: z.coerce.number().int().min(0).max(3600).default(300),
  /** Only when running locally: moto, for KMS, S3, STS, IAM and Route 53. */
  [ENV.endpoint]: z.string().url().optional(),
  /** Only when running locally: DynamoDB Local. */
  [ENV.dynamodbEndpoint]: z.string().url().optional(),
} satisfies Record<ConfigEnvName, z.ZodType>);

export interface CofferConfig {
  readonly table: string;
  /** All regions holding a copy of each data key; the first is the primary. */
  readonly regions: readonly string[];
  readonly primaryRegion: string;
  readonly region: string;
  readonly signingKeyId: string;
  readonly previousSigningKeyIds: readonly string[];
  /** Other regions' current signing keys (alias or key ARNs, which name their region). */
  readonly peerSigningKeyIds: readonly string[];
  readonly issuer: string;
  readonly localStsHost?: string;
  readonly accessRulesTtlMs: number;
  readonly audience: string;
  readonly auditBucket?: string;
  /** The ECC key that signs archived audit batches (shipper only). */
  readonly auditSigningKeyId?: string;
  /** Assumed per tenant by the functions serving tenants' requests (adapters/sts/tenant-session.ts). */
  readonly tenantAccessRoleArn?: string;
  readonly allowLoopbackSinks: boolean;
  readonly dataKeyTtlMs: number;
  readonly endpoint?: string;
  readonly dynamodbEndpoint?: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): CofferConfig {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid Coffer configuration: ${problems}`);
  }
  const c = parsed.data;
  if (!c[ENV.regions].includes(c[ENV.region])) {
    throw new Error(`Invalid Coffer configuration: ${ENV.region} ${c[ENV.region]} is not one of ${ENV.regions}`);
  }
  return {
    table: c[ENV.tableName],
    regions: c[ENV.regions],
    primaryRegion: c[ENV.regions][0]!,
    region: c[ENV.region],
    signingKeyId: c[ENV.signingKeyId],
    previousSigningKeyIds: c[ENV.previousSigningKeyIds],
    peerSigningKeyIds: c[ENV.peerSigningKeyIds],
    issuer: c[ENV.issuer],
    ...(c[ENV.localStsHost] ? { localStsHost: c[ENV.localStsHost] } : {}),
    accessRulesTtlMs: c[ENV.accessRulesTtlSeconds] * 1000,
    audience: c[ENV.audience],
    ...(c[ENV.auditBucket] ? { auditBucket: c[ENV.auditBucket] } : {}),
    ...(c[ENV.auditSigningKeyId] ? { auditSigningKeyId: c[ENV.auditSigningKeyId] } : {}),
    ...(c[ENV.tenantAccessRoleArn] ? { tenantAccessRoleArn: c[ENV.tenantAccessRoleArn] } : {}),
    allowLoopbackSinks: c[ENV.allowLoopbackSinks] === 'true',
    dataKeyTtlMs: c[ENV.dataKeyTtlSeconds] * 1000,
    ...(c[ENV.endpoint] ? { endpoint: c[ENV.endpoint] } : {}),
    ...(c[ENV.dynamodbEndpoint] ? { dynamodbEndpoint: c[ENV.dynamodbEndpoint] } : {}),
  };
}
