import { InvalidRequestError } from '../errors';
import { MAX_SEGMENTS } from '../secret-path';
import { wildcardMatch } from '../wildcard';

// Resource patterns of access-control entries. A pattern is secret-path segments where
// `*` stands for exactly one segment, `**` for any number of segments (zero included, so
// `app/**` also covers `app` itself), and a `*` inside a segment (`db-*`) for any run of
// characters within that one segment. Matching is case-sensitive, like secret paths.
const SEGMENT = /^[A-Za-z0-9._*-]{1,128}$/;

declare const brand: unique symbol;
export type PathPattern = string & { readonly [brand]: 'PathPattern' };

export function parsePathPattern(raw: string): PathPattern {
  const reason = whyInvalidPattern(raw);
  if (reason) throw new InvalidRequestError(`Invalid path pattern '${raw.slice(0, 64)}': ${reason}.`, [{ field: 'paths', message: reason }]);
  return raw as PathPattern;
}

export function whyInvalidPattern(raw: string): string | undefined {
  if (raw.length === 0) return 'the pattern is empty';
  if (raw.length > 1024) return 'the pattern is longer than 1024 characters';
  // A trailing slash reads as "everything below" in some tools and "this folder" in others:
  // refuse it and let the author say `app/**` or `app/*`.
  if (raw.endsWith('/')) return "a trailing '/' is ambiguous; write 'prefix/**' or 'prefix/*'";
  const segments = raw.split('/');
  if (segments.length > MAX_SEGMENTS + 1) return `more than ${MAX_SEGMENTS} segments`;
  for (const segment of segments) {
    if (segment === '') return 'empty segment (leading or double slash)';
    if (segment === '.' || segment === '..') return "'.' and '..' are not allowed as segments";
    if (!SEGMENT.test(segment)) return "segments may only contain A-Z a-z 0-9 . _ - and '*'";
    if (segment.includes('**') && segment !== '**') return "'**' must be a whole segment";
  }
  return undefined;
}

const segmentsOf = (text: string) => text.split('/');

// Within one segment, `*` never crosses a '/' (segments hold none).
const globSegment = wildcardMatch;

/** Does the pattern match this secret path (or list prefix, treated as a path)? */
export function matchesPath(pattern: string, path: string): boolean {
  return matchSegments(segmentsOf(pattern), 0, segmentsOf(path), 0, new Map());
}

// Each walk below is memoised on its two positions: patterns full of `**` would otherwise
// cost exponential time (a policy write could pin a Lambda for its whole timeout).
function matchSegments(p: readonly string[], i: number, s: readonly string[], j: number, seen: Map<number, boolean>): boolean {
  const key = i * 64 + j;
  const known = seen.get(key);
  if (known !== undefined) return known;
  const result = matchFrom(p, i, s, j, seen);
  seen.set(key, result);
  return result;
}

function matchFrom(p: readonly string[], i: number, s: readonly string[], j: number, seen: Map<number, boolean>): boolean {
  while (i < p.length) {
    const segment = p[i]!;
    if (segment === '**') {
      // Collapse runs of `**` and try every split point (paths have at most 16 segments).
      while (p[i + 1] === '**') i++;
      if (i === p.length - 1) return true;
      for (let k = j; k <= s.length; k++) if (matchSegments(p, i + 1, s, k, seen)) return true;
      return false;
    }
    if (j >= s.length || !globSegment(segment, s[j]!)) return false;
    i++;
    j++;
  }
  return j === s.length;
}

/**
 * Does `outer` match every path `inner` matches? Conservative: `false` when unsure. Used
 * to check that a grantor holds everything it grants.
 */
export function covers(outer: string, inner: string): boolean {
  return coverSegments(segmentsOf(outer), 0, segmentsOf(inner), 0, new Map());
}

function coverSegments(o: readonly string[], i: number, n: readonly string[], j: number, seen: Map<number, boolean>): boolean {
  const key = i * 64 + j;
  const known = seen.get(key);
  if (known !== undefined) return known;
  const result = coverFrom(o, i, n, j, seen);
  seen.set(key, result);
  return result;
}

function coverFrom(o: readonly string[], i: number, n: readonly string[], j: number, seen: Map<number, boolean>): boolean {
  if (i === o.length) return j === n.length;
  const outer = o[i]!;
  if (outer === '**') {
    if (i === o.length - 1) return true;
    for (let k = j; k <= n.length; k++) if (coverSegments(o, i + 1, n, k, seen)) return true;
    return false;
  }
  if (j >= n.length) return false;
  const inner = n[j]!;
  if (inner === '**') return false; // only `**` covers `**`
  // `*` covers any single segment; a literal or glob covers only what provably fits.
  const fits = outer === '*' || outer === inner || (!inner.includes('*') && globSegment(outer, inner));
  return fits && coverSegments(o, i + 1, n, j + 1, seen);
}

/** Could some path match both patterns? Conservative: `true` when unsure. */
export function mayOverlap(a: string, b: string): boolean {
  return overlapSegments(segmentsOf(a), 0, segmentsOf(b), 0, new Map());
}

function overlapSegments(a: readonly string[], i: number, b: readonly string[], j: number, seen: Map<number, boolean>): boolean {
  const key = i * 64 + j;
  const known = seen.get(key);
  if (known !== undefined) return known;
  const result = overlapFrom(a, i, b, j, seen);
  seen.set(key, result);
  return result;
}

function overlapFrom(a: readonly string[], i: number, b: readonly string[], j: number, seen: Map<number, boolean>): boolean {
  if (i === a.length && j === b.length) return true;
  if (a[i] === '**') return overlapSegments(a, i + 1, b, j, seen) || (j < b.length && overlapSegments(a, i, b, j + 1, seen));
  if (b[j] === '**') return overlapSegments(a, i, b, j + 1, seen) || (i < a.length && overlapSegments(a, i + 1, b, j, seen));
  if (i === a.length || j === b.length) return false;
  const x = a[i]!;
  const y = b[j]!;
  // A glob against a literal is decided exactly; two globs may always meet.
  const compatible = x.includes('*') ? (y.includes('*') ? true : globSegment(x, y)) : y.includes('*') ? globSegment(y, x) : x === y;
  return compatible && overlapSegments(a, i + 1, b, j + 1, seen);
}
