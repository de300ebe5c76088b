/**
 * Records the lifecycle (src/cli/lifecycle.ts) really emits, from runUntilStopped with an emitter for
 * the signals and an exit spy: a clean stop, a second signal during a stop, a stop past the hard limit
 * and a stop that fails.
 */
import { EventEmitter } from 'node:events';
import { type LifecycleOptions, runUntilStopped } from '../../src/cli/lifecycle.js';
import { writeRecord } from '../../src/records/log-records.js';
import { captureLogger } from '../log/capture.js';

/** A stop the producer ends by hand (`release`) or that ends by itself with `outcome`. */
function stopper(outcome?: 'ok' | Error) {
  let release: () => void = () => {};
  const stop = () =>
    new Promise<void>((resolve, reject) => {
      release = resolve;
      if (outcome === 'ok') setTimeout(resolve, 5);
      else if (outcome) setTimeout(() => reject(outcome), 5);
    });
  return { stop, release: () => release() };
}

export async function lifecycleRecords(): Promise<Array<Record<string, unknown>>> {
  const { logger, records } = captureLogger();
  const run = (stop: LifecycleOptions['stop'], extra: Partial<LifecycleOptions> = {}) => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    const done = runUntilStopped({
      records: { emit: (r) => writeRecord(logger, r) },
      stop,
      flush: () => {},
      reopen: () => {},
      signals,
      exit: (code) => exits.push(code),
      ...extra,
    });
    return { signals, exits, done };
  };

  // SIGTERM and a stop that ends: agent.stop, agent.stopped.
  const clean = run(stopper('ok').stop);
  clean.signals.emit('SIGTERM');
  await clean.done;

  // A second signal while the stop hangs: agent.stop-now (the exit is the spy's).
  const hanging = stopper();
  const twice = run(hanging.stop);
  twice.signals.emit('SIGINT');
  twice.signals.emit('SIGTERM');
  hanging.release();
  await twice.done;

  // A stop that outlives the hard limit: agent.stop-timeout with how long it waited.
  const slow = stopper();
  const late = run(slow.stop, { hardStopMs: 20 });
  late.signals.emit('SIGTERM');
  await new Promise((r) => setTimeout(r, 60));
  slow.release();
  await late.done;

  // A stop that fails: agent.stop-failed with the error; it sets the exit code, which is ours to keep.
  const saved = process.exitCode;
  try {
    const failing = run(stopper(new Error('EROFS: read-only file system')).stop);
    failing.signals.emit('SIGTERM');
    await failing.done;
  } finally {
    process.exitCode = saved;
  }
  return records;
}
