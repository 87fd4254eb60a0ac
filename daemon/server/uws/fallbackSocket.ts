// The WebSocket half of the JavaScript stand-in for uWebSockets.js (see fallbackApp.ts):
// a `ws` socket dressed as a uWS WebSocket, with uWS's send results, backpressure limit,
// drain callback and idle timeout.
import type { Duplex } from 'node:stream';
import type { WebSocket as WsSocket } from 'ws';
import type { RecognizedString, WebSocketBehavior } from 'uWebSockets.js';

/** uWS send() results. */
export const SEND = { BACKPRESSURE: 0, SUCCESS: 1, DROPPED: 2 } as const;

// A published event is one string sent to every subscriber: encode it once, not once per socket.
let lastText: string | null = null;
let lastBytes: Buffer = Buffer.alloc(0);

export function toBuffer(data: RecognizedString | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  if (typeof data === 'string') {
    if (data !== lastText) {
      lastBytes = Buffer.from(data, 'utf8');
      lastText = data;
    }
    return lastBytes;
  }
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** The remote address as uWS gives it: text bytes, IPv4-mapped IPv6 shown as plain IPv4. */
export function remoteAddressText(socket: Duplex): ArrayBuffer {
  const addr = ((socket as { remoteAddress?: string }).remoteAddress ?? '').replace(/^::ffff:/, '');
  return toArrayBuffer(Buffer.from(addr, 'utf8'));
}

export class FallbackWebSocket<U> {
  private closed = false;
  private drainArmed = false;
  private lastSeen = Date.now();
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sock: WsSocket,
    private readonly raw: Duplex,
    private readonly userData: U,
    private readonly behavior: WebSocketBehavior<U>,
  ) {}

  /** Wires the `ws` events to the behavior's handlers; called once, right after the upgrade. */
  start(onGone: () => void): void {
    const b = this.behavior;
    const seen = (): void => {
      this.lastSeen = Date.now();
    };
    this.sock.on('message', (data: Buffer, isBinary: boolean) => {
      seen();
      b.message?.(this.asUws(), toArrayBuffer(data), isBinary);
    });
    this.sock.on('ping', seen);
    this.sock.on('pong', (data: Buffer) => {
      seen();
      b.pong?.(this.asUws(), toArrayBuffer(data));
    });
    // A message over maxPayloadLength: uWS drops the connection at once (1006, no close frame)
    // where `ws` would send a polite 1009. Its receiver reports the error before the socket
    // writes that frame, so destroying the socket first keeps uWS's behaviour.
    const receiver = (this.sock as unknown as { _receiver?: NodeJS.EventEmitter })._receiver;
    receiver?.prependListener('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.raw.destroy();
    });
    this.sock.on('error', () => {
      this.raw.destroy();
    });
    this.sock.on('close', (code: number, reason: Buffer) => {
      this.closed = true;
      if (this.idleTimer) clearInterval(this.idleTimer);
      onGone();
      b.close?.(this.asUws(), code, toArrayBuffer(reason));
    });
    const idleS = b.idleTimeout ?? 120;
    if (idleS > 0) {
      const pings = b.sendPingsAutomatically ?? true;
      this.idleTimer = setInterval(() => {
        const quiet = Date.now() - this.lastSeen;
        if (quiet > idleS * 1000) this.close();
        else if (pings && quiet > (idleS * 1000) / 2) this.sock.ping();
      }, Math.max(250, (idleS * 1000) / 4));
      this.idleTimer.unref();
    }
    b.open?.(this.asUws());
  }

  private asUws(): never {
    return this as never;
  }

  send(message: RecognizedString, isBinary = false, compress = false): number {
    if (this.closed) return SEND.DROPPED;
    const max = this.behavior.maxBackpressure ?? 64 * 1024;
    if (max > 0 && this.getBufferedAmount() > max) {
      if (this.behavior.closeOnBackpressureLimit) this.close();
      return SEND.DROPPED;
    }
    this.sock.send(toBuffer(message), { binary: isBinary, compress, fin: true }, () => this.maybeDrain());
    if (this.getBufferedAmount() === 0) return SEND.SUCCESS;
    this.drainArmed = true;
    return SEND.BACKPRESSURE;
  }

  /** Each flushed frame may end the backpressure: tell the behavior once per turn, as uWS's drain does. */
  private maybeDrain(): void {
    if (!this.drainArmed || this.closed) return;
    this.drainArmed = false;
    setImmediate(() => {
      if (this.closed) return;
      if (this.getBufferedAmount() > 0) this.drainArmed = true;
      this.behavior.drain?.(this.asUws());
    });
  }

  getBufferedAmount(): number {
    return this.sock.bufferedAmount;
  }

  end(code?: number, shortMessage?: RecognizedString): void {
    if (this.closed) return;
    this.sock.close(code || 1000, shortMessage === undefined ? undefined : toBuffer(shortMessage));
  }

  close(): void {
    if (this.closed) return;
    this.sock.terminate();
  }

  ping(message?: RecognizedString): number {
    if (this.closed) return SEND.DROPPED;
    this.sock.ping(message === undefined ? undefined : toBuffer(message));
    return SEND.SUCCESS;
  }

  cork(cb: () => void): this {
    cb();
    return this;
  }

  getUserData(): U {
    return this.userData;
  }

  getRemoteAddressAsText(): ArrayBuffer {
    return remoteAddressText(this.raw);
  }

  getRemoteAddress(): ArrayBuffer {
    return this.getRemoteAddressAsText();
  }
}
