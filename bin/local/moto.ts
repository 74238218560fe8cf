import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface MotoServer {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

// moto's DynamoDB TransactWriteItems snapshots the whole table and, when a condition fails,
// restores that snapshot without a lock: on the default threaded server a concurrent
// transaction that committed in between is silently undone (seen on moto 5.2.1: two
// writers both acknowledged as version 7). DynamoDB itself serializes conditional writes
// per item, so we run moto's own server entry point with threading off.
//
// The same snapshot is taken once per item of the transaction (a full deep copy of the table
// each time, so a three-item write copies the table three times). Copying each table once
// per transaction gives the same result; the launcher memoizes the copy for one call.
const SERIAL_MOTO = [
  'import sys, copy, types, moto.server as server, moto.dynamodb.models as models',
  'original = server.run_simple',
  'server.run_simple = lambda *a, **k: original(*a, **{**k, "threaded": False})',
  'transact = models.DynamoDBBackend.transact_write_items',
  'def transact_once(self, items):',
  '    memo = {}',
  '    def deepcopy(obj, *a, **k):',
  '        hit = memo.get(id(obj))',
  '        if hit is None or hit[0] is not obj:',
  '            hit = memo[id(obj)] = (obj, copy.deepcopy(obj, *a, **k))',
  '        return hit[1]',
  '    models.copy = types.SimpleNamespace(deepcopy=deepcopy)',
  '    try:',
  '        return transact(self, items)',
  '    finally:',
  '        models.copy = copy',
  'models.DynamoDBBackend.transact_write_items = transact_once',
  'server.main(sys.argv[1:])',
].join('\n');

function motoCommand(port: number): { command: string; args: string[] } {
  const python = process.env.COFFER_MOTO_PYTHON ?? 'python3';
  const probe = spawnSync(python, ['-c', 'import moto.server'], { stdio: 'ignore' });
  if (probe.status === 0) return { command: python, args: ['-c', SERIAL_MOTO, '-H', '127.0.0.1', '-p', String(port)] };
  console.warn('moto is not importable from python3; falling back to the threaded moto_server (concurrent transactions may misbehave).');
  return { command: 'moto_server', args: ['-H', '127.0.0.1', '-p', String(port)] };
}

/** Starts moto's server on 127.0.0.1 at a free port and waits until it answers. */
export async function startMoto(options: { port?: number; timeoutMs?: number } = {}): Promise<MotoServer> {
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const { command, args } = motoCommand(port);
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (error) => reject(new Error(`could not start moto_server (is it installed? pip install 'moto[server]'): ${error.message}`))),
  );

  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${stderr}`);
    try {
      const response = await Promise.race([fetch(`${endpoint}/moto-api/data.json`), spawnError]);
      if (response.ok) break;
    } catch (error) {
      if ((error as Error).message.startsWith('could not start')) throw error;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within the timeout: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    endpoint,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
