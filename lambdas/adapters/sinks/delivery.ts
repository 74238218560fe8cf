import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { syslogLine } from '../../core/audit-sinks';
import type { SinkBatch, SinkTarget } from '../../ports/audit-archive';
import { toJsonLines } from '../../core/audit-archive';
import type { SinkDelivery } from '../../ports/audit-archive';
import { checkedLookup, refuseLiteral } from '../net/checked-address';

const TIMEOUT_MS = 5_000;

/**
 * Webhooks get one POST per batch (JSON Lines) with the signed batch digest in a header, so
 * a receiver can check the batch came from Coffer unaltered. Syslog collectors get one
 * RFC 5424 message per event over TCP with octet-counting framing (RFC 6587).
 */
export class NetworkSinkDelivery implements SinkDelivery {
  private readonly checkedLookup;

  constructor(private readonly options: { allowLoopback: boolean }) {
    this.checkedLookup = checkedLookup(options);
  }

  async deliver(target: SinkTarget, batch: SinkBatch): Promise<void> {
    if (target.type === 'webhook') return this.webhook(target.url, batch);
    return this.syslog(target.host, target.port, batch);
  }

  private async webhook(url: string, batch: SinkBatch): Promise<void> {
    const target = new URL(url);
    refuseLiteral(target.hostname, this.options);
    const body = toJsonLines(batch.events);
    return new Promise<void>((resolve, reject) => {
      const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, {
        method: 'POST',
        timeout: TIMEOUT_MS,
        // The address connected to is the one checked: no second resolution can rebind it.
        lookup: this.checkedLookup,
        headers: {
          'content-type': 'application/x-ndjson',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'coffer-audit-sink/1',
          'x-coffer-chain': batch.chain,
          'x-coffer-seq-range': `${batch.digest.firstSeq}-${batch.digest.lastSeq}`,
          'x-coffer-digest': Buffer.from(JSON.stringify(batch.digest)).toString('base64'),
        },
      });
      request.once('timeout', () => request.destroy(new Error('webhook timed out')));
      request.once('error', reject);
      // No redirects are followed: a 3xx is a failed delivery like any other non-2xx.
      request.once('response', (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) response.once('end', resolve);
        else reject(new Error(`webhook answered ${status}`));
      });
      request.end(body);
    });
  }

  private async syslog(host: string, port: number, batch: SinkBatch): Promise<void> {
    const bare = refuseLiteral(host, this.options);
    const payload = batch.events
      .map((event) => {
        const line = syslogLine(event);
        return `${Buffer.byteLength(line)} ${line}`;
      })
      .join('');
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: bare, port, timeout: TIMEOUT_MS, lookup: this.checkedLookup });
      socket.once('timeout', () => socket.destroy(new Error('syslog collector timed out')));
      socket.once('error', reject);
      socket.once('connect', () => socket.end(payload));
      socket.once('close', (hadError) => (hadError ? undefined : resolve()));
    });
  }
}
