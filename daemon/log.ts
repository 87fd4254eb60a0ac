import { pino, type Logger, type LoggerOptions } from 'pino';
import { maskUrl } from './events/mask.js';

export type { Logger };

/**
 * The one root logger: JSON lines on stdout for journald. Every string that
 * passes through it has `user:pass@` in URLs masked, wherever it sits.
 */
export function createRootLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      // Masks interpolated messages and string arguments.
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? maskUrl(a) : a)) as Parameters<typeof method>);
      },
    },
    serializers: { err: serializeError },
  };
  const dest = destination ?? pino.destination({ dest: 1, sync: true });
  return pino(options, new MaskingStream(dest));
}

function serializeError(err: unknown): unknown {
  const s = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  return s;
}

/** Masks the finished JSON line, so objects logged as bindings are covered too. */
class MaskingStream {
  constructor(private readonly dest: NodeJS.WritableStream) {}
  write(line: string): boolean {
    return this.dest.write(maskUrl(line));
  }
}

/** A logger that drops everything: for tests and tools that need a Logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
