import type { FrameJob, FrameOutcome } from './frameProcessor.js';
import type { FrameErrorCode } from './protocol.js';

/** The one reply a frame gets: its outcome (result or failure), or why it was not analysed. */
export type FrameReply =
  | { kind: 'outcome'; outcome: FrameOutcome; dropped: number }
  | { kind: 'refused'; index: number; code: FrameErrorCode; message: string };

type Entry =
  | { kind: 'job'; job: FrameJob }
  | { kind: 'refused'; index: number; code: FrameErrorCode; message: string }
  /** Consecutive frames refused for the same reason, kept as one range so a flood costs no memory. */
  | { kind: 'range'; from: number; to: number; code: FrameErrorCode; message: string }
  /** Something to send in its turn that is no frame's reply (a text echo). */
  | { kind: 'call'; fn: () => void };

/**
 * One reply per frame, in order (the default mode of every frame socket). Frames are
 * analysed one at a time per connection; at most `capacity()` wait behind the one in
 * analysis. A frame arriving when they are all taken is not analysed: it gets a
 * FRAME_SKIPPED reply, in its place in the order. Refusals (too large, bad base64,
 * rate) also wait their turn, so a reply never overtakes an earlier frame's.
 * Memory stays bounded: skipped frames collapse into ranges and `maxBacklog` caps the
 * replies waiting behind a slow frame (past it, `overflow()` is called: close the socket).
 */
export class OrderedFrameQueue {
  private readonly entries: Entry[] = [];
  private waitingJobs = 0;
  private running = false;
  private closed = false;

  constructor(
    private readonly process: (job: FrameJob) => Promise<FrameOutcome>,
    private readonly deliver: (reply: FrameReply) => void,
    private readonly capacity: () => number,
    private readonly overflow: () => void,
    private readonly maxBacklog = 1024,
  ) {}

  /** Queues a frame for analysis, or answers it FRAME_SKIPPED (in order) when the queue is full. */
  offer(job: FrameJob): void {
    if (this.closed) return;
    if (this.running && this.waitingJobs >= Math.max(1, this.capacity())) {
      const n = this.capacity();
      this.refuse(job.index, 'FRAME_SKIPPED', `Skipped: ${n} frame(s) were already waiting on this connection; send slower or set_mode "latest".`);
      return;
    }
    this.push({ kind: 'job', job });
    this.waitingJobs++;
    this.pump();
  }

  /** Answers a frame that will not be analysed, after every earlier frame's reply. */
  refuse(index: number, code: FrameErrorCode, message: string): void {
    if (this.closed) return;
    if (this.entries.length === 0) {
      this.emit({ kind: 'refused', index, code, message });
      return;
    }
    const last = this.entries[this.entries.length - 1]!;
    if ((last.kind === 'range' || last.kind === 'refused') && last.code === code && rangeEnd(last) === index - 1 && SAME_TEXT.has(code)) {
      this.entries[this.entries.length - 1] = { kind: 'range', from: rangeStart(last), to: index, code, message };
      return;
    }
    this.push({ kind: 'refused', index, code, message });
  }

  /** Runs `fn` once every earlier frame has its reply (at once when none waits). */
  after(fn: () => void): void {
    if (this.closed) return;
    if (this.entries.length === 0) fn();
    else this.push({ kind: 'call', fn });
  }

  /** Frames received and not yet answered. */
  get backlog(): number {
    let n = 0;
    for (const e of this.entries) n += e.kind === 'range' ? e.to - e.from + 1 : e.kind === 'call' ? 0 : 1;
    return n;
  }

  /** Forgets what waits; an analysis in flight finishes but is not delivered. */
  close(): void {
    this.closed = true;
    this.entries.length = 0;
    this.waitingJobs = 0;
  }

  private push(e: Entry): void {
    if (this.entries.length >= this.maxBacklog) {
      this.close();
      this.overflow();
      return;
    }
    this.entries.push(e);
  }

  private pump(): void {
    while (!this.closed && !this.running && this.entries.length > 0) {
      const head = this.entries[0]!;
      if (head.kind === 'job') {
        this.running = true;
        this.waitingJobs--;
        void this.run(head.job);
        return;
      }
      this.entries.shift();
      if (head.kind === 'call') this.guard(head.fn);
      else if (head.kind === 'refused') this.emit(head);
      else for (let i = head.from; i <= head.to && !this.closed; i++) this.emit({ kind: 'refused', index: i, code: head.code, message: head.message });
    }
  }

  private async run(job: FrameJob): Promise<void> {
    const outcome = await this.process(job);
    if (this.closed) return;
    this.entries.shift(); // the job itself
    this.running = false;
    this.emit({ kind: 'outcome', outcome, dropped: 0 });
    this.pump();
  }

  private emit(reply: FrameReply): void {
    this.guard(() => this.deliver(reply));
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch {
      // A socket closed under us: nothing to tell anyone, and the queue must not die with it.
    }
  }
}

/** Codes whose message does not depend on the frame, so a range may repeat it. */
const SAME_TEXT: ReadonlySet<FrameErrorCode> = new Set(['FRAME_SKIPPED', 'RATE_LIMITED']);

function rangeStart(e: Extract<Entry, { kind: 'range' | 'refused' }>): number {
  return e.kind === 'range' ? e.from : e.index;
}
function rangeEnd(e: Extract<Entry, { kind: 'range' | 'refused' }>): number {
  return e.kind === 'range' ? e.to : e.index;
}
