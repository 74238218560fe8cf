import { CofferError, InvalidRequestError, MethodNotAllowedError, RateLimitedError, RETRY_AFTER_SECONDS, type ErrorCode } from '../core/errors';

export interface Problem {
  readonly status: number;
  readonly title: string;
}

// The one table from domain error codes to HTTP; `satisfies` makes the compiler check that
// every code has a row.
export const problems = {
  'invalid-request': { status: 400, title: 'Invalid request' },
  unauthenticated: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  contended: { status: 409, title: 'Conflict' },
  'idempotency-key-in-use': { status: 409, title: 'Conflict' },
  'version-conflict': { status: 412, title: 'Version conflict' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'idempotency-key-reused': { status: 422, title: 'Unprocessable content' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  'dependency-unavailable': { status: 503, title: 'Service unavailable' },
  'deadline-exceeded': { status: 503, title: 'Service unavailable' },
} as const satisfies Record<ErrorCode, Problem>;

/** Failures a retry a moment later may not meet: each answer says when to try again. */
const RETRY_SOON: ReadonlySet<ErrorCode> = new Set(['contended', 'idempotency-key-in-use', 'dependency-unavailable', 'deadline-exceeded']);

export const PROBLEM_TYPE_BASE = 'https://coffer.dev/problems/';

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly correlationId: string;
  readonly errors?: readonly { field: string; message: string }[];
}

export interface ProblemResponse {
  readonly body: ProblemBody;
  readonly headers: Record<string, string>;
}

/** Known errors say what went wrong; anything else is a generic 500 with no internals. */
export function toProblem(error: unknown, correlationId: string): ProblemResponse {
  if (!(error instanceof CofferError) || error.code === 'internal') {
    return {
      body: {
        type: `${PROBLEM_TYPE_BASE}internal`,
        title: problems.internal.title,
        status: 500,
        detail: 'An unexpected error occurred. Quote the correlation id when reporting it.',
        correlationId,
      },
      headers: {},
    };
  }
  const { status, title } = problems[error.code];
  const headers: Record<string, string> = {};
  if (error instanceof RateLimitedError) headers['Retry-After'] = String(error.retryAfterSeconds);
  if (RETRY_SOON.has(error.code)) headers['Retry-After'] = String(RETRY_AFTER_SECONDS);
  if (error instanceof MethodNotAllowedError && error.allowed.length > 0) headers.Allow = error.allowed.join(', ');
  return {
    body: {
      type: `${PROBLEM_TYPE_BASE}${error.code}`,
      title,
      status,
      detail: error.detail,
      correlationId,
      ...(error instanceof InvalidRequestError && error.issues.length > 0 ? { errors: error.issues } : {}),
    },
    headers,
  };
}
