import { PLATFORM_CHAIN } from './audit';
import { signDigest, unsignedDigest } from './audit-archive';
import type { AuditSinkStore, DigestSigner, ShippingSource, SinkDelivery } from '../ports/audit-archive';
import type { Clock } from '../ports/clock';

export interface ForwardResult {
  readonly sink: string;
  readonly delivered: number;
  readonly error?: string;
}

const ATTEMPTS = 3;

/**
 * Forwards a tenant's events to each of its sinks from that sink's own mark, in batches,
 * with retries. A sink that still fails keeps its mark and its error, and gets the backlog
 * on a later run; nothing here can fail the primary record or a request.
 */
export class AuditForwarder {
  constructor(
    private readonly source: ShippingSource,
    private readonly sinks: AuditSinkStore,
    private readonly delivery: SinkDelivery,
    private readonly signer: DigestSigner,
    private readonly clock: Clock,
    private readonly options: { batchSize?: number; backoffMs?: number } = {},
  ) {}

  /**
   * Forwards what the shipper has verified and archived (up to its mark), and stops taking
   * new batches once `deadline` (epoch ms) has passed: slow collectors wait for the next run
   * rather than holding up the shipper.
   */
  async forward(chain: string, deadline = Number.POSITIVE_INFINITY): Promise<ForwardResult[]> {
    if (chain === PLATFORM_CHAIN) return [];
    const shipped = await this.source.shipped(chain);
    const results: ForwardResult[] = [];
    for (const sink of await this.sinks.list(chain)) {
      let delivered = 0;
      let mark = sink.status.deliveredSeq;
      try {
        while (mark < shipped.seq && this.clock.now() < deadline) {
          const events = (await this.source.after(chain, mark, this.options.batchSize ?? 200)).filter((e) => e.seq <= shipped.seq);
          if (events.length === 0) break;
          const digest = await signDigest(this.signer, unsignedDigest({ chain, day: '', events }));
          await this.withRetries(() => this.delivery.deliver(sink.target, { chain, events, digest }));
          mark = events.at(-1)!.seq;
          delivered += events.length;
          await this.sinks.recordDelivery(chain, sink.name, mark, this.now());
        }
        results.push({ sink: sink.name, delivered });
      } catch (error) {
        const message = (error as Error).message.slice(0, 300);
        await this.sinks.recordFailure(chain, sink.name, message, this.now()).catch(() => undefined);
        results.push({ sink: sink.name, delivered, error: message });
      }
    }
    return results;
  }

  private async withRetries(send: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (attempt >= ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, (this.options.backoffMs ?? 200) * 4 ** (attempt - 1)));
      }
    }
  }


  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}
