// Imported first by the worker: moves this process's wall clock by
// `clockShiftMs` (Date.now() and new Date()), as a server with a skewed clock
// would have it. Rate limiting must not notice: its time comes from Redis.
const input = JSON.parse(process.argv[2] ?? '{}') as { clockShiftMs?: number };
const shift = Number(input.clockShiftMs ?? 0);
if (shift !== 0) {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(realNow() + shift);
      else super(...(args as [number]));
    }
    static override now(): number {
      return realNow() + shift;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
}
export {};
