// Per-key state for one detector: a fixed number of float64 and uint32 cells
// per key, kept in two slabs (typed arrays) indexed by slot, with a map
// key → slot and a least-recently-used order capped at max_keys. At the cap the
// least recently used key's slot is reused (that key starts over if it comes
// back), so memory is flat however many distinct keys pass and however long
// Vigil runs. Everything indexed by slot (the slabs, the LRU links, the slot's
// key) grows by doubling up to the cap, so memory follows the keys in use, not
// max_keys: a detector with max_keys 1,000,000 and ten keys holds a few KiB.
// (lru-cache pre-sizes its own arrays to `max`: 24 bytes per possible key.)

const INITIAL_CAPACITY = 1024;

/**
 * The key as a string of its own. A key cut out of a longer string (an address
 * or a user parsed from a log line) is a view that keeps the whole line alive
 * for as long as the key is tracked: ~200 bytes more per key for access logs.
 * Concatenating and cutting again copies just the key (same characters).
 */
function ownCopy(key: string): string {
  return key.length < 13 ? key : (' ' + key).slice(1); // V8 copies strings shorter than 13 characters anyway
}
const NONE = -1;

export class KeyTable {
  f64: Float64Array;
  u32: Uint32Array;
  /** The u32 slab seen as float32 cells (for compact profiles). */
  f32: Float32Array;
  private readonly slots = new Map<string, number>();
  /** The key held by each slot. */
  private readonly keys: string[] = [];
  /** The LRU order as a doubly linked list of slots: older and newer neighbour, NONE at the ends. */
  private older: Int32Array;
  private newer: Int32Array;
  private oldest = NONE;
  private newest = NONE;
  private capacity: number;
  private used = 0;
  /** Keys evicted to make room, since start. */
  evictions = 0;

  constructor(
    readonly maxKeys: number,
    readonly f64Stride: number,
    readonly u32Stride: number,
  ) {
    this.capacity = Math.min(maxKeys, INITIAL_CAPACITY);
    this.f64 = new Float64Array(this.capacity * f64Stride);
    this.u32 = new Uint32Array(this.capacity * u32Stride);
    this.f32 = new Float32Array(this.u32.buffer);
    this.older = new Int32Array(this.capacity);
    this.newer = new Int32Array(this.capacity);
  }

  get size(): number {
    return this.slots.size;
  }

  /** Slots allocated (grows by doubling with the keys in use, up to max_keys). */
  get allocatedSlots(): number {
    return this.capacity;
  }

  /** The key's slot (marking it most recently used), or -1 when it is not tracked. */
  find(key: string): number {
    // The key of the previous lookup again (a route, a client in a burst): it is already the newest.
    if (this.newest !== NONE && this.keys[this.newest] === key) return this.newest;
    const slot = this.slots.get(key);
    if (slot === undefined) return NONE;
    if (slot !== this.newest) {
      this.unlink(slot);
      this.linkNewest(slot);
    }
    return slot;
  }

  /** A fresh, zeroed slot for a key that is not tracked; evicts the least recently used key at the cap. */
  add(key: string): number {
    key = ownCopy(key);
    let slot: number;
    if (this.slots.size >= this.maxKeys) {
      slot = this.oldest;
      this.slots.delete(this.keys[slot]);
      this.unlink(slot);
      this.evictions++;
      this.f64.fill(0, slot * this.f64Stride, (slot + 1) * this.f64Stride);
      this.u32.fill(0, slot * this.u32Stride, (slot + 1) * this.u32Stride);
      this.keys[slot] = key;
    } else {
      if (this.used >= this.capacity) this.grow();
      slot = this.used++;
      this.keys.push(key);
    }
    this.slots.set(key, slot);
    this.linkNewest(slot);
    return slot;
  }

  private unlink(slot: number): void {
    const o = this.older[slot];
    const n = this.newer[slot];
    if (o === NONE) this.oldest = n;
    else this.newer[o] = n;
    if (n === NONE) this.newest = o;
    else this.older[n] = o;
  }

  private linkNewest(slot: number): void {
    this.older[slot] = this.newest;
    this.newer[slot] = NONE;
    if (this.newest === NONE) this.oldest = slot;
    else this.newer[this.newest] = slot;
    this.newest = slot;
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
    const o = new Int32Array(this.capacity);
    o.set(this.older);
    this.older = o;
    const n = new Int32Array(this.capacity);
    n.set(this.newer);
    this.newer = n;
  }

  /** Tracked keys with their slots, least recently used first (the order to re-add them in). */
  *entriesOldestFirst(): Generator<[string, number]> {
    for (let s = this.oldest; s !== NONE; s = this.newer[s]) yield [this.keys[s], s];
  }

  /** The same order as two arrays, without a generator step and a tuple per key (a snapshot walks every key). */
  orderOldestFirst(): { keys: string[]; slots: number[] } {
    const keys: string[] = [];
    const slots: number[] = [];
    for (let s = this.oldest; s !== NONE; s = this.newer[s]) {
      keys.push(this.keys[s]);
      slots.push(s);
    }
    return { keys, slots };
  }

  /** Bytes held by the slot-indexed typed arrays (allocated capacity, not just used slots). */
  slabBytes(): number {
    return this.f64.byteLength + this.u32.byteLength + this.older.byteLength + this.newer.byteLength;
  }
}
