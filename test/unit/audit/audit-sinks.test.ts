import { describe, expect, it } from 'vitest';
import { chainEvent, EMPTY_CHAIN, type AuditEvent, type AuditOutcome } from '../../../lambdas/core/audit';
import { isAllowedAddress, MAX_SINKS_PER_TENANT, SINK_NAME, syslogLine, validateSinkTarget } from '../../../lambdas/core/audit-sinks';
import type { SinkTarget } from '../../../lambdas/ports/audit-archive';
import { InvalidRequestError } from '../../../lambdas/core/errors';
import { draft } from './fakes';

const STRICT = { allowLoopback: false };
const LOCAL = { allowLoopback: true };

const webhook = (url: string): SinkTarget => ({ type: 'webhook', url });
const syslog = (host: string, port = 6514): SinkTarget => ({ type: 'syslog', host, port });

/** The error validateSinkTarget throws, or undefined when it accepts the target. */
function refusal(target: SinkTarget, options = STRICT): InvalidRequestError | undefined {
  try {
    validateSinkTarget(target, options);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return error as InvalidRequestError;
  }
}

const PRIVATE_URL = 'must not point at a private, link-local or loopback address';
const PRIVATE_HOST = 'must not be a private, link-local or loopback address';

describe('validateSinkTarget: webhooks', () => {
  it('accepts an https URL and answers it normalised', () => {
    expect(validateSinkTarget(webhook('https://hooks.example.com/coffer?x=1'), STRICT)).toEqual(webhook('https://hooks.example.com/coffer?x=1'));
    expect(validateSinkTarget(webhook('https://Hooks.EXAMPLE.com'), STRICT)).toEqual(webhook('https://hooks.example.com/'));
    expect(validateSinkTarget(webhook('https://8.8.8.8:8443/in'), STRICT)).toEqual(webhook('https://8.8.8.8:8443/in'));
    expect(validateSinkTarget(webhook('https://[2001:db8::1]/in'), STRICT)).toEqual(webhook('https://[2001:db8::1]/in'));
  });

  it('refuses plain http with a field error, whatever the deployment allows', () => {
    for (const options of [STRICT, LOCAL]) {
      const error = refusal(webhook('http://hooks.example.com/coffer'), options);
      expect(error?.message).toBe('Invalid body.target.url: must use https.');
      expect(error?.issues).toEqual([{ field: 'body.target.url', message: 'must use https' }]);
    }
  });

  it('refuses other schemes', () => {
    for (const url of ['ftp://hooks.example.com/', 'file:///etc/passwd', 'gopher://hooks.example.com/']) {
      expect(refusal(webhook(url))?.message, url).toBe('Invalid body.target.url: must use https.');
    }
  });

  it('refuses what is not a URL', () => {
    const error = refusal(webhook('hooks.example.com/coffer'));
    expect(error?.message).toBe('Invalid body.target.url: not a URL.');
    expect(error?.issues).toEqual([{ field: 'body.target.url', message: 'not a URL' }]);
  });

  it('refuses credentials in the URL', () => {
    for (const url of ['https://user:secret@hooks.example.com/', 'https://user@hooks.example.com/', 'https://:secret@hooks.example.com/']) {
      const error = refusal(webhook(url));
      expect(error?.message, url).toBe('Invalid body.target.url: must not carry credentials.');
      expect(error?.issues).toEqual([{ field: 'body.target.url', message: 'must not carry credentials' }]);
    }
  });

  it.each([
    ['10.0.0.1'],
    ['10.255.255.255'],
    ['172.16.0.1'],
    ['172.31.255.255'],
    ['192.168.1.1'],
    ['169.254.169.254'],
    ['169.254.0.1'],
    ['100.64.0.1'],
    ['100.127.255.255'],
    ['0.0.0.0'],
  ])('refuses the private, link-local, metadata or CGNAT address %s', (ip) => {
    const error = refusal(webhook(`https://${ip}/hook`));
    expect(error?.message).toBe(`Invalid body.target.url: ${PRIVATE_URL}.`);
    expect(error?.issues).toEqual([{ field: 'body.target.url', message: PRIVATE_URL }]);
  });

  it.each([['172.15.255.255'], ['172.32.0.1'], ['100.63.255.255'], ['100.128.0.1'], ['192.169.0.1'], ['11.0.0.1'], ['169.253.0.1'], ['203.0.113.7']])(
    'accepts the public neighbour %s',
    (ip) => {
      expect(refusal(webhook(`https://${ip}/hook`))).toBeUndefined();
    },
  );

  it('refuses private addresses spelled in the forms URL parsers accept', () => {
    for (const url of ['https://0xa9.0xfe.0xa9.0xfe/', 'https://0251.0376.0251.0376/', 'https://2852039166/', 'https://10.1/', 'https://2130706433/']) {
      expect(refusal(webhook(url))?.message, url).toBe(`Invalid body.target.url: ${PRIVATE_URL}.`);
    }
  });

  it.each([['[fd00::1]'], ['[fc00::1]'], ['[fe80::1]'], ['[febf::1]'], ['[::]'], ['[FD12:3456::1]']])('refuses the IPv6 ULA, link-local or unspecified address %s', (ip) => {
    expect(refusal(webhook(`https://${ip}/hook`))?.message).toBe(`Invalid body.target.url: ${PRIVATE_URL}.`);
  });

  it.each([['metadata.google.internal'], ['ip-10-0-0-1.eu-west-1.compute.internal'], ['printer.local'], ['intranet']])(
    'refuses the internal name %s',
    (host) => {
      expect(refusal(webhook(`https://${host}/hook`))?.message).toBe(`Invalid body.target.url: ${PRIVATE_URL}.`);
    },
  );

  it('allows loopback only where the deployment allows it, and then over http too', () => {
    for (const url of ['https://localhost/hook', 'https://127.0.0.1/hook', 'https://127.1.2.3/hook', 'https://[::1]/hook']) {
      expect(refusal(webhook(url), STRICT)?.message, url).toBe(`Invalid body.target.url: ${PRIVATE_URL}.`);
      expect(refusal(webhook(url), LOCAL), url).toBeUndefined();
    }
    expect(refusal(webhook('http://127.0.0.1:9000/hook'), STRICT)?.message).toBe('Invalid body.target.url: must use https.');
    expect(validateSinkTarget(webhook('http://127.0.0.1:9000/hook'), LOCAL)).toEqual(webhook('http://127.0.0.1:9000/hook'));
    expect(validateSinkTarget(webhook('http://localhost:9000/hook'), LOCAL)).toEqual(webhook('http://localhost:9000/hook'));
    expect(validateSinkTarget(webhook('http://[::1]:9000/hook'), LOCAL)).toEqual(webhook('http://[::1]:9000/hook'));
  });

  it('refuses other private addresses even where loopback is allowed', () => {
    expect(refusal(webhook('https://10.0.0.1/'), LOCAL)?.message).toBe(`Invalid body.target.url: ${PRIVATE_URL}.`);
    expect(refusal(webhook('http://10.0.0.1/'), LOCAL)?.message).toBe('Invalid body.target.url: must use https.');
  });

  // BUG: an IPv4-mapped IPv6 literal (::ffff:a.b.c.d) names an IPv4 address, but checkHost
  // (lambdas/core/audit-sinks.ts:74) only looks for fc/fd/fe8-feb and
  // `::`, so the metadata service, RFC 1918 and loopback are accepted in that spelling.
  it('refuses the IPv4-mapped IPv6 spelling of private, metadata and loopback addresses', () => {
    const accepted = ['[::ffff:169.254.169.254]', '[::ffff:10.0.0.1]', '[::ffff:192.168.0.1]', '[::ffff:127.0.0.1]'].filter(
      (ip) => refusal(webhook(`https://${ip}/hook`)) === undefined,
    );
    expect(accepted).toEqual([]);
  });
});

describe('validateSinkTarget: syslog', () => {
  it('accepts a public host name or address and answers the target unchanged', () => {
    const target = syslog('logs.example.com');
    expect(validateSinkTarget(target, STRICT)).toBe(target);
    expect(validateSinkTarget(syslog('203.0.113.7', 514), STRICT)).toEqual(syslog('203.0.113.7', 514));
    expect(validateSinkTarget(syslog('[2001:db8::5]'), STRICT)).toEqual(syslog('[2001:db8::5]'));
  });

  it.each([['10.0.0.5'], ['172.20.1.1'], ['192.168.0.10'], ['169.254.169.254'], ['100.100.100.100'], ['fe80::1'], ['[fd00::2]'], ['collector'], ['logs.internal'], ['syslog.local'], ['logs_1.example.com'], ['logs.example.com:514'], ['']])(
    'refuses the host %j with a field error on host',
    (host) => {
      const error = refusal(syslog(host));
      expect(error?.message).toBe(`Invalid body.target.host: ${PRIVATE_HOST}.`);
      expect(error?.issues).toEqual([{ field: 'body.target.host', message: PRIVATE_HOST }]);
    },
  );

  it('treats host names case-insensitively', () => {
    expect(refusal(syslog('Logs.Example.COM'))).toBeUndefined();
    expect(refusal(syslog('METADATA.GOOGLE.INTERNAL'))?.message).toBe(`Invalid body.target.host: ${PRIVATE_HOST}.`);
  });

  it('allows a loopback collector only where the deployment allows it', () => {
    for (const host of ['localhost', '127.0.0.1', '::1', '[::1]']) {
      expect(refusal(syslog(host), STRICT)?.message, host).toBe(`Invalid body.target.host: ${PRIVATE_HOST}.`);
      expect(refusal(syslog(host), LOCAL), host).toBeUndefined();
    }
  });
});

describe('isAllowedAddress', () => {
  it.each([
    ['203.0.113.7', STRICT, true],
    ['8.8.8.8', STRICT, true],
    ['2001:db8::1', STRICT, true],
    ['[2001:db8::1]', STRICT, true],
    ['10.0.0.1', STRICT, false],
    ['172.16.5.4', STRICT, false],
    ['192.168.1.1', STRICT, false],
    ['169.254.169.254', STRICT, false],
    ['100.64.0.1', STRICT, false],
    ['0.0.0.0', STRICT, false],
    ['fd00::1', STRICT, false],
    ['fe80::1', STRICT, false],
    ['::', STRICT, false],
    ['127.0.0.1', STRICT, false],
    ['127.0.0.1', LOCAL, true],
    ['::1', STRICT, false],
    ['::1', LOCAL, true],
    ['10.0.0.1', LOCAL, false],
  ] as const)('%s (allowLoopback %o) → %s', (address, options, allowed) => {
    expect(isAllowedAddress(address, options)).toBe(allowed);
  });

  it('answers false for anything that is not an address, even a public name', () => {
    expect(isAllowedAddress('hooks.example.com', STRICT)).toBe(false);
    expect(isAllowedAddress('localhost', LOCAL)).toBe(false);
    expect(isAllowedAddress('', STRICT)).toBe(false);
  });

  // BUG: same gap as above, where it matters most — at delivery, after DNS resolution. A name
  // with an AAAA record of ::ffff:169.254.169.254 passes the DNS-rebinding check.
  it('refuses IPv4-mapped IPv6 addresses of private, metadata and loopback ranges', () => {
    const allowed = ['::ffff:169.254.169.254', '::ffff:10.0.0.1', '::ffff:127.0.0.1', '::ffff:a9fe:a9fe'].filter((a) => isAllowedAddress(a, STRICT));
    expect(allowed).toEqual([]);
  });
});

describe('syslogLine', () => {
  const eventWith = (outcome: AuditOutcome, status: number): AuditEvent =>
    chainEvent(EMPTY_CHAIN, draft({ outcome, status, time: '2026-11-24T12:41:59.871Z', action: 'secret.read' }));

  it('writes RFC 5424 with PRI 110 (log audit, informational) for a success', () => {
    const event = eventWith('success', 200);
    expect(syslogLine(event)).toBe(`<110>1 2026-11-24T12:41:59.871Z coffer coffer - secret.read - ${JSON.stringify(event)}`);
  });

  it.each([
    ['denied', 403],
    ['failure', 404],
    ['error', 503],
  ] as const)('writes PRI 108 (log audit, warning) for %s', (outcome, status) => {
    const event = eventWith(outcome, status);
    expect(syslogLine(event)).toBe(`<108>1 2026-11-24T12:41:59.871Z coffer coffer - secret.read - ${JSON.stringify(event)}`);
  });

  it('lays out PRI, version, timestamp, host, app, procid, msgid, no structured data, then the event', () => {
    const event = chainEvent(EMPTY_CHAIN, draft({ action: 'audit.sink.put', resource: 'line\nbreak', time: '2026-11-24T00:00:00.000Z' }));
    const line = syslogLine(event, 'eu-west-1.coffer.example');
    const match = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (.*)$/s.exec(line);
    expect(match?.slice(1, 8)).toEqual(['110', '2026-11-24T00:00:00.000Z', 'eu-west-1.coffer.example', 'coffer', '-', 'audit.sink.put', '-']);
    expect(JSON.parse(match![8]!)).toEqual(event);
    expect(line).not.toContain('\n');
  });
});

describe('sink limits', () => {
  it('names sinks in lower-case kebab case, at most 63 characters, and allows 5 per tenant', () => {
    expect(MAX_SINKS_PER_TENANT).toBe(5);
    for (const ok of ['a', 'splunk-prod', '0-hook', 'a'.repeat(63)]) expect(SINK_NAME.test(ok), ok).toBe(true);
    for (const bad of ['', '-hook', 'Hook', 'hook_1', 'a'.repeat(64), 'hook.prod']) expect(SINK_NAME.test(bad), bad).toBe(false);
  });
});
