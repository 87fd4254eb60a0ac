// Processes a test file starts (daemons, servers) end with it. node --test ends a file that
// overruns --test-timeout with SIGTERM, and then neither its t.after hooks nor 'exit' listeners
// run: a timed-out volume test once left its daemon and four ffmpegs running for 25 minutes.

const kills = new Set<() => void>();
let installed = false;

function killAll(): void {
  for (const kill of kills) {
    try {
      kill();
    } catch {
      // Already gone.
    }
  }
  kills.clear();
}

/** Runs `kill` when this process exits or is ended by a signal; returns the call that forgets it. */
export function reapOnExit(kill: () => void): () => void {
  kills.add(kill);
  if (!installed) {
    installed = true;
    process.once('exit', killAll);
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      // Once: the signal raised again after the cleanup ends the process as it would have.
      process.once(sig, () => {
        killAll();
        process.kill(process.pid, sig);
      });
    }
  }
  return () => kills.delete(kill);
}
