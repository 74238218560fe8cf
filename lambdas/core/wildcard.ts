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
 * Linear when either side is literal; otherwise one pass over a table of |a|·|b| bytes.
 */
export function wildcardsOverlap(a: string, b: string): boolean {
  if (!a.includes('*')) return wildcardMatch(b, a);
  if (!b.includes('*')) return wildcardMatch(a, b);
  // The literal starts and ends must agree as far as both have them.
  const start = Math.min(a.indexOf('*'), b.indexOf('*'));
  if (a.slice(0, start) !== b.slice(0, start)) return false;
  const end = Math.min(a.length - 1 - a.lastIndexOf('*'), b.length - 1 - b.lastIndexOf('*'));
  if (end > 0 && a.slice(-end) !== b.slice(-end)) return false;
  // overlaps[i][j]: some text matches both a[i:] and b[j:]; filled from the ends backwards.
  const width = b.length + 1;
  const overlaps = new Uint8Array((a.length + 1) * width);
  overlaps[a.length * width + b.length] = 1;
  for (let i = a.length; i >= 0; i--) {
    for (let j = b.length; j >= 0; j--) {
      if (i === a.length && j === b.length) continue;
      const here = i * width + j;
      let yes = 0;
      // A star matches nothing, or swallows one more character of the other side.
      if (a[i] === '*') yes = overlaps[here + width]! || (j < b.length ? overlaps[here + 1]! : 0);
      if (!yes && b[j] === '*') yes = overlaps[here + 1]! || (i < a.length ? overlaps[here + width]! : 0);
      if (!yes && i < a.length && j < b.length && a[i] !== '*' && b[j] !== '*' && a[i] === b[j]) yes = overlaps[here + width + 1]!;
      overlaps[here] = yes;
    }
  }
  return overlaps[0] === 1;
}
