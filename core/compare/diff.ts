// Sequence and multiset differences used by the checks: Myers' O((N+M)·D)
// shortest edit script for ordered lists (fast when the lists mostly agree,
// as a model and a healthy node do), and a counting diff for unordered ones.

export type Edit<A, B = A> = { op: 'equal'; a: A; b: B } | { op: 'delete'; a: A } | { op: 'insert'; b: B };

/**
 * Shortest edit script turning `a` into `b` (deletions are in `a` only,
 * insertions in `b` only), comparing with `key`. Beyond `maxD` edits it gives
 * up on minimality and reports the unmatched middle as deletions + insertions.
 */
export function myersDiff<A, B = A>(a: readonly A[], b: readonly B[], key: (x: A | B) => string, maxD = 2000): Edit<A, B>[] {
  const ka = a.map(key);
  const kb = b.map(key);
  // strip the common prefix and suffix first (the usual case is near-equal lists)
  let start = 0;
  while (start < ka.length && start < kb.length && ka[start] === kb[start]) start++;
  let endA = ka.length;
  let endB = kb.length;
  while (endA > start && endB > start && ka[endA - 1] === kb[endB - 1]) {
    endA--;
    endB--;
  }
  const head: Edit<A, B>[] = [];
  for (let i = 0; i < start; i++) head.push({ op: 'equal', a: a[i], b: b[i] });
  const tail: Edit<A, B>[] = [];
  for (let i = 0; i < ka.length - endA; i++) tail.push({ op: 'equal', a: a[endA + i], b: b[endB + i] });
  const mid = middle(a, b, ka, kb, start, endA, start, endB, maxD);
  return [...head, ...mid, ...tail];
}

function middle<A, B>(a: readonly A[], b: readonly B[], ka: string[], kb: string[], a0: number, a1: number, b0: number, b1: number, maxD: number): Edit<A, B>[] {
  const n = a1 - a0;
  const m = b1 - b0;
  if (n === 0) return b.slice(b0, b1).map((x) => ({ op: 'insert', b: x }) as Edit<A, B>);
  if (m === 0) return a.slice(a0, a1).map((x) => ({ op: 'delete', a: x }) as Edit<A, B>);
  const max = Math.min(n + m, maxD);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && v[off + k - 1] < v[off + k + 1])) x = v[off + k + 1];
      else x = v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && ka[a0 + x] === kb[b0 + y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    if (found >= 0) break;
  }
  if (found < 0) {
    // too different for a minimal script: everything in the middle differs
    return [...a.slice(a0, a1).map((x) => ({ op: 'delete', a: x }) as Edit<A, B>), ...b.slice(b0, b1).map((x) => ({ op: 'insert', b: x }) as Edit<A, B>)];
  }
  // backtrack
  const out: Edit<A, B>[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const vd = trace[d];
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && vd[off + k - 1] < vd[off + k + 1])) prevK = k + 1;
    else prevK = k - 1;
    const prevX = vd[off + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      out.push({ op: 'equal', a: a[a0 + x - 1], b: b[b0 + y - 1] });
      x--;
      y--;
    }
    if (x === prevX) out.push({ op: 'insert', b: b[b0 + y - 1] });
    else out.push({ op: 'delete', a: a[a0 + x - 1] });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    out.push({ op: 'equal', a: a[a0 + x - 1], b: b[b0 + y - 1] });
    x--;
    y--;
  }
  return out.reverse();
}

export interface MultisetDiff<T> {
  /** In `a` (the model) more often than in `b`. */
  missing: T[];
  /** In `b` (the node) more often than in `a`. */
  extra: T[];
  equal: number;
}

/** Counting diff: order ignored, duplicates counted. */
export function multisetDiff<T>(a: readonly T[], b: readonly T[], key: (x: T) => string): MultisetDiff<T> {
  const counts = new Map<string, T[]>();
  for (const x of a) {
    const k = key(x);
    const l = counts.get(k);
    if (l) l.push(x);
    else counts.set(k, [x]);
  }
  const extra: T[] = [];
  let equal = 0;
  for (const y of b) {
    const l = counts.get(key(y));
    if (l && l.length) {
      l.pop();
      equal++;
    } else extra.push(y);
  }
  const missing: T[] = [];
  for (const l of counts.values()) missing.push(...l);
  return { missing, extra, equal };
}
