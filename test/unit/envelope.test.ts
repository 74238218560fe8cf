import { createDecipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyVersionOf, open, seal, type SealContext } from '../../lambdas/core/envelope';
import { InternalError } from '../../lambdas/core/errors';

const key = randomBytes(32);
const ctx: SealContext = { tenantId: 'ten_aaaaaaaaaaaaaaaaaaaa', path: 'app/db/password', version: 3, keyVersion: 7 };
const plaintext = Buffer.from(JSON.stringify({ password: 'hunter2' }), 'utf8');
const HEADER = 1 + 4 + 12 + 16;

function expectIntegrityFailure(fn: () => unknown, message = 'ciphertext failed authentication') {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InternalError);
    expect((error as InternalError).detail).toBe(message);
    return;
  }
  throw new Error('expected the blob to be refused');
}

describe('seal / open (AES-256-GCM envelope)', () => {
  it('round-trips the plaintext', () => {
    const blob = seal(key, ctx, plaintext);
    expect(open(key, ctx, blob).toString('utf8')).toBe('{"password":"hunter2"}');
  });

  it('round-trips an empty plaintext and a 64 KiB one', () => {
    expect(open(key, ctx, seal(key, ctx, new Uint8Array(0)))).toHaveLength(0);
    const big = randomBytes(64 * 1024);
    expect(Buffer.compare(open(key, ctx, seal(key, ctx, big)), big)).toBe(0);
  });

  it('writes the v1 header: format 1, key version u32 big-endian, 12-byte IV, 16-byte tag, then ciphertext', () => {
    const blob = Buffer.from(seal(key, { ...ctx, keyVersion: 0x01020304 }, plaintext));
    expect(blob.length).toBe(HEADER + plaintext.length);
    expect(blob[0]).toBe(1);
    expect([...blob.subarray(1, 5)]).toEqual([1, 2, 3, 4]);
    expect(keyVersionOf(blob)).toBe(0x01020304);
    // The body really is AES-256-GCM with that IV and tag and the documented AAD.
    const d = createDecipheriv('aes-256-gcm', key, blob.subarray(5, 17));
    d.setAAD(Buffer.from(JSON.stringify(['coffer-secret-v1', ctx.tenantId, ctx.path, ctx.version, 0x01020304])));
    d.setAuthTag(blob.subarray(17, HEADER));
    expect(Buffer.concat([d.update(blob.subarray(HEADER)), d.final()]).equals(plaintext)).toBe(true);
  });

  it('never contains the plaintext in the clear', () => {
    const blob = Buffer.from(seal(key, ctx, plaintext));
    expect(blob.includes(Buffer.from('hunter2'))).toBe(false);
  });

  it('uses a fresh random IV: sealing the same input twice gives different blobs', () => {
    const ivs = new Set<string>();
    for (let i = 0; i < 50; i++) ivs.add(Buffer.from(seal(key, ctx, plaintext)).subarray(5, 17).toString('hex'));
    expect(ivs.size).toBe(50);
  });

  it('opens a blob that sits inside a larger buffer (byteOffset honoured)', () => {
    const blob = seal(key, ctx, plaintext);
    const backing = new Uint8Array(blob.length + 20);
    backing.set(blob, 10);
    const view = backing.subarray(10, 10 + blob.length);
    expect(open(key, ctx, view).equals(plaintext)).toBe(true);
    expect(keyVersionOf(view)).toBe(7);
  });

  it('refuses a data key that is not 256 bits', () => {
    expect(() => seal(randomBytes(16), ctx, plaintext)).toThrow(InternalError);
    expect(() => seal(randomBytes(31), ctx, plaintext)).toThrow('data key must be 256 bits');
  });
});

describe('open refuses anything that was not sealed for exactly this key and context', () => {
  const blob = seal(key, ctx, plaintext);

  it('fails when any single bit of the IV, tag or body is flipped', () => {
    // Bits of the format byte and key version are covered below: they fail before GCM.
    for (let byte = 5; byte < blob.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const tampered = Uint8Array.from(blob);
        tampered[byte]! ^= 1 << bit;
        expectIntegrityFailure(() => open(key, ctx, tampered));
      }
    }
  });

  it('fails when a bit of the header is flipped (format or key version)', () => {
    for (let byte = 0; byte < 5; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const tampered = Uint8Array.from(blob);
        tampered[byte]! ^= 1 << bit;
        expect(() => open(key, ctx, tampered)).toThrow(InternalError);
      }
    }
    const wrongFormat = Uint8Array.from(blob);
    wrongFormat[0] = 2;
    expectIntegrityFailure(() => open(key, ctx, wrongFormat), 'unknown ciphertext format');
    const wrongKeyVersion = Uint8Array.from(blob);
    wrongKeyVersion[4] = 8;
    expectIntegrityFailure(() => open(key, ctx, wrongKeyVersion), 'ciphertext key version mismatch');
  });

  it('fails for any random single-bit flip (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: blob.length * 8 - 1 }), (bitIndex) => {
        const tampered = Uint8Array.from(blob);
        tampered[bitIndex >> 3]! ^= 1 << (bitIndex & 7);
        expect(() => open(key, ctx, tampered)).toThrow(InternalError);
      }),
    );
  });

  it('fails when the blob is truncated or extended', () => {
    expectIntegrityFailure(() => open(key, ctx, blob.subarray(0, blob.length - 1)));
    expectIntegrityFailure(() => open(key, ctx, Buffer.concat([blob, Buffer.from([0])])));
    expectIntegrityFailure(() => open(key, ctx, blob.subarray(0, HEADER - 1)), 'unknown ciphertext format');
    expectIntegrityFailure(() => open(key, ctx, new Uint8Array(0)), 'unknown ciphertext format');
  });

  it.each<[string, Partial<SealContext>]>([
    ['another tenant', { tenantId: 'ten_bbbbbbbbbbbbbbbbbbbb' }],
    ['another path', { path: 'app/db/password2' }],
    ['a path differing only in case', { path: 'App/db/password' }],
    ['another version (replay as v2)', { version: 2 }],
    ['another version (replay as v4)', { version: 4 }],
  ])('fails under %s', (_name, change) => {
    expectIntegrityFailure(() => open(key, { ...ctx, ...change }, blob));
  });

  it('fails under another key version, even when the header is rewritten to match', () => {
    expectIntegrityFailure(() => open(key, { ...ctx, keyVersion: 8 }, blob), 'ciphertext key version mismatch');
    const relabelled = Buffer.from(blob);
    relabelled.writeUInt32BE(8, 1);
    expect(keyVersionOf(relabelled)).toBe(8);
    expectIntegrityFailure(() => open(key, { ...ctx, keyVersion: 8 }, relabelled));
  });

  it('fails with the wrong key', () => {
    expectIntegrityFailure(() => open(randomBytes(32), ctx, blob));
    const almost = Buffer.from(key);
    almost[31]! ^= 1;
    expectIntegrityFailure(() => open(almost, ctx, blob));
  });

  it('keeps tenant and path apart in the AAD (no ambiguity by concatenation)', () => {
    const a = seal(key, { ...ctx, tenantId: 'ten_a', path: 'b/c' }, plaintext);
    expectIntegrityFailure(() => open(key, { ...ctx, tenantId: 'ten_ab', path: '/c' }, a));
    expectIntegrityFailure(() => open(key, { ...ctx, tenantId: 'ten_a/b', path: 'c' }, a));
  });
});
