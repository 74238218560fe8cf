import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startEmulators } from '../../bin/local/emulators';

// npm start and the test setup start moto and DynamoDB Local side by side; when one cannot
// start, the other must not be left running (it would hold its port and memory until reboot).

/** The processes this test process spawned and that still run. */
const children = () =>
  execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)])
    .toString()
    .split('\n')
    .filter((line) => line.trim() && !line.includes(' ps -o'));

describe('starting the emulators', () => {
  it('stops moto when DynamoDB Local cannot start, and says why', async () => {
    const java = process.env.COFFER_JAVA;
    process.env.COFFER_JAVA = '/bin/false'; // a "Java" that exits at once
    try {
      await expect(startEmulators({ moto: true, dynamodb: true })).rejects.toThrow(/DynamoDB Local exited with 1/);
    } finally {
      if (java === undefined) delete process.env.COFFER_JAVA;
      else process.env.COFFER_JAVA = java;
    }
    expect(children().filter((line) => line.includes('moto'))).toEqual([]);
  }, 60_000);

  it('starts both and stops both by their pids', async () => {
    const emulators = await startEmulators({ moto: true, dynamodb: true });
    const pids = [emulators.moto!.pid, emulators.dynamodb!.pid];
    expect(children().map((line) => Number(line.trim().split(/\s+/)[0]))).toEqual(expect.arrayContaining(pids));
    await emulators.stop();
    expect(children().filter((line) => pids.includes(Number(line.trim().split(/\s+/)[0])))).toEqual([]);
  }, 90_000);
});
