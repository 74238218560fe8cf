import { KMSClient } from '@aws-sdk/client-kms';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsDigestSigner } from '../../lambdas/adapters/kms/digest-signer';
import { batchDigest, type AuditEvent } from '../../lambdas/core/audit';
import { signedMessage } from '../../lambdas/core/audit-archive';
import type { BatchDigest } from '../../lambdas/ports/audit-archive';
import { startTestRuntime, type Client } from '../support/runtime';

let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;
let tenant: Awaited<ReturnType<Client['onboard']>>;

interface Delivery {
  headers: IncomingHttpHeaders;
  events: AuditEvent[];
}
const deliveries: Delivery[] = [];
let webhookFails = false;
let webhook: Server;
let webhookUrl: string;
const syslogLines: string[] = [];
let syslog: TcpServer;
let syslogPort: number;

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = runtime.client;
  tenant = await api.onboard('forwarded');

  webhook = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (webhookFails) {
        res.writeHead(500).end();
        return;
      }
      deliveries.push({ headers: req.headers, events: body.trim().split('\n').map((line) => JSON.parse(line) as AuditEvent) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/coffer`;

  syslog = createTcpServer((socket) => {
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      // Octet counting (RFC 6587): "<length> <message>".
      for (let match = /^(\d+) /.exec(buffer); match; match = /^(\d+) /.exec(buffer)) {
        const length = Number(match[1]);
        const start = match[0].length;
        if (Buffer.byteLength(buffer.slice(start)) < length) break;
        syslogLines.push(buffer.slice(start, start + length));
        buffer = buffer.slice(start + length);
      }
    });
  });
  await new Promise<void>((resolve) => syslog.listen(0, '127.0.0.1', resolve));
  syslogPort = (syslog.address() as AddressInfo).port;
});
afterAll(async () => {
  await runtime?.stop();
  webhook?.close();
  syslog?.close();
});

const sinks = (token = tenant.token) => api.request('GET', '/v1/audit/sinks', { token });

describe('configuring sinks', () => {
  it('lets an Owner add, list and delete sinks; the platform admin has none', async () => {
    const put = await api.request('PUT', '/v1/audit/sinks/scratch', { token: tenant.token, body: { target: { type: 'webhook', url: webhookUrl } } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ name: 'scratch', target: { type: 'webhook', url: webhookUrl }, status: { deliveredSeq: 0, consecutiveFailures: 0 } });
    expect((await sinks()).body.items.map((s: { name: string }) => s.name)).toEqual(['scratch']);
    expect((await api.request('DELETE', '/v1/audit/sinks/scratch', { token: tenant.token })).status).toBe(204);
    expect((await api.request('DELETE', '/v1/audit/sinks/scratch', { token: tenant.token })).status).toBe(404);
    expect((await sinks(await api.adminToken())).status).toBe(403);
  });

  it.each([
    ['plain http to a public host', { type: 'webhook', url: 'http://example.com/hook' }, 'must use https'],
    ['a private address', { type: 'webhook', url: 'https://10.1.2.3/hook' }, 'must not point at a private'],
    ['the instance metadata address', { type: 'webhook', url: 'https://169.254.169.254/latest' }, 'must not point at a private'],
    ['credentials in the URL', { type: 'webhook', url: 'https://user:pw@example.com/hook' }, 'must not carry credentials'],
    ['a private syslog host', { type: 'syslog', host: '192.168.0.10', port: 514 }, 'must not be a private'],
    ['a bad port', { type: 'syslog', host: 'logs.example.com', port: 70000 }, 'Invalid body.target.port'],
    ['an unknown type', { type: 'email', to: 'a@b.c' }, 'Invalid body.target'],
  ])('refuses %s with 400', async (_, target, message) => {
    const response = await api.request('PUT', '/v1/audit/sinks/bad', { token: tenant.token, body: { target } });
    expect(response.status).toBe(400);
    expect(response.body.detail).toContain(message);
    expect((await sinks()).body.items.some((s: { name: string }) => s.name === 'bad')).toBe(false);
  });
});

describe('forwarding', () => {
  it('sends new events to a webhook as JSON Lines with a signed digest, and to syslog as RFC 5424', async () => {
    expect((await api.request('PUT', '/v1/audit/sinks/siem', { token: tenant.token, body: { target: { type: 'webhook', url: webhookUrl } } })).status).toBe(200);
    expect((await api.request('PUT', '/v1/audit/sinks/syslog', { token: tenant.token, body: { target: { type: 'syslog', host: '127.0.0.1', port: syslogPort } } })).status).toBe(200);
    await api.request('PUT', '/v1/secrets/fwd/one', { token: tenant.token, body: { data: { v: 'never-forwarded-value' } } });
    await api.request('GET', '/v1/secrets/fwd/one', { token: tenant.token });
    await runtime.auditShipping.drain();

    const received = deliveries.flatMap((d) => d.events);
    expect(received.map((e) => e.seq)).toEqual(received.map((_, i) => i + 1));
    expect(received.some((e) => e.action === 'secret.read' && e.resource === 'fwd/one')).toBe(true);
    expect(JSON.stringify(deliveries)).not.toContain('never-forwarded-value');

    const first = deliveries[0]!;
    expect(first.headers['x-coffer-chain']).toBe(tenant.tenantId);
    const digest = JSON.parse(Buffer.from(String(first.headers['x-coffer-digest']), 'base64').toString('utf8')) as BatchDigest;
    expect(digest.digest).toBe(batchDigest(tenant.tenantId, first.events));
    const signer = new KmsDigestSigner(
      new KMSClient({ region: runtime.aws.region, endpoint: runtime.aws.endpoint, credentials: { accessKeyId: 't', secretAccessKey: 't' } }),
      runtime.resources.auditSigningKeyAlias,
    );
    expect(await signer.verify(signedMessage(digest.digest), Buffer.from(digest.signature, 'base64'), digest.keyId, digest.algorithm)).toBe(true);

    expect(syslogLines.length).toBe(received.length);
    expect(syslogLines[0]).toMatch(/^<1(10|08)>1 \d{4}-\d\d-\d\dT[^ ]+ coffer coffer - [a-z.]+ - \{/);
    const status = (await sinks()).body.items.find((s: { name: string }) => s.name === 'siem').status;
    expect(status).toMatchObject({ deliveredSeq: received.at(-1)!.seq, consecutiveFailures: 0 });
  });

  it('never blocks requests on a failing sink, and delivers the backlog once it recovers', async () => {
    const before = deliveries.flatMap((d) => d.events).length;
    webhookFails = true;
    for (let i = 0; i < 3; i++) {
      expect((await api.request('GET', '/v1/secrets/fwd/one', { token: tenant.token })).status).toBe(200);
    }
    await runtime.auditShipping.drain();
    const failing = (await sinks()).body.items.find((s: { name: string }) => s.name === 'siem').status;
    expect(failing.lastError).toBe('webhook answered 500');
    expect(failing.consecutiveFailures).toBeGreaterThanOrEqual(1);
    expect(failing.deliveredSeq).toBe(before);

    webhookFails = false;
    await api.request('GET', '/v1/secrets/fwd/one', { token: tenant.token });
    await runtime.auditShipping.drain();
    const all = deliveries.flatMap((d) => d.events);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1)); // no gap, no repeat
    expect(all.length).toBeGreaterThan(before + 3);
    const recovered = (await sinks()).body.items.find((s: { name: string }) => s.name === 'siem').status;
    expect(recovered).toMatchObject({ consecutiveFailures: 0, deliveredSeq: all.at(-1)!.seq });
  });
});
