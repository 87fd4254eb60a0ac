import type { ErrorCode } from '../daemon/errors.js';

/**
 * `vigil events tail --json | head` closes our stdout early: that is the reader saying
 * "enough", not an error, so exit quietly (status 0, like `yes | head`) instead of
 * letting the EPIPE surface as an uncaught stack trace.
 */
export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(0);
      throw err;
    });
  }
}

/** What to do next, in the CLI's own words, for errors a user can fix from the command line. */
export function hintFor(code: ErrorCode): string | undefined {
  switch (code) {
    case 'VIGIL_ERR_UNAUTHORIZED':
      return 'hint: pass the admin token with --token TOKEN or set VIGIL_ADMIN_TOKEN (it is server.admin_token in the config file; -c FILE reads it from there).';
    case 'VIGIL_ERR_DAEMON_DOWN':
      return 'hint: point the CLI at the daemon with --url URL or VIGIL_URL (default http://127.0.0.1:8090).';
    default:
      return undefined;
  }
}
