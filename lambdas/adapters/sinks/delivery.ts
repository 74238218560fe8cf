import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, isIP, type LookupFunction } from 'node:net';
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

  /** An address literal is never looked up, so it is checked here; returns it unbracketed. */
  private refuseLiteral(host: string): string {
    const bare = host.replace(/^\[|\]$/g, '');
    if (isIP(bare) && !isAllowedAddress(bare, this.options)) throw new Error(`sink host ${bare} is a refused address`);
    return bare;
  }

  private async webhook(url: string, batch: SinkBatch): Promise<void> {
    const target = new URL(url);
    this.refuseLiteral(target.hostname);
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

  /** Resolves at delivery and refuses private answers; the connection uses what it checked. */
  private readonly checkedLookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find((a) => !isAllowedAddress(a.address, this.options));
      if (addresses.length === 0 || refused) return callback(new Error(`sink host ${hostname} resolves to a refused address`), '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };

  private async syslog(host: string, port: number, batch: SinkBatch): Promise<void> {
    const bare = this.refuseLiteral(host);
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
