/** A binary min-heap of entries (key, tie, value), ordered by key, then by tie. */
export class MinHeap {
  private keys: number[] = [];
  private ties: number[] = [];
  private values: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  topKey(): number {
    return this.keys[0];
  }

  topTie(): number {
    return this.ties[0];
  }

  topValue(): number {
    return this.values[0];
  }

  push(key: number, tie: number, value: number): void {
    let i = this.keys.length;
    this.keys.push(key);
    this.ties.push(tie);
    this.values.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the top entry and returns its value. */
  pop(): number {
    const { keys, ties, values } = this;
    const top = values[0];
    const lastKey = keys.pop()!;
    const lastTie = ties.pop()!;
    const lastValue = values.pop()!;
    if (keys.length === 0) return top;
    keys[0] = lastKey;
    ties[0] = lastTie;
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
    const { keys, ties } = this;
    return keys[i] < keys[j] || (keys[i] === keys[j] && ties[i] < ties[j]);
  }

  private swap(i: number, j: number): void {
    swapIn(this.keys, i, j);
    swapIn(this.ties, i, j);
    swapIn(this.values, i, j);
  }
}

function swapIn(array: number[], i: number, j: number): void {
  const item = array[i];
  array[i] = array[j];
  array[j] = item;
}
