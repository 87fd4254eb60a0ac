/** Limits of the frame sockets and the REST twin; main fills them from config (defaults below). */
export interface FrameLimits {
  /** Largest frame on `/ws/<analytic>` and its REST twin (image bytes): the Skylark protocol's 500 KB. */
  maxFrameBytes: number;
  /** Largest frame on `/ws/identify` (image bytes, before base64); its protocol names no limit: 4 MiB. */
  identifyMaxFrameBytes: number;
  /** Largest image on the MobiledgeX-style `/ws/detector/detect/` and `/detector/detect/`: 4 MiB. */
  mobiledgexMaxFrameBytes: number;
  /** Frames that may wait per connection behind the one in analysis (mode all); more are answered FRAME_SKIPPED. */
  queueFrames: number;
  /** Frames a second one connection may send; 0 = unlimited. Extra frames get RATE_LIMITED. */
  maxFps: number;
  /** Open frame-socket connections per token (per remote address when auth is off); 0 = unlimited. */
  maxConnectionsPerToken: number;
  /** Largest batch a client may ask for with set_batch_size. */
  maxBatchSize: number;
  /** Seconds between `/ws/identify` heartbeats. */
  heartbeatS: number;
  /** Seconds of silence after which a frame socket is closed (default 2 heartbeats + 5 s). */
  idleTimeoutS: number;
  /** Frames analysed at once over all connections (the CPU is the limit, not the sockets). */
  maxConcurrent: number;
  /** Consecutive protocol errors after which a connection is closed as broken. */
  maxProtocolErrors: number;
}

/** The defaults DESIGN.md section 6 promises. */
export const DEFAULT_FRAME_LIMITS: FrameLimits = {
  maxFrameBytes: 500 * 1024,
  identifyMaxFrameBytes: 4 * 1024 * 1024,
  mobiledgexMaxFrameBytes: 4 * 1024 * 1024,
  queueFrames: 8,
  maxFps: 30,
  maxConnectionsPerToken: 8,
  maxBatchSize: 16,
  heartbeatS: 30,
  idleTimeoutS: 65,
  maxConcurrent: 2,
  maxProtocolErrors: 20,
};

/** Fills the missing fields of a partial config with the defaults. */
export function frameLimits(partial: Partial<FrameLimits> = {}): FrameLimits {
  const l = { ...DEFAULT_FRAME_LIMITS, ...stripUndefined(partial) };
  if (partial.idleTimeoutS === undefined && partial.heartbeatS !== undefined) l.idleTimeoutS = 2 * l.heartbeatS + 5;
  return l;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * A FIFO semaphore: at most `limit` frames are decoded and analysed at once.
 * Each connection holds at most one waiter (it analyses one frame at a time), so the queue
 * is bounded by the number of connections and a flooder waits its turn like anyone.
 */
export class ConcurrencyGate {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(readonly limit: number) {}

  /** Runs `fn` when a slot is free. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiters.shift();
      // Hand the slot straight to the next waiter, so `active` never dips and lets a newcomer jump the queue.
      if (next) next();
      else this.active--;
    }
  }

  get queued(): number {
    return this.waiters.length;
  }
}

/** Token bucket of one connection: `fps` frames a second with a one-second burst. */
export class FrameRateLimiter {
  private tokens: number;
  private last = performance.now();
  constructor(private readonly fps: number) {
    this.tokens = fps;
  }
  /** True when a frame may pass now. */
  take(): boolean {
    if (this.fps <= 0) return true;
    const now = performance.now();
    this.tokens = Math.min(this.fps, this.tokens + ((now - this.last) / 1000) * this.fps);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Counts open connections per key (token or address). */
export class ConnectionCounter {
  private readonly open = new Map<string, number>();
  constructor(private readonly max: number) {}
  /** Reserves a connection; false when the key is at its limit. */
  acquire(key: string): boolean {
    const n = this.open.get(key) ?? 0;
    if (this.max > 0 && n >= this.max) return false;
    this.open.set(key, n + 1);
    return true;
  }
  release(key: string): void {
    const n = (this.open.get(key) ?? 1) - 1;
    if (n <= 0) this.open.delete(key);
    else this.open.set(key, n);
  }
  count(key: string): number {
    return this.open.get(key) ?? 0;
  }
}
