import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type Client } from '../support/runtime';

// The local gateway's own answers, outside any handler: each is a problem+json body with a
// correlation id, as API Gateway's gateway responses are (lib/constructs/problem-responses.ts).
let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let api: Client;

beforeAll(async () => {
  // No authorizer cache: every request runs the authorizer, so a fault in it shows at once.
  runtime = await startTestRuntime({ authorizerCacheTtlMs: 0 });
  api = runtime.client;
});
afterAll(async () => {
  await runtime?.stop();
});

/** Sends bytes as written on one TCP connection and returns the whole answer. */
function exchange(raw: string): Promise<{ status: number; headers: Map<string, string>; body: string }> {
  const { hostname, port } = new URL(runtime.endpoint);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.end(raw));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

function expectProblemBody(answer: { status: number; headers: Map<string, string>; body: string }, status: number): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.headers.get('x-coffer-region')).toBe(runtime.aws.region);
  const problem = JSON.parse(answer.body);
  expect(problem).toMatchObject({ type: 'about:blank', status, title: expect.any(String), detail: expect.any(String), correlationId: answer.headers.get('x-correlation-id') });
}

describe('requests Node cannot parse', () => {
  it('answers a 60 KB URL with 431 and a problem body, not an empty one', async () => {
    const answer = await exchange(`GET /v1/secrets/${'a'.repeat(60_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expectProblemBody(answer, 431);
    expect(answer.body).not.toContain('aaaa');
  });

  it.each([
    ['a Content-Length that is not a number', 'Content-Length: abc\r\n'],
    ['two different Content-Lengths', 'Content-Length: 5\r\nContent-Length: 6\r\n'],
    ['Content-Length beside chunked Transfer-Encoding', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'],
  ])('answers %s with 400 and a problem body', async (_, lengths) => {
    const answer = await exchange(`PUT /v1/secrets/a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${lengths}\r\n{"data":{}}`);
    expectProblemBody(answer, 400);
  });
});

describe('an authorizer that cannot verify', () => {
  it('answers 503 with Retry-After, as the handlers do for an unavailable dependency', async () => {
    const { token } = await api.onboard('gateway-edges');
    // The authorizer's one read per check fails (the only DynamoDB call before the answer).
    const mock = mockClient(DynamoDBDocumentClient);
    try {
      mock.on(BatchGetCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', $fault: 'server' }));
      const response = await api.request('GET', '/v1/secrets', { token });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('x-coffer-region')).toBe(runtime.aws.region);
    } finally {
      mock.restore();
    }
    expect((await api.request('GET', '/v1/secrets', { token })).status).toBe(200);
  });
});

describe('X-Coffer-Region', () => {
  const realSend = DynamoDBDocumentClient.prototype.send;
  it('names the region on every kind of answer: a route, a refusal, the gateway, an audit outage', async () => {
    const { token } = await api.onboard('region-header');
    const answers = [
      await api.request('GET', '/health'),
      await api.request('GET', '/v1/secrets/missing', { token }),
      await api.request('GET', '/v1/secrets'),
      await api.request('PUT', '/v1/secrets/bad', { token, rawBody: '{', headers: { 'content-type': 'application/json' } }),
    ];
    // The audit trail down: the 503 escapes the handler and problemJson() answers it.
    const mock = mockClient(DynamoDBDocumentClient);
    try {
      mock.on(PutCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', $fault: 'server' }));
      mock.on(BatchGetCommand).callsFake((input, getClient) => (realSend as any).call(getClient(), new BatchGetCommand(input)));
      mock.on(GetCommand).callsFake((input, getClient) => (realSend as any).call(getClient(), new GetCommand(input)));
      mock.on(QueryCommand).callsFake((input, getClient) => (realSend as any).call(getClient(), new QueryCommand(input)));
      answers.push(await api.request('GET', '/v1/secrets/missing', { token }));
    } finally {
      mock.restore();
    }
    expect(answers.map((a) => a.status)).toEqual([200, 404, 401, 400, 503]);
    for (const answer of answers) expect(answer.headers.get('x-coffer-region'), String(answer.status)).toBe(runtime.aws.region);
  });
});

describe('requests no route serves, with a token', () => {
  it('answers another method on /health with 405 from the unrouted function, and records it', async () => {
    const { token } = await api.onboard('gateway-unrouted');
    const wrongMethod = await api.request('POST', '/health', { token });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    // A path no resource can take (an empty segment) goes through the authorizer too.
    const trailing = await api.request('GET', '/v1/users/', { token });
    expect(trailing.status).toBe(404);
    expect(trailing.body.detail).toBe('No such route.');
    const events = (await api.request('GET', '/v1/audit?action=request.unrouted', { token })).body.items as { status: number; details: { method: string } }[];
    expect(events.map((e) => [e.details.method, e.status])).toEqual(expect.arrayContaining([['POST', 405], ['GET', 404]]));
  });
});
