/** A one-line download progress bar on stderr; redraws in place on a TTY, prints a few lines otherwise. */
export class ProgressBar {
  private last = 0;
  private lastPct = -1;
  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Reports bytes done so far; throttled to ~10 redraws a second. */
  update(done: number): void {
    const now = Date.now();
    if (this.out.isTTY) {
      if (now - this.last < 100) return;
      this.last = now;
      this.out.write(`\r${this.render(done)}`);
    } else if (this.total) {
      // Without a TTY, log every 25 % so CI logs stay short.
      const pct = Math.floor((done / this.total) * 4) * 25;
      if (pct !== this.lastPct && pct < 100) { this.lastPct = pct; this.out.write(`${this.label}: ${pct}%\n`); }
    }
  }

  /** Prints the final state and a newline. */
  done(done: number, note = ''): void {
    this.out.write(`${this.out.isTTY ? '\r' : ''}${this.render(done)}${note ? ` ${note}` : ''}\n`);
  }

  private render(done: number): string {
    const mb = (n: number): string => (n / 1048576).toFixed(1);
    if (!this.total) return `${this.label} ${mb(done)} MB`;
    const f = Math.min(1, done / this.total);
    const width = 24;
    const full = Math.round(f * width);
    return `${this.label} [${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}% ${mb(done)}/${mb(this.total)} MB`;
  }
}
