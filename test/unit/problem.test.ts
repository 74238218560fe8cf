import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  ContendedError,
  DeadlineExceededError,
  DependencyUnavailableError,
  ForbiddenError,
  IdempotencyKeyInUseError,
  IdempotencyKeyReusedError,
  InternalError,
  InvalidRequestError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  UnauthenticatedError,
  UnsupportedMediaTypeError,
  VersionConflictError,
  WriteConflictError,
  type CofferError,
  type ErrorCode,
} from '../../lambdas/core/errors';
import { PROBLEM_TYPE_BASE, problems, toProblem } from '../../lambdas/http/problem';

// One instance of every leaf of the error tree, with the code, status and title API.md promises.
const CASES: readonly [CofferError, ErrorCode, number, string][] = [
  [new InvalidRequestError('bad input'), 'invalid-request', 400, 'Invalid request'],
  [new UnauthenticatedError(), 'unauthenticated', 401, 'Unauthorized'],
  [new ForbiddenError('no'), 'forbidden', 403, 'Forbidden'],
  [new NotFoundError('none'), 'not-found', 404, 'Not found'],
  [new MethodNotAllowedError('nope'), 'method-not-allowed', 405, 'Method not allowed'],
  [new ConflictError('exists'), 'conflict', 409, 'Conflict'],
  [new WriteConflictError('raced'), 'conflict', 409, 'Conflict'],
  [new ContendedError('busy'), 'contended', 409, 'Conflict'],
  [new IdempotencyKeyInUseError('running'), 'idempotency-key-in-use', 409, 'Conflict'],
  [new VersionConflictError(1, 2), 'version-conflict', 412, 'Version conflict'],
  [new PayloadTooLargeError('big'), 'payload-too-large', 413, 'Payload too large'],
  [new UnsupportedMediaTypeError('xml'), 'unsupported-media-type', 415, 'Unsupported media type'],
  [new IdempotencyKeyReusedError('other body'), 'idempotency-key-reused', 422, 'Unprocessable content'],
  [new RateLimitedError('slow down', 7), 'rate-limited', 429, 'Too many requests'],
  [new DependencyUnavailableError('kms'), 'dependency-unavailable', 503, 'Service unavailable'],
  [new DeadlineExceededError(), 'deadline-exceeded', 503, 'Service unavailable'],
  [new InternalError('broken invariant'), 'internal', 500, 'Internal error'],
];

const ALL_CODES: readonly ErrorCode[] = [
  'invalid-request',
  'unauthenticated',
  'forbidden',
  'not-found',
  'conflict',
  'contended',
  'idempotency-key-in-use',
  'idempotency-key-reused',
  'version-conflict',
  'payload-too-large',
  'unsupported-media-type',
  'method-not-allowed',
  'rate-limited',
  'dependency-unavailable',
  'deadline-exceeded',
  'internal',
];

describe('the problems table', () => {
  it('has one row per error code, and no other', () => {
    expect(Object.keys(problems).sort()).toEqual([...ALL_CODES].sort());
  });

  it('shares a status only between codes a client tells apart by their problem type', () => {
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of ALL_CODES) byStatus.set(problems[code].status, [...(byStatus.get(problems[code].status) ?? []), code]);
    const shared = [...byStatus.values()].filter((codes) => codes.length > 1);
    expect(shared).toEqual([
      ['conflict', 'contended', 'idempotency-key-in-use'],
      ['dependency-unavailable', 'deadline-exceeded'],
    ]);
  });

  it('every leaf error of the core is covered by a case here', () => {
    expect(new Set(CASES.map(([, code]) => code))).toEqual(new Set(ALL_CODES));
  });
});

describe('toProblem', () => {
  it.each(CASES.map(([error, ...rest]) => [error.name, error, ...rest] as const))('maps %s to its code, status and title', (_name, error, code, status, title) => {
    expect(error.code).toBe(code);
    expect(problems[code]).toEqual({ status, title });
    const { body } = toProblem(error, 'corr-1');
    expect(body.status).toBe(status);
    expect(body.title).toBe(title);
    expect(body.type).toBe(`${PROBLEM_TYPE_BASE}${code}`);
    expect(body.correlationId).toBe('corr-1');
  });

  it('carries the safe detail of a 4xx', () => {
    const { body } = toProblem(new NotFoundError("No secret at 'app/db'."), 'c');
    expect(body).toEqual({
      type: 'https://coffer.dev/problems/not-found',
      title: 'Not found',
      status: 404,
      detail: "No secret at 'app/db'.",
      correlationId: 'c',
    });
  });

  it('reports the versions of a 412', () => {
    expect(toProblem(new VersionConflictError(3, 5), 'c').body.detail).toBe('The secret is at version 5, not 3.');
  });

  it('lists field issues of an invalid request, and only then', () => {
    const issues = [{ field: 'path', message: 'empty segment' }];
    expect(toProblem(new InvalidRequestError('Invalid secret path.', issues), 'c').body.errors).toEqual(issues);
    expect(toProblem(new InvalidRequestError('Invalid.'), 'c').body).not.toHaveProperty('errors');
  });

  it('sets Retry-After from a rate limit, and 1 s on every failure a retry soon may not meet', () => {
    expect(toProblem(new RateLimitedError('quota', 42), 'c').headers).toEqual({ 'Retry-After': '42' });
    for (const soon of [new DependencyUnavailableError('dynamodb'), new DeadlineExceededError(), new ContendedError('busy'), new IdempotencyKeyInUseError('running')]) {
      expect(toProblem(soon, 'c').headers, soon.code).toEqual({ 'Retry-After': '1' });
    }
    expect(toProblem(new NotFoundError('x'), 'c').headers).toEqual({});
    expect(toProblem(new ConflictError('exists'), 'c').headers).toEqual({});
  });

  it('never shows the detail of an InternalError', () => {
    const { body } = toProblem(new InternalError('data key 3 of tenant ten_x is missing'), 'corr-9');
    expect(body).toEqual({
      type: 'https://coffer.dev/problems/internal',
      title: 'Internal error',
      status: 500,
      detail: 'An unexpected error occurred. Quote the correlation id when reporting it.',
      correlationId: 'corr-9',
    });
  });

  it.each([
    ['an Error', new Error('SELECT * FROM secrets; password=hunter2')],
    ['a TypeError', new TypeError('x is undefined')],
    ['a string', 'a string'],
    ['undefined', undefined],
    ['a look-alike object', { code: 'not-found', detail: 'hunter2' }],
  ])(
    'turns an unknown throwable (%s) into a generic 500 without internals',
    (_name, thrown) => {
      const { body, headers } = toProblem(thrown, 'corr-x');
      expect(body.status).toBe(500);
      expect(body.type).toBe('https://coffer.dev/problems/internal');
      expect(JSON.stringify(body)).not.toContain('hunter2');
      expect(JSON.stringify(body)).not.toContain('undefined');
      expect(headers).toEqual({});
    },
  );

  it('keeps the cause of a dependency failure out of the body', () => {
    const error = new DependencyUnavailableError('kms', { cause: new Error('AccessDeniedException arn:aws:kms:secret') });
    expect(JSON.stringify(toProblem(error, 'c').body)).not.toContain('arn:aws');
    expect(toProblem(error, 'c').body.detail).toBe('A storage or key service (kms) is unavailable; nothing was changed. Retry later.');
  });
});
