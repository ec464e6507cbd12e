/**
 * Deletes `key` from `map`, or, when `key` is its only entry, leaves `map` as it is and gives a new empty Map to use
 * in its place: the caller keeps the result (`this.#m = withoutKey(this.#m, key)`). For a long-lived Map whose entries
 * come and go with each request or connection (sends under way, places held, connections counted), emptied again and
 * again between them. A Set is the same kind of table and takes the same treatment (a new empty Set).
 *
 * Why: a Map that lives long is in V8's old generation, and so is its hash table; V8 makes a Map's next table (the
 * rehash an insert needs once deleted entries fill the table, the shrink a delete triggers) in the generation of the
 * one it replaces (OrderedHashTable::Rehash), so such a Map allocates a table straight into the old generation every
 * few requests, garbage only a mark-compact frees; and the replaced tables, old garbage, still point at the entries
 * and keys they held, so the scavenger keeps those alive and promotes them too. A new Map's table is young and dies
 * young. Measured (docs/performance-runs.md, the round "what a request moves into the old generation"): the CIBIL
 * send's marks of sends under way (registered-mobiles.ts) moved about 190 B per request into the old generation at 500
 * requests/s, 157 B per send in a loop; 3-4 B and 3 B with this.
 */
export function withoutKey<K, V>(map: Map<K, V>, key: K): Map<K, V>;
export function withoutKey<K>(set: Set<K>, key: K): Set<K>;
export function withoutKey<K, V>(table: Map<K, V> | Set<K>, key: K): Map<K, V> | Set<K> {
  if (table.size === 1 && table.has(key)) return table instanceof Map ? new Map<K, V>() : new Set<K>();
  table.delete(key);
  return table;
}
