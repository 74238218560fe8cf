import { InvalidRequestError } from '../../core/errors';

// Cursors are opaque to clients but carry only a sort-key position: the partition key is
// rebuilt from the caller's tenant, so a cursor can never page into another tenant.
export function encodeCursor(position: string | number): string {
  return Buffer.from(JSON.stringify({ p: position }), 'utf8').toString('base64url');
}

export function decodeCursor<T extends string | number>(cursor: string, valid: (p: unknown) => p is T): T {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown };
    if (valid(decoded.p)) return decoded.p;
  } catch {
    // fall through to the same error as a well-formed but foreign cursor
  }
  throw new InvalidRequestError('The cursor is invalid; pass back the cursor of a previous page unchanged.', [
    { field: 'cursor', message: 'invalid cursor' },
  ]);
}
