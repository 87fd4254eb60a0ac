/** Fires once when feed() has not been called for `ms`: the no-frame watchdog of a stream. */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;

  /** (Re)arms with a new deadline and handler, replacing any previous one. */
  arm(ms: number, onExpire: () => void): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      onExpire();
    }, ms);
    this.timer.unref(); // never keeps the process alive by itself
  }

  /** Pushes the deadline back by the armed duration (cheap: reuses the timer). */
  feed(): void {
    this.timer?.refresh();
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get armed(): boolean {
    return this.timer !== undefined;
  }
}
