/**
 * A hash map from a pair of token ids to an id (open addressing, one interleaved typed array so
 * that a lookup touches one cache line). BPE looks pairs up millions of times; a JS Map keyed by
 * `a * 2**20 + b` is several times slower.
 */
export class PairTable {
  /** [first, second, value] per slot; first = -1 marks an empty slot. */
  private slots: Int32Array;
  private mask: number;
  size = 0;

  constructor(expected = 1024) {
    let capacity = 16;
    while (capacity < expected * 1.5) capacity *= 2;
    this.slots = new Int32Array(capacity * 3).fill(-1);
    this.mask = capacity - 1;
  }

  /** The value stored for (a, b), or -1. */
  get(a: number, b: number): number {
    const slots = this.slots;
    let slot = hashPair(a, b) & this.mask;
    for (;;) {
      const at = slot * 3;
      const first = slots[at];
      if (first === a && slots[at + 1] === b) return slots[at + 2];
      if (first === -1) return -1;
      slot = (slot + 1) & this.mask;
    }
  }

  set(a: number, b: number, value: number): void {
    if ((this.size + 1) * 3 > (this.mask + 1) * 2) this.grow();
    const slots = this.slots;
    let slot = hashPair(a, b) & this.mask;
    for (;;) {
      const at = slot * 3;
      const first = slots[at];
      if (first === -1) {
        slots[at] = a;
        slots[at + 1] = b;
        slots[at + 2] = value;
        this.size++;
        return;
      }
      if (first === a && slots[at + 1] === b) {
        slots[at + 2] = value;
        return;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2).fill(-1);
    this.mask = (this.mask + 1) * 2 - 1;
    this.size = 0;
    for (let at = 0; at < old.length; at += 3) {
      if (old[at] !== -1) this.set(old[at], old[at + 1], old[at + 2]);
    }
  }
}

function hashPair(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}
