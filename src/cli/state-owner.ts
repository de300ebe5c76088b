import type { Config } from '../config/options.js';
import type { RecordStream } from '../records/record-stream.js';
import { LayerwardenError } from '../errors.js';
import { type AgentState, loadState } from '../state/state-file.js';
import { holderText, lockState } from '../state/state-lock.js';

export interface OpenedState {
  state: AgentState;
  /** True when this process only reads the state file: it never writes it nor moves it aside. */
  readOnly: boolean;
  /** Gives the lock back (a no-op for a reader); call it after the last save. */
  release: () => Promise<void>;
}

/**
 * The state file as a command may use it. A command that prunes (`watch`, `watch --dry-run`,
 * `prune --now`: `owner: 'always'`) owns it: it takes `<state file>.lock` first, and refuses to start when
 * another live process holds it — two executors would race each other's removals, take each other's for
 * someone else's, and overwrite each other's boundary record. `watch --no-prune` (`'never'`) reads it and
 * never writes it, so it runs beside the agent and never keeps one from starting. `prune --now --dry-run`
 * (`'if-free'`) owns it when nobody does (its clocks are saved, as a one-off run from cron needs) and
 * reads it beside an agent.
 */
export async function openState(
  config: Config,
  command: string,
  opts: { owner: 'always' | 'if-free' | 'never'; records: Pick<RecordStream, 'emit'>; now: number },
): Promise<OpenedState> {
  const { now } = opts;
  const { emit } = opts.records;
  let release = async () => {};
  let readOnly = opts.owner === 'never';
  if (!readOnly) {
    const lock = await lockState(config.stateFile, command, now).catch((err: unknown) => {
      const why = err instanceof Error ? err.message : String(err);
      throw new LayerwardenError('state-file', `cannot lock state file ${config.stateFile}: ${why}`, {
        cause: err,
      });
    });
    if (lock.kind === 'held') {
      if (opts.owner === 'always')
        throw new LayerwardenError(
          'state-file',
          `${holderText(config.stateFile, lock.holder)}: one pruning agent per state file (--no-prune observes beside it)`,
        );
      readOnly = true;
    } else {
      release = lock.release;
      const from = lock.tookOverFrom;
      if (from)
        emit({
          event: 'state.lock-taken-over',
          level: 'warn',
          path: `${config.stateFile}.lock`,
          ...(from === 'unreadable' ? { reason: 'unreadable' as const } : { reason: 'stale' as const, from }),
        });
    }
  }
  const loaded = await loadState(config.stateFile, now, { readOnly }).catch(async (err: unknown) => {
    await release();
    throw err;
  });
  if (loaded.movedTo)
    emit({ event: 'state.moved', level: 'warn', reason: loaded.warning, to: loaded.movedTo });
  else if (loaded.warning) emit({ event: 'state.ignored', level: 'warn', reason: loaded.warning });
  return { state: loaded.state, readOnly, release };
}
