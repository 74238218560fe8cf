import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The benchmarks are run by hand (`npm run bench:*`), so nothing else would notice when a
// change breaks one (a new validation rule refusing its set-up, say). Each runs here with
// a handful of samples: it must finish and print its ratio tables. No figure is asserted.
const run = promisify(execFile);

async function bench(script: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

describe('benchmarks still run', () => {
  it('bench:read prints the warm-read ratio and the AWS calls per operation', { timeout: 180_000 }, async () => {
    const out = await bench('bench/read.ts', { BENCH_ROUNDS: '1', BENCH_PER_ROUND: '3' });
    expect(out).toMatch(/bare DynamoDB GetItem \(baseline\).*1\.00×/);
    expect(out).toContain('AWS calls per operation');
  });

  it('bench:identity prints logins per second per method, AWS calls per login and the authorizer cost', { timeout: 180_000 }, async () => {
    const out = await bench('bench/identity.ts', { BENCH_LOGINS: '2', BENCH_VERIFY: '20' });
    for (const method of ['client_credentials', 'password', 'refresh_token', 'aws_iam', 'jwt']) expect(out).toContain(method);
    expect(out).toMatch(/'client_credentials'\s*│ 1 /); // one kms:Sign per login
    expect(out).toContain('full authorizer');
  });

  it('bench:audit prints the trail on/off ratios and the shipper rate', { timeout: 180_000 }, async () => {
    const out = await bench('bench/audit.ts', { BENCH_ROUNDS: '1', BENCH_PER_ROUND: '3', BENCH_SHIP_EVENTS: '20' });
    expect(out).toMatch(/1\.00×/);
    expect(out).toMatch(/events\/s/);
  });
});
