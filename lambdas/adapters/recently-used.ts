/**
 * `map[key]`, made the most recently used entry (a Map keeps insertion order), or `make()`'s
 * value added as such; past `max` entries the least recently used go. For per-container
 * caches whose evicted entries need no clean-up.
 */
export function recentlyUsed<K, V>(map: Map<K, V>, key: K, make: () => V, max: number): V {
  const value = map.has(key) ? map.get(key)! : make();
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= max) break;
    map.delete(oldest);
  }
  return value;
}
