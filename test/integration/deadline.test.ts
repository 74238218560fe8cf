import { randomUUID } from 'node:crypto';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../lambdas/core/audit';
import { race, WRITERS } from '../support/contention';
import { startTestRuntime, type Client } from '../support/runtime';

// Its own file: the handlers are modules, so one runtime (and one deadline) per process.
// 2.5 s: api() cuts a request off at 1 s, while lost races would go on retrying for 2.
let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
let tenant: Awaited<ReturnType<Client['onboard']>>;
beforeAll(async () => {
  runtime = await startTestRuntime({ functionTimeoutMs: 2_500 });
  tenant = await patientOnboard(runtime.client);
});
afterAll(() => runtime?.stop());

describe(`${WRITERS} unconditional writers on one secret, against a short function deadline`, () => {
  it('cuts writers off with a 503 that says the change may have been applied, and records that 503', async () => {
    const answers = await race(runtime.client, tenant.token, 'conc/y');
    const cut = answers.filter((a) => a.status === 503);
    expect(cut.length).toBeGreaterThan(0);
    for (const answer of cut) expect(answer.type).toBe('https://coffer.dev/problems/deadline-exceeded');
  }, 60_000);
});

/** Onboarding makes KMS calls that may take a while on a loaded machine; retried on a cut-off. */
async function patientOnboard(api: Client) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.onboard('deadline');
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

describe('a request cut off at its deadline', () => {
  const realSend = DynamoDBDocumentClient.prototype.send;
  let mock: ReturnType<typeof mockClient> | undefined;
  afterEach(() => mock?.restore());

  /** Every DynamoDB call goes through, `slow` ones after `ms`. */
  function slowDown(ms: number, slow: (command: string, input: any) => boolean) {
    mock = mockClient(DynamoDBDocumentClient);
    for (const Command of [GetCommand, QueryCommand, UpdateCommand, PutCommand, DeleteCommand, TransactWriteCommand] as (new (input: any) => any)[]) {
      mock.on(Command).callsFake(async (input, getClient) => {
        if (slow(Command.name, input)) await new Promise((resolve) => setTimeout(resolve, ms));
        return (realSend as any).call(getClient(), new Command(input));
      });
    }
  }

  async function eventsOf(correlationId: string) {
    const page = await runtime.client.request('GET', '/v1/audit?limit=1000', { token: tenant.token });
    return (page.body.items as AuditEvent[]).filter((e) => e.correlationId === correlationId);
  }

  it('answers its own 503 before the deadline and records it, even while its transaction hangs, which then cannot land', async () => {
    // The write's transaction takes 4 s; the function has 2.5 s.
    slowDown(4_000, (command, input) => command === 'TransactWriteCommand' && JSON.stringify(input).includes('hung/x'));
    const id = `cut-${randomUUID()}`;
    const started = Date.now();
    const answer = await runtime.client.request('PUT', '/v1/secrets/hung/x', { token: tenant.token, headers: { 'x-correlation-id': id }, body: { data: { v: 1 } } });
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ type: 'https://coffer.dev/problems/deadline-exceeded', correlationId: id });
    mock!.restore();
    mock = undefined;
    // The hung transaction reaches DynamoDB at 4 s, claiming an audit seq that the 503's
    // event took meanwhile: it fails, and the cut-off request tries no more.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await eventsOf(id)).map((e) => e.status)).toEqual([503]);
    expect((await runtime.client.request('GET', '/v1/secrets/hung/x', { token: tenant.token })).status).toBe(404);
  });

  it('records the 503 it answered even when its change had already committed with its own event', async () => {
    // With an Idempotency-Key the answer is stored after the commit: that store is slow.
    slowDown(2_000, (command, input) => command === 'UpdateCommand' && String(input.Key?.pk).includes('#IDEM#'));
    const id = `late-${randomUUID()}`;
    const answer = await runtime.client.request('PUT', '/v1/secrets/late/x', {
      token: tenant.token,
      headers: { 'x-correlation-id': id, 'idempotency-key': `key-${randomUUID()}` },
      body: { data: { v: 1 } },
    });
    expect(answer.status).toBe(503);
    expect((await eventsOf(id)).map((e) => e.status).sort()).toEqual([201, 503]);
  });
});
