import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../lambdas/core/errors';
import { MAX_PATH_LENGTH, MAX_SEGMENTS, parseSecretPath, parseSecretPrefix, whyInvalidPath } from '../../lambdas/core/secret-path';

// The contract (API.md): 1–16 segments of [A-Za-z0-9._-]{1,128} joined by '/'. An independent
// oracle for it, written from the contract rather than from the code; '.' and '..' are refused.
const CONTRACT = /^[A-Za-z0-9._-]{1,128}(\/[A-Za-z0-9._-]{1,128}){0,15}$/;
const oracleAccepts = (raw: string) => CONTRACT.test(raw) && !raw.split('/').some((s) => s === '.' || s === '..');

function rejection(raw: string): InvalidRequestError {
  try {
    parseSecretPath(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return error as InvalidRequestError;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
}

describe('parseSecretPath accepts the contract', () => {
  it.each([
    'a',
    'app/db/password',
    'A-Z_a-z.0-9',
    'prod/eu-west-1/db.primary/pass_word',
    '.hidden',
    'a..b',
    '...',
    'config.json',
    'x'.repeat(128),
  ])('accepts %j unchanged', (raw) => {
    expect(parseSecretPath(raw)).toBe(raw);
    expect(whyInvalidPath(raw)).toBeUndefined();
  });

  it(`accepts exactly ${MAX_SEGMENTS} segments`, () => {
    expect(MAX_SEGMENTS).toBe(16);
    const sixteen = Array.from({ length: 16 }, (_, i) => `s${i}`).join('/');
    expect(parseSecretPath(sixteen)).toBe(sixteen);
  });

  it('accepts paths up to 1,024 characters (a DynamoDB sort key) and refuses one more', () => {
    const longest = Array.from({ length: 8 }, () => 'z'.repeat(128)).join('/').slice(0, MAX_PATH_LENGTH);
    expect(longest).toHaveLength(1024);
    expect(parseSecretPath(longest)).toBe(longest);
    const sixteenFull = Array.from({ length: 16 }, () => 'z'.repeat(128)).join('/');
    expect(whyInvalidPath(sixteenFull)).toBe('the path is longer than 1024 characters');
    expect(whyInvalidPath(`${longest.slice(0, 1023)}/a`)).toBe('the path is longer than 1024 characters');
  });

  it('is case-sensitive: App/DB and app/db are two distinct paths, neither folded', () => {
    expect(parseSecretPath('App/DB')).toBe('App/DB');
    expect(parseSecretPath('app/db')).toBe('app/db');
    expect(parseSecretPath('App/DB')).not.toBe(parseSecretPath('app/db'));
  });
});

describe('parseSecretPath refuses everything else with InvalidRequestError', () => {
  it.each([
    ['', 'the path is empty'],
    ['/a', 'empty segment (leading, trailing or double slash)'],
    ['a/', 'empty segment (leading, trailing or double slash)'],
    ['a//b', 'empty segment (leading, trailing or double slash)'],
    ['/', 'empty segment (leading, trailing or double slash)'],
    ['.', "'.' and '..' are not allowed as segments"],
    ['..', "'.' and '..' are not allowed as segments"],
    ['a/../b', "'.' and '..' are not allowed as segments"],
    ['a/./b', "'.' and '..' are not allowed as segments"],
    ['../etc/passwd', "'.' and '..' are not allowed as segments"],
    ['a/..', "'.' and '..' are not allowed as segments"],
    ['x'.repeat(129), 'a segment is longer than 128 characters'],
    [`ok/${'y'.repeat(129)}`, 'a segment is longer than 128 characters'],
    ['a b', 'segments may only contain A-Z a-z 0-9 . _ -'],
    ['a\\b', 'segments may only contain A-Z a-z 0-9 . _ -'],
    ['a%2Fb', 'segments may only contain A-Z a-z 0-9 . _ -'],
    ['a:b', 'segments may only contain A-Z a-z 0-9 . _ -'],
    ['a#b', 'segments may only contain A-Z a-z 0-9 . _ -'],
    ['a?b', 'segments may only contain A-Z a-z 0-9 . _ -'],
    ['a*', 'segments may only contain A-Z a-z 0-9 . _ -'],
  ])('refuses %j: %s', (raw, reason) => {
    const error = rejection(raw);
    expect(error.code).toBe('invalid-request');
    expect(error.detail).toBe(`Invalid secret path: ${reason}.`);
    expect(error.issues).toEqual([{ field: 'path', message: reason }]);
    expect(whyInvalidPath(raw)).toBe(reason);
  });

  it(`refuses ${MAX_SEGMENTS + 1} segments`, () => {
    const seventeen = Array.from({ length: 17 }, (_, i) => `s${i}`).join('/');
    expect(rejection(seventeen).issues).toEqual([{ field: 'path', message: 'more than 16 segments' }]);
  });

  it('counts empty segments towards the limit too (17 slashes is refused, not 16 ok + empty)', () => {
    expect(whyInvalidPath('/'.repeat(16))).toBe('more than 16 segments');
  });

  // Lookalikes and invisible characters: each must be refused, never normalised into a
  // different accepted path (that would let two spellings name one secret, or hide one).
  it.each([
    ['NFC e-acute', 'caf\u00e9'],
    ['NFD e + combining acute', 'cafe\u0301'],
    ['zero-width space', 'app\u200b/db'],
    ['zero-width joiner', 'a\u200db'],
    ['byte-order mark', '\ufeffapp'],
    ['soft hyphen', 'pass\u00adword'],
    ['right-to-left override', 'app/\u202egpj.exe'],
    ['fullwidth solidus', 'app\uff0fdb'],
    ['division slash', 'app\u2215db'],
    ['fraction slash', 'app\u2044db'],
    ['fullwidth full stop pair', '\uff0e\uff0e'],
    ['one-dot leader', 'a/\u2024/b'],
    ['Cyrillic a lookalike', '\u0430pp'],
    ['Kelvin sign lookalike of K', '\u212a'],
    ['fullwidth letters', '\uff41\uff50\uff50'],
    ['NUL', 'a\u0000b'],
    ['newline', 'a\nb'],
    ['trailing newline', 'a\n'],
    ['carriage return', 'a\r'],
    ['tab', 'a\tb'],
    ['DEL', 'a\u007f'],
    ['C1 control', 'a\u0085b'],
    ['non-breaking space', 'a\u00a0b'],
    ['lone surrogate', 'a\ud800'],
    ['emoji', 'key\u{1f511}'],
  ])('refuses a path containing a %s', (_name, raw) => {
    expect(rejection(raw).issues[0]?.field).toBe('path');
    expect(whyInvalidPath(raw)).toBeDefined();
  });

  it('refuses a value that NFKC would turn into a valid path (no normalisation happens)', () => {
    const raw = '\uff41\uff50\uff50\uff0f\uff44\uff42'; // "app／db" in fullwidth
    expect(raw.normalize('NFKC')).toBe('app/db');
    expect(() => parseSecretPath(raw)).toThrow(InvalidRequestError);
  });
});

describe('parseSecretPrefix', () => {
  it.each(['', 'app', 'app/', 'app/db-', 'a.b_c-d/e', 'x'.repeat(1024)])('accepts %j unchanged', (raw) => {
    expect(parseSecretPrefix(raw)).toBe(raw);
  });

  it.each(['/app', 'app//db', '//', 'a b', 'caf\u00e9', 'app\uff0f', 'a\u200b', 'a\n', 'a%2F', 'x'.repeat(2201)])(
    'refuses %j with an issue on the prefix field',
    (raw) => {
      try {
        parseSecretPrefix(raw);
        expect.unreachable(`expected ${JSON.stringify(raw)} to be refused`);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidRequestError);
        expect((error as InvalidRequestError).issues).toEqual([{ field: 'prefix', message: 'invalid characters or slashes' }]);
      }
    },
  );

  it('accepts every valid path as a prefix', () => {
    fc.assert(
      fc.property(validPath, (path) => {
        expect(parseSecretPrefix(path)).toBe(path);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const segmentChar = fc.constantFrom(...'ABCXYZabcxyz0189._-'.split(''));
const validSegment = fc
  .string({ unit: segmentChar, minLength: 1, maxLength: 128 })
  .filter((s) => s !== '.' && s !== '..');
const validPath = fc.array(validSegment, { minLength: 1, maxLength: 16 }).map((segments) => segments.join('/'));

const nastyChar = fc.constantFrom('/', '.', '..', '\u200b', '\u202e', '\uff0f', '\u0301', '\u00e9', '\u0000', '\n', ' ', '\\', '%', '\ud800');
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: fc.oneof(segmentChar, nastyChar), maxLength: 200 }),
  fc.array(fc.oneof(validSegment, fc.constant(''), fc.constant('.'), fc.constant('..')), { minLength: 0, maxLength: 20 }).map((s) => s.join('/')),
);

describe('parseSecretPath properties', () => {
  it('never throws anything but InvalidRequestError, and agrees with the contract oracle', () => {
    fc.assert(
      fc.property(anyString, (raw) => {
        let accepted: string | undefined;
        try {
          accepted = parseSecretPath(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidRequestError);
          expect((error as InvalidRequestError).issues[0]?.field).toBe('path');
        }
        expect(accepted !== undefined).toBe(oracleAccepts(raw));
        expect(whyInvalidPath(raw) === undefined).toBe(oracleAccepts(raw));
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every path the contract allows, and an accepted path round-trips unchanged', () => {
    fc.assert(
      fc.property(validPath, (raw) => {
        const parsed = parseSecretPath(raw);
        expect(parsed).toBe(raw);
        expect(parseSecretPath(parsed.split('/').join('/'))).toBe(parsed);
        expect(parsed.split('/').length).toBeLessThanOrEqual(16);
      }),
      { numRuns: 1000 },
    );
  });

  it('never accepts a path that another Unicode normal form would change', () => {
    fc.assert(
      fc.property(anyString, (raw) => {
        if (whyInvalidPath(raw) === undefined) {
          expect(raw.normalize('NFC')).toBe(raw);
          expect(raw.normalize('NFKC')).toBe(raw);
          expect(raw.normalize('NFD')).toBe(raw);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
