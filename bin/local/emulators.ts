import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local';
import { startMoto, type MotoServer } from './moto';

export interface Emulators {
  readonly moto?: MotoServer;
  readonly dynamodb?: DynamoDbLocal;
  stop(): Promise<void>;
}

/**
 * Starts moto and DynamoDB Local side by side (each unless told it is not wanted). If either
 * fails to start, the one that did start is stopped before the error is thrown, so a failed
 * start leaves no process behind.
 */
export async function startEmulators(wanted: { moto: boolean; dynamodb: boolean }): Promise<Emulators> {
  const [moto, dynamodb] = await Promise.allSettled([wanted.moto ? startMoto() : undefined, wanted.dynamodb ? startDynamoDbLocal() : undefined]);
  const started = { moto: moto.status === 'fulfilled' ? moto.value : undefined, dynamodb: dynamodb.status === 'fulfilled' ? dynamodb.value : undefined };
  const stop = async () => {
    await Promise.all([started.moto?.stop(), started.dynamodb?.stop()]);
  };
  const failed = [moto, dynamodb].find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { ...started, stop };
}
