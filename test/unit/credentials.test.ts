import { scryptSync } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';

// Count scrypt runs: the "constant work" promise is that every verification burns one.
const scryptCalls = vi.hoisted(() => ({ params: [] as { N?: number; r?: number; p?: number }[] }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  const scrypt = ((...args: Parameters<typeof actual.scrypt>) => {
    scryptCalls.params.push(args[3] as { N?: number; r?: number; p?: number });
    return (actual.scrypt as (...a: unknown[]) => void)(...args);
  }) as typeof actual.scrypt;
  return { ...actual, default: { ...actual, scrypt }, scrypt };
});

const { hashSecret, newClientSecret, verifySecret } = await import('../../lambdas/core/credentials');

const b64 = (b: Buffer) => b.toString('base64url');

beforeEach(() => {
  scryptCalls.params.length = 0;
});

describe('newClientSecret', () => {
  it('is cs_ followed by 256 random bits in base64url', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => newClientSecret()));
    expect(secrets.size).toBe(50);
    for (const s of secrets) expect(s).toMatch(/^cs_[A-Za-z0-9_-]{43}$/);
  });
});

describe('hashSecret', () => {
  it('is scrypt$N$r$p$salt$hash with N=2^14, r=8, p=1, a 16-byte salt and a 32-byte hash', async () => {
    const hash = await hashSecret('s3cret');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    const [, , , , salt, digest] = hash.split('$');
    const expected = scryptSync('s3cret', Buffer.from(salt!, 'base64url'), 32, { N: 16384, r: 8, p: 1 });
    expect(digest).toBe(b64(expected));
  });

  it('salts: the same secret hashes differently each time', async () => {
    const [a, b] = await Promise.all([hashSecret('same'), hashSecret('same')]);
    expect(a).not.toBe(b);
  });

  it('never contains the secret', async () => {
    const secret = newClientSecret();
    expect(await hashSecret(secret)).not.toContain(secret.slice(3));
  });
});

describe('verifySecret', () => {
  it('is true for the right secret', async () => {
    const secret = newClientSecret();
    expect(await verifySecret(secret, await hashSecret(secret))).toBe(true);
  });

  it.each([
    ['a different secret', 'cs_other'],
    ['a case change', 'S3CRET'],
    ['a prefix', 's3cre'],
    ['an extension', 's3cret '],
    ['the empty string', ''],
  ])('is false for %s', async (_name, attempt) => {
    const stored = await hashSecret('s3cret');
    expect(await verifySecret(attempt, stored)).toBe(false);
  });

  it('honours the parameters written in the stored hash (so they can be raised later)', async () => {
    const salt = Buffer.from('0123456789abcdef');
    const weak = `scrypt$1024$8$1$${b64(salt)}$${b64(scryptSync('old', salt, 32, { N: 1024, r: 8, p: 1 }))}`;
    expect(await verifySecret('old', weak)).toBe(true);
    expect(await verifySecret('new', weak)).toBe(false);
    expect(scryptCalls.params.map((p) => p.N)).toEqual([1024, 1024]);
  });

  it('is false when there is no stored hash, after running a full-cost dummy scrypt', async () => {
    expect(await verifySecret('anything', undefined)).toBe(false);
    expect(scryptCalls.params).toHaveLength(1);
    expect(scryptCalls.params[0]).toMatchObject({ N: 16384, r: 8, p: 1 });
  });

  it('does the same work for an unknown client as for a wrong secret', async () => {
    const stored = await hashSecret('s3cret');
    scryptCalls.params.length = 0;
    await verifySecret('wrong', stored);
    await verifySecret('wrong', undefined);
    expect(scryptCalls.params).toHaveLength(2);
    expect(scryptCalls.params[0]).toMatchObject({ N: 16384, r: 8, p: 1 });
    expect(scryptCalls.params[1]).toMatchObject({ N: 16384, r: 8, p: 1 });
  });

  it.each([
    ['empty', ''],
    ['plain text', 's3cret'],
    ['another scheme', 'bcrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA'],
    ['too few parts', 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA'],
    ['too many parts', 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA$extra'],
    ['an empty salt', 'scrypt$16384$8$1$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['an empty hash', 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$'],
  ])('rejects a malformed stored hash (%s) as false, without running scrypt', async (_name, stored) => {
    expect(await verifySecret('s3cret', stored)).toBe(false);
    expect(scryptCalls.params).toHaveLength(0);
  });

  it('is false when the stored digest has the wrong length (truncated)', async () => {
    const stored = await hashSecret('s3cret');
    expect(await verifySecret('s3cret', stored.slice(0, -4))).toBe(false);
  });

  it.each([
    ['a non-numeric N', 'scrypt$abc$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['an N that is not a power of two', 'scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['an N beyond the memory cap', 'scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
  ])('never verifies a stored hash with %s (it rejects)', async (_name, stored) => {
    await expect(verifySecret('s3cret', stored)).rejects.toThrow();
  });
});
