/** `*` matches any run of characters (including none and '/'); everything else is literal. */
export function wildcardMatch(pattern: string, text: string): boolean {
  if (!pattern.includes('*')) return pattern === text;
  const parts = pattern.split('*');
  const first = parts[0]!;
  const last = parts.at(-1)!;
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  let at = first.length;
  const end = text.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = text.indexOf(middle, at);
    if (found < 0 || found + middle.length > end) return false;
    at = found + middle.length;
  }
  return true;
}

/**
 * Could some text match both patterns? (`*` as in wildcardMatch.) Used where one side is
 * itself a pattern — an IAM binding's ARN pattern against a policy's `iam:` selector.
 */
export function wildcardsOverlap(a: string, b: string): boolean {
  const seen = new Map<number, boolean>();
  const from = (i: number, j: number): boolean => {
    if (i === a.length && j === b.length) return true;
    const key = i * (b.length + 1) + j;
    const known = seen.get(key);
    if (known !== undefined) return known;
    let overlaps = false;
    // A star matches nothing, or swallows one more character of the other side.
    if (a[i] === '*') overlaps = from(i + 1, j) || (j < b.length && from(i, j + 1));
    if (!overlaps && b[j] === '*') overlaps = from(i, j + 1) || (i < a.length && from(i + 1, j));
    if (!overlaps && i < a.length && j < b.length && a[i] !== '*' && b[j] !== '*') overlaps = a[i] === b[j] && from(i + 1, j + 1);
    seen.set(key, overlaps);
    return overlaps;
  };
  return from(0, 0);
}
