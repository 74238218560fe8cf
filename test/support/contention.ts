import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { AuditEvent } from '../../lambdas/core/audit';
import type { Client } from './runtime';

// The attack run's race: many unconditional writers on one existing secret, all at once.
export const WRITERS = 30;

async function trail(api: Client, token: string): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.request('GET', `/v1/audit?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    expect(page.status).toBe(200);
    events.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return events;
}

/** Races WRITERS unconditional PUTs on one existing secret and checks every writer's story. */
export async function race(api: Client, token: string, path: string) {
    expect((await api.request('PUT', `/v1/secrets/${path}`, { token, body: { data: { n: 0 } } })).status).toBe(201);

    const sent = Array.from({ length: WRITERS }, (_, n) => ({ id: `race-${randomUUID()}`, n }));
    const answers = await Promise.all(
      sent.map(async ({ id, n }) => {
        const response = await api.request('PUT', `/v1/secrets/${path}`, { token, headers: { 'x-correlation-id': id }, body: { data: { n: n + 1 } } });
        return { id, status: response.status, retryAfter: response.headers.get('retry-after'), type: response.body?.type as string | undefined };
      }),
    );

    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s !== 200 && s !== 409 && s !== 503), JSON.stringify(answers)).toEqual([]);
    for (const refused of answers.filter((a) => a.status !== 200)) {
      expect(refused.retryAfter, `${refused.status} ${refused.type}`).toBe('1');
    }
    const ok = statuses.filter((s) => s === 200).length;
    const ranOut = answers.filter((a) => a.type?.endsWith('/deadline-exceeded')).length;
    expect(ok).toBeGreaterThan(0);

    // Every 200 is a version; only a writer told "may have been applied" may have added one unseen.
    const meta = await api.request('GET', `/v1/metadata/${path}`, { token });
    expect(meta.body.version).toBeGreaterThanOrEqual(1 + ok);
    expect(meta.body.version).toBeLessThanOrEqual(1 + ok + ranOut);

    // The trail tells each writer's story as the writer heard it.
    const events = await trail(api, token);
    for (const answer of answers) {
      const recorded = events.filter((e) => e.correlationId === answer.id).map((e) => e.status);
      if (answer.status !== 503) {
        expect(recorded, answer.id).toEqual([answer.status]);
        continue;
      }
      // A cut-off 503 is recorded within the reserve when the table answers in time; here 30
      // writers saturate DynamoDB Local, and a 503 serves nothing, so it may go unrecorded —
      // but nothing else may: at most its change's own event besides it.
      expect(recorded.filter((s) => s !== 503).length, answer.id).toBeLessThanOrEqual(1);
    }
    return answers;
}

