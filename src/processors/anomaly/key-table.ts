// Per-key state for one detector: a fixed number of float64 and uint32 cells
// per key, kept in two slabs (typed arrays) indexed by slot, with an LRU map
// key → slot capped at max_keys. At the cap the least recently used key's slot
// is reused (that key starts over if it comes back), so memory is flat however
// many distinct keys pass and however long Vigil runs. The slabs grow by
// doubling up to the cap, so a detector with few keys stays small.
import { LRUCache } from 'lru-cache';

const INITIAL_CAPACITY = 1024;

export class KeyTable {
  f64: Float64Array;
  u32: Uint32Array;
  /** The u32 slab seen as float32 cells (for compact profiles). */
  f32: Float32Array;
  private readonly lru: LRUCache<string, number>;
  private capacity: number;
  private used = 0;
  /** Keys evicted to make room, since start. */
  evictions = 0;

  constructor(
    readonly maxKeys: number,
    readonly f64Stride: number,
    readonly u32Stride: number,
  ) {
    this.lru = new LRUCache<string, number>({ max: maxKeys });
    this.capacity = Math.min(maxKeys, INITIAL_CAPACITY);
    this.f64 = new Float64Array(this.capacity * f64Stride);
    this.u32 = new Uint32Array(this.capacity * u32Stride);
    this.f32 = new Float32Array(this.u32.buffer);
  }

  get size(): number {
    return this.lru.size;
  }

  /** The key's slot (marking it most recently used), or -1 when it is not tracked. */
  find(key: string): number {
    return this.lru.get(key) ?? -1;
  }

  /** A fresh, zeroed slot for a key that is not tracked; evicts the least recently used key at the cap. */
  add(key: string): number {
    let slot: number;
    if (this.lru.size >= this.maxKeys) {
      slot = this.lru.pop()!;
      this.evictions++;
      this.f64.fill(0, slot * this.f64Stride, (slot + 1) * this.f64Stride);
      this.u32.fill(0, slot * this.u32Stride, (slot + 1) * this.u32Stride);
    } else {
      if (this.used >= this.capacity) this.grow();
      slot = this.used++;
    }
    this.lru.set(key, slot);
    return slot;
  }

  private grow(): void {
    this.capacity = Math.min(this.maxKeys, this.capacity * 2);
    const f = new Float64Array(this.capacity * this.f64Stride);
    f.set(this.f64);
    this.f64 = f;
    const u = new Uint32Array(this.capacity * this.u32Stride);
    u.set(this.u32);
    this.u32 = u;
    this.f32 = new Float32Array(u.buffer);
  }

  /** Tracked keys with their slots, least recently used first (the order to re-add them in). */
  *entriesOldestFirst(): Generator<[string, number]> {
    for (const [k, v] of this.lru.rentries() as Iterable<[string, number]>) yield [k, v];
  }

  /** Bytes held by the slabs (allocated capacity, not just used slots). */
  slabBytes(): number {
    return this.f64.byteLength + this.u32.byteLength;
  }
}
