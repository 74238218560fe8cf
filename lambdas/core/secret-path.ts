import { InvalidRequestError } from './errors';

// API.md: 1–16 segments of [A-Za-z0-9._-]{1,128} joined by '/'. '.' and '..' match that
// class but would read as traversal in every client and log viewer, so they are refused.
const SEGMENT = /^[A-Za-z0-9._-]{1,128}$/;
export const MAX_SEGMENTS = 16;
/**
 * The whole path is a DynamoDB sort key, which holds at most 1,024 bytes (the path is
 * ASCII). API.md's segment rules alone would allow 2,063 characters; this is the bound.
 */
export const MAX_PATH_LENGTH = 1024;

declare const brand: unique symbol;
export type SecretPath = string & { readonly [brand]: 'SecretPath' };

export function parseSecretPath(raw: string): SecretPath {
  const reason = whyInvalidPath(raw);
  if (reason) throw new InvalidRequestError(`Invalid secret path: ${reason}.`, [{ field: 'path', message: reason }]);
  return raw as SecretPath;
}

export function whyInvalidPath(raw: string): string | undefined {
  if (raw.length === 0) return 'the path is empty';
  if (raw.length > MAX_PATH_LENGTH) return `the path is longer than ${MAX_PATH_LENGTH} characters`;
  const segments = raw.split('/');
  if (segments.length > MAX_SEGMENTS) return `more than ${MAX_SEGMENTS} segments`;
  for (const segment of segments) {
    if (segment === '') return 'empty segment (leading, trailing or double slash)';
    if (segment === '.' || segment === '..') return "'.' and '..' are not allowed as segments";
    if (segment.length > 128) return 'a segment is longer than 128 characters';
    if (!SEGMENT.test(segment)) return 'segments may only contain A-Z a-z 0-9 . _ -';
  }
  return undefined;
}

/** A list prefix may end mid-segment ("app/db-") but obeys the same alphabet. */
const PREFIX = /^[A-Za-z0-9._\/-]{0,1024}$/;
export function parseSecretPrefix(raw: string): string {
  if (!PREFIX.test(raw) || raw.startsWith('/') || raw.includes('//')) {
    throw new InvalidRequestError('Invalid prefix: use the characters of a secret path, without a leading or double slash.', [
      { field: 'prefix', message: 'invalid characters or slashes' },
    ]);
  }
  return raw;
}
