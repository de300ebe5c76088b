import type { EventEmitter } from 'node:events';
import type { RecordStream } from '../records/record-stream.js';

/**
 * Past this a stop is abandoned: below the 10 s that `docker stop` and Swarm give before SIGKILL, so the
 * timeout is logged and flushed rather than cut off mid-write.
 */
export const HARD_STOP_MS = 9_000;

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export interface LifecycleOptions {
  /** Its records (agent.stop, agent.stopped, …) go on the record stream with every other. */
  records: Pick<RecordStream, 'emit'>;
  /** Stops new work, lets a removal in progress finish, writes the state file. */
  stop(reason: string): Promise<void>;
  /** Writes out what the log destination still buffers (synchronously). */
  flush(): void;
  /** SIGHUP: reopen the log file (logrotate). */
  reopen(): void;
  /** `--for`: stop by itself after this long. */
  forMs?: number;
  hardStopMs?: number;
  /** The process by default; tests pass an emitter and an exit spy. */
  signals?: EventEmitter;
  exit?: (code: number) => void;
}

/**
 * Runs until SIGINT, SIGTERM or `--for` ends it, then stops cleanly: one `agent.stop` record, the stop
 * (state file written), one `agent.stopped` record, the log flushed, and it resolves so the process exits 0
 * by itself. A second signal during the stop exits at once (130/143); a stop that outlives `hardStopMs`
 * exits 1. A failed stop is logged and leaves exit code 1.
 */
export function runUntilStopped(opts: LifecycleOptions): Promise<{ reason: string }> {
  const signals = opts.signals ?? process;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const { emit } = opts.records;
  return new Promise((resolve) => {
    let stopping = false;
    let forTimer: NodeJS.Timeout | undefined;
    const begin = (reason: string) => {
      if (stopping) {
        // A second signal: the operator means it. Nothing in flight is worth more than their word.
        emit({ event: 'agent.stop-now', level: 'warn', reason });
        opts.flush();
        exit(SIGNAL_EXIT[reason] ?? 1);
        return;
      }
      stopping = true;
      const startedAt = Date.now();
      emit({ event: 'agent.stop', reason });
      if (forTimer) clearTimeout(forTimer);
      const hard = setTimeout(() => {
        emit({ event: 'agent.stop-timeout', level: 'error', ms: Date.now() - startedAt });
        opts.flush();
        exit(1);
      }, opts.hardStopMs ?? HARD_STOP_MS);
      hard.unref();
      opts
        .stop(reason)
        .then(
          () => emit({ event: 'agent.stopped', ms: Date.now() - startedAt }),
          (err: unknown) => {
            emit({ event: 'agent.stop-failed', level: 'error', err });
            process.exitCode = 1;
          },
        )
        .finally(() => {
          clearTimeout(hard);
          // Listeners stay until here, so a second signal during the stop still lands on `begin`.
          signals.off('SIGINT', onInt);
          signals.off('SIGTERM', onTerm);
          signals.off('SIGHUP', onHup);
          opts.flush();
          resolve({ reason });
        });
    };
    const onInt = () => begin('SIGINT');
    const onTerm = () => begin('SIGTERM');
    const onHup = () => opts.reopen();
    signals.on('SIGINT', onInt);
    signals.on('SIGTERM', onTerm);
    signals.on('SIGHUP', onHup);
    if (opts.forMs !== undefined) forTimer = setTimeout(() => begin('--for elapsed'), opts.forMs);
  });
}
