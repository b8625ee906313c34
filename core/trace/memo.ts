// A bounded memo for the walk's per-context caches: two generations of at
// most `limit` entries each. New entries go into the young generation; when
// it is full it becomes the old one (the previous old generation is dropped).
// A hit in the old generation moves the entry back into the young one, so
// entries walks keep using survive and one-off entries (most keys name a
// source pod) age out. Memory stays under 2 × limit entries instead of
// growing with every walk.

export class GenerationalMemo<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(readonly limit: number) {
    if (!(limit > 0)) throw new Error(`GenerationalMemo limit must be positive (got ${limit})`);
  }

  get(key: string): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) {
      this.old.delete(key);
      this.set(key, o);
    }
    return o;
  }

  set(key: string, value: V): void {
    if (this.young.size >= this.limit && !this.young.has(key)) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  /** Entries held (both generations). */
  get size(): number {
    return this.young.size + this.old.size;
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}
