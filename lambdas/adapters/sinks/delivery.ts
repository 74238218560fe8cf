import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { isAllowedAddress, syslogLine, type SinkBatch, type SinkTarget } from '../../core/audit-sinks';
import { toJsonLines } from '../../core/audit-archive';
import type { SinkDelivery } from '../../ports/audit-archive';

const TIMEOUT_MS = 5_000;

/**
 * Webhooks get one POST per batch (JSON Lines) with the signed batch digest in a header, so
 * a receiver can check the batch came from Coffer unaltered. Syslog collectors get one
 * RFC 5424 message per event over TCP with octet-counting framing (RFC 6587).
 */
export class NetworkSinkDelivery implements SinkDelivery {
  constructor(private readonly options: { allowLoopback: boolean }) {}

  async deliver(target: SinkTarget, batch: SinkBatch): Promise<void> {
    if (target.type === 'webhook') return this.webhook(target.url, batch);
    return this.syslog(target.host, target.port, batch);
  }

  private async webhook(url: string, batch: SinkBatch): Promise<void> {
    await this.checkResolves(new URL(url).hostname);
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'error', // a redirect could lead anywhere, private addresses included
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: {
        'content-type': 'application/x-ndjson',
        'user-agent': 'coffer-audit-sink/1',
        'x-coffer-chain': batch.chain,
        'x-coffer-seq-range': `${batch.digest.firstSeq}-${batch.digest.lastSeq}`,
        'x-coffer-digest': Buffer.from(JSON.stringify(batch.digest)).toString('base64'),
      },
      body: toJsonLines(batch.events),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`webhook answered ${response.status}`);
  }

  private async syslog(host: string, port: number, batch: SinkBatch): Promise<void> {
    const address = await this.checkResolves(host);
    const payload = batch.events
      .map((event) => {
        const line = syslogLine(event);
        return `${Buffer.byteLength(line)} ${line}`;
      })
      .join('');
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: address, port, timeout: TIMEOUT_MS });
      socket.once('timeout', () => socket.destroy(new Error('syslog collector timed out')));
      socket.once('error', reject);
      socket.once('connect', () => socket.end(payload));
      socket.once('close', (hadError) => (hadError ? undefined : resolve()));
    });
  }

  /** Resolves the name now, at delivery, and refuses private answers (DNS rebinding). */
  private async checkResolves(host: string): Promise<string> {
    const addresses = await lookup(host.replace(/^\[|\]$/g, ''), { all: true });
    const refused = addresses.find((a) => !isAllowedAddress(a.address, this.options));
    if (addresses.length === 0 || refused) throw new Error(`sink host ${host} resolves to a refused address`);
    return addresses[0]!.address;
  }
}
