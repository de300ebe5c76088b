import { shortId } from '../docker/short-id.js';
import type { Command } from 'commander';
import { type PruneNowResult, pruneNow } from '../agent/prune-now.js';
import { LayerwardenError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import { logRecords } from '../records/log-records.js';
import { createRecordStream } from '../records/record-stream.js';
import { gatesFields } from '../prune/evaluate.js';
import { formatBytes } from '../report/style.js';
import { pruneSettings } from './prune-config.js';
import { action, configFrom, connect, idlePolicy, withSharedOptions } from './shared.js';
import { openState } from './state-owner.js';

export function pruneCommand(program: Command): void {
  withSharedOptions(
    program
      .command('prune')
      .description('one evaluation now: every gate but the boundary (the schedule runs in `watch`)')
      .option('--now', 'evaluate now (required)')
      .option('--dry-run', 'decide and log what would go, remove nothing')
      .option('--json', 'print the outcome as JSON'),
  ).action(
    action(async (opts: Record<string, unknown>) => {
      if (opts.now !== true)
        throw new LayerwardenError(
          'usage',
          'prune needs --now (the daily schedule runs in `layerwarden watch`)',
        );
      const { config } = configFrom(opts);
      // The log stream (prune.decision, prune.removed, …) is the audit trail: stderr unless --log-file.
      const { logger, flush } = createLogger({ level: config.logLevel, file: config.logFile ?? 'stderr' });
      const records = createRecordStream();
      logRecords(records.records$, logger);
      const dryRun = opts.dryRun === true;
      let release = async () => {};
      try {
        // The state file first: with an agent running, that is what the operator needs to hear.
        const opened = await openState(config, `prune --now${dryRun ? ' --dry-run' : ''}`, {
          owner: dryRun ? 'if-free' : 'always',
          records,
          now: Date.now(),
        });
        release = opened.release;
        const { port } = await connect(config);
        const outcome = await pruneNow({
          config,
          settings: pruneSettings(config),
          port,
          logger,
          records,
          state: opened.state,
          readOnly: opened.readOnly,
          policy: idlePolicy(config),
          dryRun,
        });
        const doc = pruneDocument(outcome, opts.dryRun === true);
        process.stdout.write(opts.json ? `${JSON.stringify(doc, null, 2)}\n` : renderPrune(doc));
      } finally {
        await release();
        flush();
      }
    }),
  );
}

/** The `prune --now --json` document. `removed` holds only what was really removed (empty in a dry run). */
export function pruneDocument({ evaluation, result }: PruneNowResult, dryRun: boolean) {
  const { decision, plan } = evaluation;
  const brief = (r: { kind: string; id: string; bytes: number; refs: string[] }) => ({
    kind: r.kind,
    id: r.id,
    bytes: r.bytes,
    refs: r.refs,
  });
  return {
    at: plan.at,
    fired: decision.fire,
    dryRun,
    gates: gatesFields(decision.gates),
    reasons: decision.reasons,
    disk: evaluation.disk,
    disks: evaluation.disks,
    candidates: plan.totals.candidates,
    outcome: result?.outcome ?? 'not fired',
    removed: (result?.removed ?? []).map(brief),
    ...(dryRun && { wouldRemove: (result?.wouldRemove ?? []).map(brief) }),
    skipped: result?.skipped ?? [],
    alreadyGone: result?.alreadyGone ?? [],
    reclaimedBytes: result?.reclaimedBytes ?? 0,
    ...(result?.aborted && { aborted: result.aborted }),
    durationMs: result?.durationMs ?? 0,
  };
}

type PruneDocument = ReturnType<typeof pruneDocument>;

function renderPrune(doc: PruneDocument): string {
  const lines: string[] = [];
  if (!doc.fired) {
    lines.push('prune did not fire:');
    for (const r of doc.reasons) lines.push(`  - ${r}`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    doc.dryRun
      ? `dry run: ${doc.wouldRemove?.length ?? 0} item(s) would be removed`
      : `pruned: ${doc.removed.length} removed, ${formatBytes(doc.reclaimedBytes)} reclaimed (${doc.outcome})`,
  );
  for (const r of doc.dryRun ? (doc.wouldRemove ?? []) : doc.removed)
    lines.push(
      `  ${r.kind} ${shortId(r.id)}  ${formatBytes(r.bytes)}${r.refs.length ? `  ${r.refs.join(', ')}` : ''}`,
    );
  for (const s of doc.skipped) lines.push(`  skipped ${s.kind} ${shortId(s.id)}: ${s.reason}`);
  if (doc.alreadyGone.length) lines.push(`  already gone: ${doc.alreadyGone.length}`);
  if (doc.aborted)
    lines.push(
      `aborted: ${doc.aborted.reason}${doc.aborted.busy ? ` (${doc.aborted.busy.join('; ')})` : ''}`,
    );
  return `${lines.join('\n')}\n`;
}
