import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedGet } from '../../lambdas/adapters/net/checked-address';

// The one way Coffer fetches what a tenant points it at (a trusted issuer's JWKS): from a
// checked address, with no redirects, a deadline and a byte cap counted as the body streams.
let server: Server;
let base: string;
let sentByFlood = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/small') return res.end('{"keys":[]}');
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/small' });
      return res.end();
    }
    if (req.url === '/slow') {
      res.writeHead(200);
      const timer = setInterval(() => res.write(' '), 100);
      return res.once('close', () => clearInterval(timer));
    }
    // An endless body: the client must hang up, not buffer it.
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const pump = () => {
      while (!res.destroyed && res.write(chunk)) sentByFlood += chunk.length;
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const local = { allowLoopback: true, maxBytes: 64 * 1024, timeoutMs: 2000, accept: 'application/json' };

describe('boundedGet', () => {
  it('returns a small body', async () => {
    expect((await boundedGet(new URL(`${base}/small`), local)).toString()).toBe('{"keys":[]}');
  });

  it('cuts an endless body at the cap instead of buffering it', async () => {
    await expect(boundedGet(new URL(`${base}/flood`), local)).rejects.toThrow('larger than 65536 bytes');
    // The server could push only what the socket buffers held before the hang-up.
    expect(sentByFlood).toBeLessThan(16 * 1024 * 1024);
  });

  it('does not follow a redirect', async () => {
    await expect(boundedGet(new URL(`${base}/redirect`), local)).rejects.toThrow('answered 302');
  });

  it('gives up on a server that trickles past the deadline', async () => {
    await expect(boundedGet(new URL(`${base}/slow`), { ...local, timeoutMs: 300 })).rejects.toThrow('timed out');
  });

  it('refuses loopback, private and metadata addresses outside the local runtime, by literal or by name', async () => {
    const deployed = { ...local, allowLoopback: false };
    await expect(boundedGet(new URL(`${base}/small`), deployed)).rejects.toThrow('refused address');
    await expect(boundedGet(new URL('http://169.254.169.254/latest/meta-data/'), deployed)).rejects.toThrow('refused address');
    await expect(boundedGet(new URL('http://[::1]/'), deployed)).rejects.toThrow('refused address');
    const port = new URL(base).port;
    await expect(boundedGet(new URL(`http://localhost:${port}/small`), deployed)).rejects.toThrow('resolves to a refused address');
  });
});
