import { z } from 'zod';

// Read once per container, at cold start, and fail fast: a misconfigured function should
// refuse every request loudly rather than half-work.
const regionList = z
  .string()
  .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region like eu-west-1')).min(1));

const ConfigSchema = z.object({
  COFFER_TABLE_NAME: z.string().min(3),
  COFFER_REGIONS: regionList,
  AWS_REGION: z.string().min(1),
  COFFER_SIGNING_KEY_ID: z.string().min(1),
  /** Keys that signed tokens before a rotation: still published and accepted, never used to sign. */
  COFFER_PREVIOUS_SIGNING_KEY_IDS: z.string().default('').transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean)),
  COFFER_ISSUER: z.string().url(),
  /** Local runtime only: the moto endpoint a signed sts:GetCallerIdentity may name. */
  COFFER_LOCAL_STS_HOST: z.string().optional(),
  /** How long a function reuses a tenant's policies before reading them again (0 = every request). */
  COFFER_ACCESS_RULES_TTL_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  COFFER_AUDIENCE: z.string().min(1).default('coffer'),
  COFFER_AUDIT_BUCKET: z.string().optional(),
  COFFER_AUDIT_SIGNING_KEY_ID: z.string().optional(),
  /** Local runtime only: audit sinks may point at 127.0.0.1. */
  COFFER_ALLOW_LOOPBACK_SINKS: z.enum(['true', 'false']).default('false'),
  COFFER_DATA_KEY_TTL_SECONDS: z.coerce.number().int().min(0).max(3600).default(300),
  /** Only when running locally: moto, for KMS, S3, STS, IAM and Route 53. */
  AWS_ENDPOINT_URL: z.string().url().optional(),
  /** Only when running locally: DynamoDB Local (the AWS SDK's own name for a per-service endpoint). */
  AWS_ENDPOINT_URL_DYNAMODB: z.string().url().optional(),
});

export interface CofferConfig {
  readonly table: string;
  /** All regions holding a copy of each data key; the first is the primary. */
  readonly regions: readonly string[];
  readonly primaryRegion: string;
  readonly region: string;
  readonly signingKeyId: string;
  readonly previousSigningKeyIds: readonly string[];
  readonly issuer: string;
  readonly localStsHost?: string;
  readonly accessRulesTtlMs: number;
  readonly audience: string;
  readonly auditBucket?: string;
  /** The ECC key that signs archived audit batches (shipper only). */
  readonly auditSigningKeyId?: string;
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
  if (!c.COFFER_REGIONS.includes(c.AWS_REGION)) {
    throw new Error(`Invalid Coffer configuration: AWS_REGION ${c.AWS_REGION} is not one of COFFER_REGIONS`);
  }
  return {
    table: c.COFFER_TABLE_NAME,
    regions: c.COFFER_REGIONS,
    primaryRegion: c.COFFER_REGIONS[0]!,
    region: c.AWS_REGION,
    signingKeyId: c.COFFER_SIGNING_KEY_ID,
    previousSigningKeyIds: c.COFFER_PREVIOUS_SIGNING_KEY_IDS,
    issuer: c.COFFER_ISSUER,
    ...(c.COFFER_LOCAL_STS_HOST ? { localStsHost: c.COFFER_LOCAL_STS_HOST } : {}),
    accessRulesTtlMs: c.COFFER_ACCESS_RULES_TTL_SECONDS * 1000,
    audience: c.COFFER_AUDIENCE,
    ...(c.COFFER_AUDIT_BUCKET ? { auditBucket: c.COFFER_AUDIT_BUCKET } : {}),
    ...(c.COFFER_AUDIT_SIGNING_KEY_ID ? { auditSigningKeyId: c.COFFER_AUDIT_SIGNING_KEY_ID } : {}),
    allowLoopbackSinks: c.COFFER_ALLOW_LOOPBACK_SINKS === 'true',
    dataKeyTtlMs: c.COFFER_DATA_KEY_TTL_SECONDS * 1000,
    ...(c.AWS_ENDPOINT_URL ? { endpoint: c.AWS_ENDPOINT_URL } : {}),
    ...(c.AWS_ENDPOINT_URL_DYNAMODB ? { dynamodbEndpoint: c.AWS_ENDPOINT_URL_DYNAMODB } : {}),
  };
}
