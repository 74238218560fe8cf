import { BlockList, isIP } from 'node:net';
import { InvalidRequestError } from '../errors';

// Source-address safelists (IPv4 and IPv6 CIDR blocks). An IPv4 address that reaches us
// IPv4-mapped (`::ffff:10.0.0.1`) is checked as the IPv4 address it is.
const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

export const MAX_CIDRS = 50;

export function parseCidr(raw: string): string {
  const [address, prefixText, extra] = raw.split('/');
  const family = isIP(address ?? '');
  const prefix = Number(prefixText);
  const max = family === 4 ? 32 : 128;
  if (extra !== undefined || family === 0 || prefixText === undefined || !/^\d{1,3}$/.test(prefixText) || prefix > max) {
    throw new InvalidRequestError(`Invalid CIDR '${raw.slice(0, 64)}': write an IPv4 or IPv6 block such as 10.0.0.0/8 or 2001:db8::/32.`, [
      { field: 'cidrs', message: 'not a CIDR block' },
    ]);
  }
  return `${address!.toLowerCase()}/${prefix}`;
}

export class Safelist {
  private readonly blocks = new BlockList();

  constructor(readonly cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const [address, prefix] = cidr.split('/');
      this.blocks.addSubnet(address!, Number(prefix), isIP(address!) === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** An unparseable or unknown source address is never inside a safelist. */
  allows(sourceIp: string): boolean {
    const address = MAPPED_V4.exec(sourceIp)?.[1] ?? sourceIp;
    const family = isIP(address);
    if (family === 0) return false;
    return this.blocks.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}
