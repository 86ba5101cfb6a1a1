/**
 * Equal-length token rows as a trainer BatchStream: each batch is `batchSize` whole rows
 * (x = row[0..L-2], y = row[1..L-1]), drawn without replacement, reshuffled every epoch.
 * Training on whole rows keeps every position where the task puts it.
 */
import type { BatchStream } from "../../train/index.js";
import { Rng } from "../../util/random.js";

export class RowStream implements BatchStream {
  private offset = 0;
  private epoch = -1;
  private order: number[] = [];

  constructor(
    readonly rows: readonly (readonly number[])[],
    readonly seed = 0,
  ) {
    if (rows.length === 0) throw new RangeError("RowStream: no rows");
    const length = rows[0].length;
    rows.forEach((row, i) => {
      if (row.length !== length) throw new RangeError(`RowStream: row ${i} has ${row.length} tokens, row 0 has ${length}`);
    });
    if (length < 2) throw new RangeError("RowStream: rows need at least 2 tokens (an input and its next token)");
  }

  /** blockSize a model needs for these rows: their length minus one. */
  get blockSize(): number {
    return this.rows[0].length - 1;
  }

  get position(): { shard: number; offset: number } {
    return { shard: 0, offset: this.offset };
  }

  seek(position: { shard: number; offset: number }): void {
    this.offset = position.offset;
  }

  fromStart(): BatchStream {
    return new RowStream(this.rows, this.seed);
  }

  checkFits(batchSize: number, blockSize: number): void {
    if (blockSize !== this.blockSize) throw new RangeError(`RowStream: rows of ${this.blockSize + 1} tokens need blockSize ${this.blockSize}, got ${blockSize}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`RowStream: batch size must be a positive integer, got ${batchSize}`);
  }

  nextBatch(batchSize: number, blockSize: number): { x: Int32Array; y: Int32Array } {
    this.checkFits(batchSize, blockSize);
    const x = new Int32Array(batchSize * blockSize);
    const y = new Int32Array(batchSize * blockSize);
    for (let b = 0; b < batchSize; b++) {
      const row = this.rows[this.rowAt(this.offset++)];
      for (let t = 0; t < blockSize; t++) {
        x[b * blockSize + t] = row[t];
        y[b * blockSize + t] = row[t + 1];
      }
    }
    return { x, y };
  }

  /** The row served at `offset`: a permutation per epoch, seeded by (seed, epoch), so seek() replays exactly. */
  private rowAt(offset: number): number {
    const n = this.rows.length;
    const epoch = Math.floor(offset / n);
    if (epoch !== this.epoch) {
      this.order = new Rng(this.seed * 100003 + epoch + 1).shuffle(Array.from({ length: n }, (_, i) => i));
      this.epoch = epoch;
    }
    return this.order[offset % n];
  }
}
