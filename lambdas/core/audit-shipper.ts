import { verifyChain, type ChainHead } from './audit';
import { batchesByDay, signDigest, unsignedDigest } from './audit-archive';
import { InternalError } from './errors';
import type { AuditArchive, DigestSigner, ShippingSource } from '../ports/audit-archive';

export interface ShipResult {
  readonly chain: string;
  readonly events: number;
  readonly objects: number;
  readonly shippedTo: number;
}

export interface ShipperOptions {
  /** Events read from the primary trail per round. */
  readonly batchSize?: number;
}

/**
 * Moves a chain's events from the primary trail (DynamoDB) to the archive (S3), oldest
 * first, from where the last run stopped. The mark moves only after the archive holds the
 * batch, so a crash re-ships the batch (at least once) instead of losing it; readers
 * deduplicate by event id. A chain that does not verify is not shipped: tampering in the
 * primary trail stops the shipper loudly instead of being archived as truth.
 */
export class AuditShipper {
  private readonly batchSize: number;

  constructor(
    private readonly source: ShippingSource,
    private readonly archive: AuditArchive,
    private readonly signer: DigestSigner,
    options: ShipperOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
  }

  async shipChain(chain: string): Promise<ShipResult> {
    let mark = await this.source.shipped(chain);
    let events = 0;
    let objects = 0;
    for (;;) {
      const next = await this.source.after(chain, mark.seq, this.batchSize);
      if (next.length === 0) break;
      const report = verifyChain(chain, next, mark);
      if (report.problems.length > 0) {
        throw new InternalError(`audit chain ${chain} does not verify after seq ${mark.seq}: ${report.problems[0]!.detail}`);
      }
      for (const batch of batchesByDay(chain, next)) {
        await this.archive.putBatch(batch, await signDigest(this.signer, unsignedDigest(batch)));
        objects++;
      }
      const last = next.at(-1)!;
      const to: ChainHead = { seq: last.seq, hash: last.hash };
      await this.source.markShipped(chain, mark, to);
      mark = to;
      events += next.length;
    }
    return { chain, events, objects, shippedTo: mark.seq };
  }

}
