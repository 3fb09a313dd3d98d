/**
 * Last-resort cleanup for the scripts, tests and reliability runs: whatever a process started (server processes,
 * temporary directories) is registered here and torn down synchronously when the process exits for
 * any reason (normal end, uncaught error, deadline, Ctrl-C), so no child process or temp dir outlives it.
 */

const tasks = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const task of [...tasks].reverse()) {
    try {
      task();
    } catch {
      // Best effort: one failing task must not keep the others from running.
    }
  }
  tasks.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runAll();
      process.exit(130);
    });
  }
}

/** Registers a synchronous teardown to run at exit; returns a function that unregisters it. */
export function atExit(task: () => void): () => void {
  install();
  tasks.add(task);
  return () => {
    tasks.delete(task);
  };
}

/**
 * Ends the process with exit code 2 if it is still running after `ms` (the registered teardowns run).
 * The timer does not keep the process alive.
 */
export function deadline(ms: number, what: string): void {
  install();
  setTimeout(() => {
    process.stderr.write(`\n${what}: deadline of ${Math.round(ms / 1000)} s reached, aborting\n`);
    process.exit(2);
  }, ms).unref();
}
