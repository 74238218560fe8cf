import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { keys } from '../adapters/dynamodb/keys';
import type { AuditForwarder } from '../core/audit-forwarder';
import type { AuditShipper, ShipResult } from '../core/audit-shipper';
import { InternalError } from '../core/errors';
import { logger } from '../http/logger';

/** The chains that gained events in a batch of table stream records, in first-seen order. */
export function chainsWithNewEvents(records: readonly DynamoDBRecord[]): Map<string, string> {
  const chains = new Map<string, string>();
  for (const record of records) {
    if (record.eventName !== 'INSERT') continue;
    const pk = record.dynamodb?.Keys?.pk?.S;
    const sk = record.dynamodb?.Keys?.sk?.S;
    if (!pk || !sk || !keys.isAuditEventSk(sk)) continue;
    const chain = keys.chainOfAuditPk(pk);
    if (chain && !chains.has(chain)) chains.set(chain, record.dynamodb?.SequenceNumber ?? '');
  }
  return chains;
}

/**
 * Ships every chain a stream batch touched. A chain that fails reports its first record as
 * failed, so the stream redelivers from there (at least once); the shipper resumes from
 * its own mark, so redelivery re-ships nothing it already recorded as shipped.
 */
export async function shipStreamBatch(
  shipper: AuditShipper,
  records: readonly DynamoDBRecord[],
  forwarder?: AuditForwarder,
  /** When to stop starting sink deliveries (epoch ms): the Lambda's timeout minus a margin. */
  forwardDeadline = Number.POSITIVE_INFINITY,
): Promise<DynamoDBBatchResponse & { shipped: ShipResult[] }> {
  const failures: { itemIdentifier: string }[] = [];
  const shipped: ShipResult[] = [];
  for (const [chain, firstSequence] of chainsWithNewEvents(records)) {
    try {
      shipped.push(await shipper.shipChain(chain));
    } catch (error) {
      if (error instanceof InternalError) {
        // A chain that does not verify will not verify on redelivery either: redelivering
        // would hold up every other tenant's events in the shard. Alarm instead; the next
        // event of this chain retries from the shipper's own mark.
        logger.critical('audit chain does not verify; not archived', { chain, error: error as Error });
        continue;
      }
      logger.error('audit shipping failed; the stream will redeliver', { chain, error: error as Error });
      failures.push({ itemIdentifier: firstSequence });
      continue;
    }
    // Sinks are best effort: a failing one keeps its own mark and never fails the batch.
    try {
      for (const result of (await forwarder?.forward(chain, forwardDeadline)) ?? []) {
        if (result.error) logger.warn('audit sink delivery failed; it will be retried', { chain, sink: result.sink, error: result.error });
      }
    } catch (error) {
      logger.warn('audit sinks could not be read; forwarding retried on the next events', { chain, error: error as Error });
    }
  }
  return { batchItemFailures: failures, shipped };
}
