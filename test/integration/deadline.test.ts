import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { race, WRITERS } from '../support/contention';
import { startTestRuntime, type Client } from '../support/runtime';

// Its own file: the handlers are modules, so one runtime (and one deadline) per process.
describe(`${WRITERS} unconditional writers on one secret, against a short function deadline`, () => {
  // 2.5 s: api() cuts a request off at 1 s, while lost races would go on retrying for 2.
  let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
  beforeAll(async () => (runtime = await startTestRuntime({ functionTimeoutMs: 2_500 })));
  afterAll(() => runtime?.stop());

  it('cuts writers off with a 503 that says the change may have been applied, and records that 503', async () => {
    const { token } = await patientOnboard(runtime.client);
    const answers = await race(runtime.client, token, 'conc/y');
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
