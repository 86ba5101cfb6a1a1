/** A binary min-heap of (key, value) pairs, ordered by key, then by value. */
export class MinHeap {
  private keys: number[] = [];
  private values: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  topKey(): number {
    return this.keys[0];
  }

  peekValue(): number {
    return this.values[0];
  }

  push(key: number, value: number): void {
    const { keys, values } = this;
    let i = keys.length;
    keys.push(key);
    values.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the top entry and returns its value. */
  pop(): number {
    const { keys, values } = this;
    const top = values[0];
    const lastKey = keys.pop()!;
    const lastValue = values.pop()!;
    if (keys.length === 0) return top;
    keys[0] = lastKey;
    values[0] = lastValue;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < keys.length && this.less(left, smallest)) smallest = left;
      if (right < keys.length && this.less(right, smallest)) smallest = right;
      if (smallest === i) return top;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private less(i: number, j: number): boolean {
    const { keys, values } = this;
    return keys[i] < keys[j] || (keys[i] === keys[j] && values[i] < values[j]);
  }

  private swap(i: number, j: number): void {
    const { keys, values } = this;
    const key = keys[i];
    keys[i] = keys[j];
    keys[j] = key;
    const value = values[i];
    values[i] = values[j];
    values[j] = value;
  }
}
