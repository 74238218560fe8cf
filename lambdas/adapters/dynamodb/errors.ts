import { CofferError, DependencyUnavailableError, InternalError, WriteConflictError } from '../../core/errors';

interface AwsLikeError {
  name?: string;
  CancellationReasons?: { Code?: string }[];
}

/** Turns a DynamoDB SDK error into a domain error: a lost race, our bug, or an outage. */
export function translateDynamoError(error: unknown): Error {
  // Already ours: a tenant session STS could not mint (adapters/sts/tenant-session.ts).
  if (error instanceof CofferError) return error;
  const e = error as AwsLikeError;
  if (e?.name === 'ConditionalCheckFailedException') return new WriteConflictError('The item changed concurrently.');
  if (e?.name === 'TransactionCanceledException') {
    const codes = (e.CancellationReasons ?? []).map((r) => r.Code);
    if (codes.includes('ConditionalCheckFailed')) return new WriteConflictError('The item changed concurrently.');
    if (codes.includes('TransactionConflict')) return new WriteConflictError('A concurrent transaction touched the item.');
  }
  // A malformed request is our bug, not an outage: surface it as such (logged, generic 500).
  if (e?.name === 'ValidationException' || e?.name === 'SerializationException') {
    return new InternalError('DynamoDB rejected a request', { cause: error });
  }
  return new DependencyUnavailableError('dynamodb', { cause: error });
}

export async function dynamo<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translateDynamoError(error);
  }
}
