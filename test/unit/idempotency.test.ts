import { describe, expect, it } from 'vitest';
import { IdempotencyKeyInUseError, IdempotencyKeyReusedError, InternalError, InvalidRequestError } from '../../lambdas/core/errors';
import { committedWithoutAnswer, fingerprintOf, idempotencyRef, onExisting, openAnswer, parseIdempotencyKey, sealAnswer, type IdempotencyRecord } from '../../lambdas/core/idempotency';
import type { Principal } from '../../lambdas/core/principal';

const alice: Principal = { kind: 'tenant', tenantId: 'ten_a', type: 'client', id: 'cl_alice', roles: ['owner'] };
const bob: Principal = { kind: 'tenant', tenantId: 'ten_a', type: 'client', id: 'cl_bob', roles: ['owner'] };
const elsewhere: Principal = { kind: 'tenant', tenantId: 'ten_b', type: 'client', id: 'cl_alice', roles: ['owner'] };
const KEY = '0f8fad5b-d9cb-469f-a165-70867728950e';
const shape = { method: 'PUT', path: '/v1/secrets/a/b', query: { x: '1', y: '2' }, body: '{"data":{"v":1}}' };
const NOW = 1_800_000_000_000;
const record = (over: Partial<IdempotencyRecord>): IdempotencyRecord => ({ fingerprint: fingerprintOf(shape), state: 'answered', owner: 'o', lockedUntil: NOW - 1, correlationId: 'c', ...over });

describe('Idempotency-Key rules', () => {
  it('takes 16–255 visible ASCII characters, nothing else', () => {
    expect(parseIdempotencyKey(KEY)).toBe(KEY);
    expect(parseIdempotencyKey('!'.repeat(16))).toBe('!'.repeat(16));
    for (const bad of ['', 'x'.repeat(15), 'x'.repeat(256), `${'x'.repeat(16)} `, `${'x'.repeat(16)}é`, `${'x'.repeat(16)}\n`]) {
      expect(() => parseIdempotencyKey(bad), JSON.stringify(bad)).toThrow(InvalidRequestError);
    }
  });

  it('names a key per principal: neither another caller nor another tenant shares it', () => {
    const ids = [alice, bob, elsewhere].map((p) => idempotencyRef(p, KEY).id);
    expect(new Set(ids).size).toBe(3);
    expect(idempotencyRef(alice, KEY).id).toBe(idempotencyRef(alice, KEY).id);
    expect(idempotencyRef(alice, KEY).id).not.toContain(KEY);
  });

  it('tells requests apart by method, path, query, If-Match and body bytes, not by query order', () => {
    const base = fingerprintOf(shape);
    expect(fingerprintOf({ ...shape, query: { y: '2', x: '1' } })).toBe(base);
    for (const other of [
      { ...shape, method: 'POST' },
      { ...shape, path: '/v1/secrets/a/c' },
      { ...shape, query: { x: '1' } },
      { ...shape, ifMatch: '3' },
      { ...shape, body: '{"data":{"v":2}}' },
      { ...shape, body: '{"data": {"v":1}}' },
    ]) {
      expect(fingerprintOf(other), JSON.stringify(other)).not.toBe(base);
    }
  });

  it('replays an answered key, refuses another request under it (422), and waits while the first runs (409)', () => {
    expect(onExisting(record({}), fingerprintOf(shape), NOW)).toBe('replay');
    expect(() => onExisting(record({ fingerprint: 'other' }), fingerprintOf(shape), NOW)).toThrow(IdempotencyKeyReusedError);
    expect(() => onExisting(record({ state: 'running', lockedUntil: NOW + 1 }), fingerprintOf(shape), NOW)).toThrow(IdempotencyKeyInUseError);
    // Committed, its answer still being stored: wait for it rather than replay half of it.
    expect(() => onExisting(record({ state: 'committed', lockedUntil: NOW + 1 }), fingerprintOf(shape), NOW)).toThrow(IdempotencyKeyInUseError);
    expect(onExisting(record({ state: 'committed' }), fingerprintOf(shape), NOW)).toBe('replay');
    expect(onExisting(record({ state: 'running' }), fingerprintOf(shape), NOW)).toBe('take-over');
  });

  it('seals a stored answer so that only the key opens it, for this record only', () => {
    const ref = idempotencyRef(alice, KEY);
    const answer = { status: 201, headers: { ETag: '"1"' }, body: { clientSecret: 'cs_very-secret' } };
    const sealed = sealAnswer(ref, answer);
    expect(sealed).not.toContain('very-secret');
    expect(Buffer.from(sealed, 'base64').toString('latin1')).not.toContain('very-secret');
    expect(openAnswer(ref, sealed)).toEqual(answer);
    expect(() => openAnswer(idempotencyRef(alice, `${KEY}x`), sealed)).toThrow(InternalError);
    expect(() => openAnswer({ ...ref, id: idempotencyRef(bob, KEY).id }, sealed)).toThrow(InternalError);
  });

  it('replays a change whose answer was lost with its status, and a 204 without a body', () => {
    expect(committedWithoutAnswer(record({ state: 'committed', status: 201 }))).toMatchObject({ status: 201, body: { applied: true, correlationId: 'c' } });
    expect(committedWithoutAnswer(record({ state: 'committed', status: 204 }))).toEqual({ status: 204, headers: {} });
  });
});
