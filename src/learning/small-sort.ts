/**
 * Sorts for the few values of one round's entry or reporter, with the built-in sorts' exact results (so
 * replacing one by the other changes no decision: the simulator's reports stay byte-identical): insertion
 * sort up to 32 values, which allocates nothing and calls no comparator, the built-in sort beyond that.
 */

/**
 * Sorts a[0 … n) ascending in place, as the built-in sort does: insertion sort for the few reporters of one
 * entry (no subarray per entry), the built-in beyond that or with a NaN (whose place only it defines).
 */
export function sortPrefix(a: Float64Array, n: number): void {
  let nan = false;
  for (let i = 0; i < n && !nan; i++) nan = Number.isNaN(a[i]);
  if (n > 32 || nan) {
    a.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const x = a[i];
    let j = i - 1;
    // TypedArray#sort puts −0 before +0.
    while (j >= 0 && (a[j] > x || (a[j] === 0 && x === 0 && 1 / a[j] > 1 / x))) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}

/**
 * Sorts cells by key[cell], stably (equal keys keep their order, as the built-in sort does): insertion sort for
 * one reporter's few reports, the built-in sort with a comparator beyond that or with a NaN key.
 */
export function sortByKey(cells: number[], key: Float64Array): void {
  const n = cells.length;
  let nan = false;
  for (let i = 0; i < n && !nan; i++) nan = Number.isNaN(key[cells[i]]);
  if (n > 32 || nan) {
    cells.sort((a, b) => key[a] - key[b]);
    return;
  }
  for (let i = 1; i < n; i++) {
    const c = cells[i];
    const x = key[c];
    let j = i - 1;
    while (j >= 0 && key[cells[j]] > x) {
      cells[j + 1] = cells[j];
      j--;
    }
    cells[j + 1] = c;
  }
}
