import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { z } from 'zod';
import { InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../core/errors';
import type { BodyKind } from '../route-manifest';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth';

// From an API Gateway proxy event to the raw input a route's zod schema parses: path
// parameters decoded, the body read by its kind, and every refusal a clear 400/413/415.

/** Bigger than any valid body (64 KiB of data plus metadata, JSON-escaped); refused unread. */
export const MAX_BODY_BYTES = 256 * 1024;
export interface RawInput {
  readonly params: Record<string, string>;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

export function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function parseInput(schema: z.ZodType, body: BodyKind, event: APIGatewayProxyEvent): unknown {
  const raw: RawInput = {
    params: decodeParams(event.pathParameters),
    query: { ...(event.queryStringParameters as Record<string, string> | null) },
    headers: { ...(event.headers as Record<string, string>) },
    body: parseBody(body, event),
  };
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || '(request)',
    message: issue.message,
  }));
  const first = issues[0]!;
  throw new InvalidRequestError(`Invalid ${first.field}: ${first.message}.`, issues);
}

function decodeParams(params: APIGatewayProxyEvent['pathParameters']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value === undefined) continue;
    // An encoded slash is not a separator (RFC 3986): decoding it would give one secret two URLs.
    if (/%2f/i.test(value)) {
      throw new InvalidRequestError(`Invalid ${name}: an encoded '/' (%2F) is not allowed; separate segments with '/'.`, [
        { field: `params.${name}`, message: 'encoded slash' },
      ]);
    }
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      throw new InvalidRequestError(`Invalid ${name}: malformed percent-encoding.`, [{ field: `params.${name}`, message: 'malformed percent-encoding' }]);
    }
  }
  return out;
}

function parseBody(kind: BodyKind, event: APIGatewayProxyEvent): unknown {
  if (kind === 'none') return undefined;
  const text = bodyText(event);
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLargeError(`The request body is larger than ${MAX_BODY_BYTES} bytes.`);
  if (kind === 'optional-json' && text.trim() === '') return undefined;
  const contentType = (event.headers?.['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (kind === 'json-or-form' && contentType === 'application/x-www-form-urlencoded') {
    return Object.fromEntries(new URLSearchParams(text));
  }
  if (contentType !== 'application/json' && !contentType.endsWith('+json')) {
    throw new UnsupportedMediaTypeError(`Send the body as application/json${kind === 'json-or-form' ? ' or application/x-www-form-urlencoded' : ''}.`);
  }
  if (text.trim() === '') throw new InvalidRequestError('The request body is empty; send a JSON object.', [{ field: 'body', message: 'empty' }]);
  // Before the parse and every walk after it: a deep enough body overflows a recursive one.
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new InvalidRequestError(`The request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels.`, [{ field: 'body', message: `deeper than ${MAX_JSON_DEPTH} levels` }]);
  }
  try {
    return JSON.parse(text);
  } catch {
    // Never echo the body back: it may be a secret.
    throw new InvalidRequestError('The request body is not valid JSON.', [{ field: 'body', message: 'malformed JSON' }]);
  }
}

export function bodyText(event: APIGatewayProxyEvent): string {
  if (event.body === null || event.body === undefined) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}
