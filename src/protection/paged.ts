/**
 * Fixed-size pages for the throttle's columns (memory-counters.ts, key-index.ts): a column is an array of typed arrays
 * of PAGE_SLOTS slots each, slot `s` at `pages[s >> PAGE_SHIFT]`, from `(s & PAGE_MASK) * width`. Growth adds a page
 * and copies nothing: the columns used to double, allocating a whole new column at once (about 20 MB a column at
 * 500,000 destinations) and leaving the old one to the next mark-compact; their backing stores are external memory,
 * which V8 counts towards starting one (docs/performance-runs.md, the round "the throttle's columns without doubling").
 * 1,024 slots: a page of each column is 1 to 44 KB with the default budgets, and a table's first pages about 90 KB.
 */
export const PAGE_SHIFT = 10;
export const PAGE_SLOTS = 1 << PAGE_SHIFT;
export const PAGE_MASK = PAGE_SLOTS - 1;

type Column = Int32Array | Uint32Array | Uint16Array | Uint8Array;

/**
 * Gives `pages` (`width` elements per slot) room for `slots` slots: a page missing is added, and only a last page
 * smaller than PAGE_SLOTS (a table whose capacity, or whose first size in key-index tests, is below a page) is
 * replaced by a larger copy: at most one page is ever copied.
 */
export function growPages<T extends Column>(
  pages: T[],
  width: number,
  slots: number,
  make: (length: number) => T,
): void {
  for (let p = 0; p * PAGE_SLOTS < slots; p++) {
    const length = Math.min(PAGE_SLOTS, slots - p * PAGE_SLOTS) * width;
    const page = pages[p];
    if (page === undefined) pages.push(make(length));
    else if (page.length < length) {
      const larger = make(length);
      larger.set(page);
      pages[p] = larger;
    }
  }
}
