import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { race, WRITERS } from '../support/contention';
import { startTestRuntime } from '../support/runtime';

describe(`${WRITERS} concurrent unconditional writes on one secret`, () => {
  let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
  beforeAll(async () => (runtime = await startTestRuntime()));
  afterAll(() => runtime?.stop());

  it('answer each writer 200 or a retryable 409, commit exactly the 200s, and record what each writer was told', async () => {
    const { token } = await runtime.client.onboard('contended');
    const answers = await race(runtime.client, token, 'conc/x');
    expect(answers.filter((a) => a.type?.endsWith('/deadline-exceeded'))).toEqual([]);
  }, 60_000);
});

