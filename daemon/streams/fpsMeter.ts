/** Measures a rate over a sliding window of recent ticks (the delivered fps in health). */
export class FpsMeter {
  private readonly times: number[] = [];
  private first: number | undefined;

  constructor(
    private readonly windowMs = 5000,
    private readonly maxTicks = 1000,
  ) {}

  tick(now = Date.now()): void {
    this.first ??= now;
    this.times.push(now);
    if (this.times.length > this.maxTicks) this.times.shift();
  }

  /** Ticks per second over the last window (or since the first tick, when younger); one decimal. */
  rate(now = Date.now()): number {
    while (this.times.length > 0 && now - this.times[0]! >= this.windowMs) this.times.shift();
    if (this.first === undefined || this.times.length < 2) return 0;
    const span = Math.min(this.windowMs, now - this.first);
    // The first tick opens the span, so it is not counted as an interval.
    const ticks = now - this.first <= this.windowMs ? this.times.length - 1 : this.times.length;
    return span > 0 ? Math.round((ticks / span) * 10_000) / 10 : 0;
  }

  reset(): void {
    this.times.length = 0;
    this.first = undefined;
  }
}
