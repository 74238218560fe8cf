// The names of the environment variables Coffer's functions read: the one list that
// config.ts parses, the CDK functions set (lib/constructs/) and the local runtime sets
// (bin/local/). test/infra/environment.test.ts holds the deployed functions to it.

/** Parsed by config.ts at cold start; its schema has exactly these keys. */
export const CONFIG_ENV = {
  tableName: 'COFFER_TABLE_NAME',
  regions: 'COFFER_REGIONS',
  /** Set by the Lambda runtime itself; a function definition may not set it. */
  region: 'AWS_REGION',
  signingKeyId: 'COFFER_SIGNING_KEY_ID',
  previousSigningKeyIds: 'COFFER_PREVIOUS_SIGNING_KEY_IDS',
  /** The other region's token-signing key (an alias ARN): verified and published, never used to sign. */
  peerSigningKeyIds: 'COFFER_PEER_SIGNING_KEY_IDS',
  issuer: 'COFFER_ISSUER',
  localStsHost: 'COFFER_LOCAL_STS_HOST',
  accessRulesTtlSeconds: 'COFFER_ACCESS_RULES_TTL_SECONDS',
  audience: 'COFFER_AUDIENCE',
  auditBucket: 'COFFER_AUDIT_BUCKET',
  auditSigningKeyId: 'COFFER_AUDIT_SIGNING_KEY_ID',
  /** The role a tenant's request assumes, tagged with its tenant (adapters/sts/tenant-session.ts). */
  tenantAccessRoleArn: 'COFFER_TENANT_ACCESS_ROLE_ARN',
  allowLoopbackSinks: 'COFFER_ALLOW_LOOPBACK_SINKS',
  dataKeyTtlSeconds: 'COFFER_DATA_KEY_TTL_SECONDS',
  /** Only when running locally: moto, for KMS, S3, STS, IAM and Route 53. */
  endpoint: 'AWS_ENDPOINT_URL',
  /** Only when running locally: DynamoDB Local (the AWS SDK's own name for a per-service endpoint). */
  dynamodbEndpoint: 'AWS_ENDPOINT_URL_DYNAMODB',
} as const;

/** Read by Node and by Powertools' logger, not by config.ts. */
export const RUNTIME_ENV = {
  nodeOptions: 'NODE_OPTIONS',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
} as const;

export const ENV = { ...CONFIG_ENV, ...RUNTIME_ENV } as const;

export type ConfigEnvName = (typeof CONFIG_ENV)[keyof typeof CONFIG_ENV];
export type EnvName = (typeof ENV)[keyof typeof ENV];

/** A function's environment: names from the list above only. */
export type FunctionEnvironment = { readonly [name in EnvName]?: string };

/** The variables that are set, as a plain record (for CDK and for `process.env`). */
export function definedVariables(environment: FunctionEnvironment): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
