import { isIP } from 'node:net';
import type { AuditEvent } from './audit';
import type { SinkTarget } from '../ports/audit-archive';
import { InvalidRequestError } from './errors';

// Optional forwarding of a tenant's audit events to its own webhook or syslog collector.
// Best effort by design: only the primary record (DynamoDB, then S3) is fail-closed. Each
// sink keeps its own delivery mark, so a collector that is down gets the backlog later.

export const SINK_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const MAX_SINKS_PER_TENANT = 5;

/**
 * A sink must point outside Coffer's own network: https only (http and loopback only when the
 * deployment allows it, for local collectors), and no literal private, link-local or metadata
 * address. Names are resolved at delivery; DNS that rebinds to a private address is the
 * delivery adapter's to refuse.
 */
export function validateSinkTarget(target: SinkTarget, options: { allowLoopback: boolean }): SinkTarget {
  if (target.type === 'webhook') {
    let url: URL;
    try {
      url = new URL(target.url);
    } catch {
      throw invalid('url', 'not a URL');
    }
    const loopback = isLoopback(url.hostname);
    if (url.protocol !== 'https:' && !(options.allowLoopback && loopback && url.protocol === 'http:')) throw invalid('url', 'must use https');
    if (url.username || url.password) throw invalid('url', 'must not carry credentials');
    if (!checkHost(url.hostname, options)) throw invalid('url', 'must not point at a private, link-local or loopback address');
    return { type: 'webhook', url: url.toString() };
  }
  if (!checkHost(target.host, options)) throw invalid('host', 'must not be a private, link-local or loopback address');
  return target;
}

function invalid(field: string, message: string): InvalidRequestError {
  return new InvalidRequestError(`Invalid body.target.${field}: ${message}.`, [{ field: `body.target.${field}`, message }]);
}

/** For delivery: may a resolved address be connected to? */
export function isAllowedAddress(address: string, options: { allowLoopback: boolean }): boolean {
  return isIP(address.replace(/^\[|\]$/g, '')) !== 0 && checkHost(address, options);
}

/** For configuration: may a host name or address (not yet resolved) be reached at all? */
export function isAllowedHost(host: string, options: { allowLoopback: boolean }): boolean {
  return checkHost(host, options);
}

function checkHost(rawHost: string, options: { allowLoopback: boolean }): boolean {
  const host = rawHost.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopback(host)) return options.allowLoopback;
  if (host === 'metadata.google.internal' || host.endsWith('.internal') || host.endsWith('.local')) return false;
  const family = isIP(host);
  if (family === 4) return !isPrivateV4(host);
  if (family === 6) {
    // An IPv4 address in IPv6 clothing (::ffff:10.0.0.1, ::ffff:a9fe:a9fe, 64:ff9b::…) is
    // judged as the IPv4 address it reaches.
    const v4 = embeddedV4(host);
    if (v4 !== undefined) return isLoopback(v4) ? options.allowLoopback : !isPrivateV4(v4);
    // Unique-local, link-local, multicast, unspecified.
    return !/^(fc|fd|fe8|fe9|fea|feb|ff)/.test(host) && host !== '::';
  }
  return /^[a-z0-9.-]+$/.test(host) && host.includes('.');
}

function embeddedV4(v6: string): string | undefined {
  // IPv4-mapped (::ffff:), IPv4-compatible (::), and NAT64 (64:ff9b::, 64:ff9b:1::).
  const mapped = /^(?:::ffff:|::|64:ff9b::|64:ff9b:1::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(v6);
  if (!mapped) return undefined;
  if (mapped[1]) return mapped[1];
  const hi = Number.parseInt(mapped[2]!, 16);
  const lo = Number.parseInt(mapped[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

function isPrivateV4(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  const [, , c] = ip.split('.').map(Number) as [number, number, number];
  return (
    a === 0 ||
    a === 10 ||
    a >= 224 || // multicast and reserved
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, instance metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && c === 0) || // IETF protocol assignments
    (a === 198 && (b === 18 || b === 19)) // benchmarking
  );
}

/** RFC 5424 line for one event: the event JSON as the message, the action as MSGID. */
export function syslogLine(event: AuditEvent, hostname = 'coffer'): string {
  // facility 13 (log audit), severity 4 (warning) for denials, 6 (informational) otherwise.
  const severity = event.outcome === 'success' ? 6 : 4;
  const pri = 13 * 8 + severity;
  return `<${pri}>1 ${event.time} ${hostname} coffer - ${event.action} - ${JSON.stringify(event)}`;
}
