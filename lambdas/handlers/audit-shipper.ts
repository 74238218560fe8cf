import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { dynamoClient, kmsClient, s3Client } from '../adapters/aws-clients';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { KmsDigestSigner } from '../adapters/kms/digest-signer';
import { S3AuditArchive } from '../adapters/s3/audit-archive';
import { loadConfig } from '../config';
import { ENV } from '../env';
import { AuditForwarder } from '../core/audit-forwarder';
import { AuditShipper } from '../core/audit-shipper';
import { DynamoAuditSinkStore } from '../adapters/dynamodb/audit-sink-store';
import { NetworkSinkDelivery } from '../adapters/sinks/delivery';
import { systemClock } from '../ports/clock';
import { shipStreamBatch } from './audit-shipper-core';

// Composition root of the shipper: DynamoDB Streams (audit event inserts) → S3 archive.
const config = loadConfig();
if (!config.auditBucket || !config.auditSigningKeyId) {
  throw new Error(`Invalid Coffer configuration: the shipper needs ${ENV.auditBucket} and ${ENV.auditSigningKeyId}`);
}
const db = dynamoClient(config);
const trail = new DynamoAuditLog(db, config.table);
const signer = new KmsDigestSigner(kmsClient(config), config.auditSigningKeyId);
export const shipper = new AuditShipper(trail, new S3AuditArchive(s3Client(config), config.auditBucket), signer);
export const forwarder = new AuditForwarder(
  trail,
  new DynamoAuditSinkStore(db, config.table, trail),
  new NetworkSinkDelivery({ allowLoopback: config.allowLoopbackSinks }),
  signer,
  systemClock,
);

/** Sink deliveries stop starting this long before the Lambda would time out. */
const FORWARD_MARGIN_MS = 20_000;

export const handler = async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
  const deadline = Date.now() + context.getRemainingTimeInMillis() - FORWARD_MARGIN_MS;
  const { batchItemFailures } = await shipStreamBatch(shipper, event.Records, forwarder, deadline);
  return { batchItemFailures };
};
