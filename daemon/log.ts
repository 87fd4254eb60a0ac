import { pino, type Logger, type LoggerOptions } from 'pino';
import { maskUrl } from './events/mask.js';

export type { Logger };

/**
 * The one root logger: JSON lines on stdout for journald. Every string that
 * passes through it has `user:pass@` in URLs masked, wherever it sits.
 */
export function createRootLogger(level = 'info', destination?: LineSink): Logger {
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
  return err instanceof Error ? pino.stdSerializers.err(err) : err;
}

/** Masks the finished JSON line, so objects logged as bindings are covered too. */
class MaskingStream {
  constructor(private readonly dest: LineSink) {}
  write(line: string): unknown {
    return this.dest.write(maskUrl(line));
  }
}

/** Where log lines go: stdout by default, stderr for tools whose stdout is their output. */
export interface LineSink {
  write(line: string): unknown;
}

/** A logger that drops everything: for tests and tools that need a Logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
