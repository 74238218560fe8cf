import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CofferConfig } from '../config';
import { countCalls } from './call-counter';
import { createDocumentClient } from './dynamodb/client';

// The one place the functions' SDK clients are built. Each composition root (handlers/*)
// calls what it uses once per container, outside the handler. One factory per client:
// the SDK packages are side-effect free, so esbuild leaves out of a bundle every client
// its function never builds (the authorizer carries no S3).

type Target = Pick<CofferConfig, 'region' | 'endpoint' | 'dynamodbEndpoint'>;

const retry = { maxAttempts: 3 };
const endpointOf = (config: Target) => (config.endpoint ? { endpoint: config.endpoint } : {});

/**
 * A DynamoDB call that hangs is cut off (the SDK's default waits forever), so a request
 * reaches api()'s deadline answer, never Lambda's own timeout. Calls take milliseconds.
 */
const DYNAMODB_CALL_TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 3_000 };

/** Locally the table lives in DynamoDB Local, apart from moto's other services. */
export function dynamoClient(config: Target): DynamoDBDocumentClient {
  const endpoint = config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : endpointOf(config);
  return countCalls(createDocumentClient({ region: config.region, ...endpoint, ...retry, requestHandler: DYNAMODB_CALL_TIMEOUTS }), 'dynamodb');
}

/** This region's KMS unless another is named. */
export function kmsClient(config: Target, region: string = config.region): KMSClient {
  return countCalls(new KMSClient({ region, ...endpointOf(config), ...retry }), 'kms');
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

/** DynamoDB, and KMS in every configured region: what the request-serving functions use. */
export function createAwsClients(config: CofferConfig): AwsClients {
  return { dynamo: dynamoClient(config), kms: new Map(config.regions.map((region) => [region, kmsClient(config, region)])) };
}
