import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DataKeyCache } from '../../lambdas/core/data-key-cache';
import { ManualClock, TENANT_A, TENANT_B } from './support/fakes';

const TTL = 60_000;
const isZero = (b: Uint8Array) => b.every((x) => x === 0);

describe('DataKeyCache', () => {
  it('misses when empty', () => {
    expect(new DataKeyCache(new ManualClock(), TTL).get(TENANT_A, 1)).toBeUndefined();
  });

  it('returns the key it was given, keyed by tenant and key version', () => {
    const cache = new DataKeyCache(new ManualClock(), TTL);
    const a1 = randomBytes(32);
    const b1 = randomBytes(32);
    const a2 = randomBytes(32);
    cache.put(TENANT_A, 1, a1);
    cache.put(TENANT_B, 1, b1);
    cache.put(TENANT_A, 2, a2);
    expect(cache.get(TENANT_A, 1)?.equals(a1)).toBe(true);
    expect(cache.get(TENANT_B, 1)?.equals(b1)).toBe(true);
    expect(cache.get(TENANT_A, 2)?.equals(a2)).toBe(true);
    expect(cache.get(TENANT_B, 2)).toBeUndefined();
  });

  it('stores a copy: the caller zeroing its own buffer does not wipe the cached key', () => {
    const cache = new DataKeyCache(new ManualClock(), TTL);
    const key = randomBytes(32);
    const expected = Buffer.from(key);
    cache.put(TENANT_A, 1, key);
    key.fill(0);
    expect(cache.get(TENANT_A, 1)?.equals(expected)).toBe(true);
  });

  it('serves the key until just before the TTL and not at the TTL', () => {
    const clock = new ManualClock();
    const cache = new DataKeyCache(clock, TTL);
    cache.put(TENANT_A, 1, randomBytes(32));
    clock.advance(TTL - 1);
    expect(cache.get(TENANT_A, 1)).toBeDefined();
    clock.advance(1);
    expect(cache.get(TENANT_A, 1)).toBeUndefined();
  });

  it('zeroes a key when it expires', () => {
    const clock = new ManualClock();
    const cache = new DataKeyCache(clock, TTL);
    cache.put(TENANT_A, 1, randomBytes(32));
    const held = cache.get(TENANT_A, 1)!;
    expect(isZero(held)).toBe(false);
    clock.advance(TTL);
    expect(cache.get(TENANT_A, 1)).toBeUndefined();
    expect(isZero(held)).toBe(true);
  });

  it('restarts the TTL when a key is put again', () => {
    const clock = new ManualClock();
    const cache = new DataKeyCache(clock, TTL);
    cache.put(TENANT_A, 1, randomBytes(32));
    clock.advance(TTL - 10);
    const fresh = randomBytes(32);
    cache.put(TENANT_A, 1, fresh);
    clock.advance(TTL - 1);
    expect(cache.get(TENANT_A, 1)?.equals(fresh)).toBe(true);
  });

  it('is bounded: beyond maxEntries the oldest entry goes (and is zeroed)', () => {
    const cache = new DataKeyCache(new ManualClock(), TTL, 2);
    cache.put(TENANT_A, 1, randomBytes(32));
    const oldest = cache.get(TENANT_A, 1)!;
    cache.put(TENANT_A, 2, randomBytes(32));
    cache.put(TENANT_A, 3, randomBytes(32));
    expect(cache.get(TENANT_A, 1)).toBeUndefined();
    expect(isZero(oldest)).toBe(true);
    expect(cache.get(TENANT_A, 2)).toBeDefined();
    expect(cache.get(TENANT_A, 3)).toBeDefined();
  });

  it('clear() forgets and zeroes every key', () => {
    const cache = new DataKeyCache(new ManualClock(), TTL);
    cache.put(TENANT_A, 1, randomBytes(32));
    cache.put(TENANT_B, 1, randomBytes(32));
    const held = [cache.get(TENANT_A, 1)!, cache.get(TENANT_B, 1)!];
    cache.clear();
    expect(cache.get(TENANT_A, 1)).toBeUndefined();
    expect(cache.get(TENANT_B, 1)).toBeUndefined();
    expect(held.every(isZero)).toBe(true);
  });

  it('defaults to a five-minute TTL', () => {
    const clock = new ManualClock();
    const cache = new DataKeyCache(clock);
    cache.put(TENANT_A, 1, randomBytes(32));
    clock.advance(5 * 60_000 - 1);
    expect(cache.get(TENANT_A, 1)).toBeDefined();
    clock.advance(1);
    expect(cache.get(TENANT_A, 1)).toBeUndefined();
  });
});
