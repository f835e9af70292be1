import { performance } from 'node:perf_hooks';

/**
 * Blocked keys this process already knows about, so a blocked client costs no
 * Redis call until its block ends. Times are taken on the monotonic clock and
 * counted from when the request that learnt of the block was sent: Redis set
 * or read the block after that moment, so a cached entry always ends before
 * (never after) the block in Redis, whatever the wall clocks say.
 */
export class BlockCache {
  private readonly until = new Map<string, number>();

  constructor(private readonly maxKeys: number) {}

  /** Ms the key stays blocked, or 0. */
  remaining(key: string): number {
    const end = this.until.get(key);
    if (end === undefined) return 0;
    const left = end - performance.now();
    if (left <= 0) {
      this.until.delete(key);
      return 0;
    }
    return Math.ceil(left);
  }

  /** Records a block that Redis reported `ms` long for a request sent at `sentAt` (performance.now()). */
  add(key: string, ms: number, sentAt: number): void {
    if (ms <= 0) return;
    this.until.delete(key);
    this.until.set(key, sentAt + ms);
    while (this.until.size > this.maxKeys) this.until.delete(this.until.keys().next().value as string);
  }

  delete(key: string): void {
    this.until.delete(key);
  }

  get size(): number {
    return this.until.size;
  }
}
