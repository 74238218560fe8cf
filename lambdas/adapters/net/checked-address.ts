import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isAllowedAddress } from '../../core/audit-sinks';

// Outbound connections to addresses a tenant chose (audit sinks, trusted issuers' JWKS):
// never to private, link-local, loopback or metadata addresses, and always to the address
// that was checked, so DNS cannot rebind it between the check and the connection.

export interface AddressPolicy {
  /** The local runtime: 127.0.0.1 collectors and issuers are fine. */
  readonly allowLoopback: boolean;
}

/** An address literal is never looked up, so it is checked here; returns it unbracketed. */
export function refuseLiteral(host: string, policy: AddressPolicy): string {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) && !isAllowedAddress(bare, policy)) throw new Error(`host ${bare} is a refused address`);
  return bare;
}

/** Resolves at connection time and refuses private answers; the socket uses what it checked. */
export function checkedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find((a) => !isAllowedAddress(a.address, policy));
      if (addresses.length === 0 || refused) return callback(new Error(`host ${hostname} resolves to a refused address`), '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/**
 * GET a small document from a checked address: no redirects, and the body is counted as it
 * streams in, so an endless or huge answer is cut at `maxBytes` instead of filling memory.
 */
export async function boundedGet(url: URL, options: AddressPolicy & { maxBytes: number; timeoutMs: number; accept: string }): Promise<Buffer> {
  refuseLiteral(url.hostname, options);
  return new Promise<Buffer>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      lookup: checkedLookup(options),
      headers: { accept: options.accept, 'user-agent': 'coffer/1' },
    });
    // One deadline for the whole exchange, not per socket event: a trickling server is cut too.
    const deadline = setTimeout(() => request.destroy(new Error('timed out')), options.timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(deadline);
      reject(error);
    };
    request.once('error', fail);
    request.once('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        response.resume();
        request.destroy();
        return fail(new Error(`answered ${status}`)); // a 3xx too: redirects are not followed
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          request.destroy();
          return fail(new Error(`larger than ${options.maxBytes} bytes`));
        }
        chunks.push(chunk);
      });
      response.once('error', fail);
      response.once('end', () => {
        clearTimeout(deadline);
        resolve(Buffer.concat(chunks));
      });
    });
    request.end();
  });
}
