import { KMSClient } from '@aws-sdk/client-kms';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CofferConfig } from '../config';
import { countCalls } from './call-counter';
import { createDocumentClient } from './dynamodb/client';

// SDK clients are created once per container, outside the handler, and shared.
export interface AwsClients {
  readonly dynamo: DynamoDBDocumentClient;
  /** One per configured region (the standby's key wraps a copy of every data key). */
  readonly kms: ReadonlyMap<string, KMSClient>;
}

const retry = { maxAttempts: 3 };

export function createAwsClients(config: CofferConfig): AwsClients {
  const endpoint = config.endpoint ? { endpoint: config.endpoint } : {};
  const dynamodbEndpoint = config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : endpoint;
  const dynamo = createDocumentClient({ region: config.region, ...dynamodbEndpoint, ...retry });
  countCalls(dynamo, 'dynamodb');
  const kms = new Map(config.regions.map((region) => [region, countCalls(new KMSClient({ region, ...endpoint, ...retry }), 'kms')]));
  return { dynamo, kms };
}
