import { formatBytes } from '../report/style.js';
import { shortId } from '../docker/short-id.js';
import type { Command } from 'commander';
import { type Evaluation, evaluate, gatesFields } from '../prune/evaluate.js';
import type { DiskReading } from '../prune/gates.js';
import { nextBoundary } from '../prune/schedule.js';
import { oneShotView } from './one-shot-view.js';
import { pruneSettings, scheduleOf } from './prune-config.js';
import { action, configFrom, withSharedOptions } from './shared.js';

export function planCommand(program: Command): void {
  withSharedOptions(
    program
      .command('plan')
      .description('what a prune would remove now, and why each other item is kept')
      .option('--json', 'print the plan as JSON'),
  ).action(
    action(async (opts: Record<string, unknown>) => {
      const { config } = configFrom(opts);
      const schedule = scheduleOf(config);
      const { model, idle, disks, now } = await oneShotView(config);
      const e = evaluate({
        model,
        idle,
        disks,
        now,
        ...pruneSettings(config),
      });
      const doc = planDocument(e, nextBoundary(schedule, now));
      process.stdout.write(opts.json ? `${JSON.stringify(doc, null, 2)}\n` : renderPlan(doc));
    }),
  );
}

/** The `plan --json` document: every candidate, every kept item with its reason, and the gates as of now. */
export function planDocument(e: Evaluation, next: number) {
  const { plan, decision } = e;
  return {
    at: plan.at,
    minAgeMs: plan.minAgeMs,
    wouldFire: decision.fire,
    reasons: decision.reasons,
    gates: gatesFields(decision.gates),
    disk: e.disk,
    disks: e.disks,
    candidates: plan.candidates.map((c) => ({
      kind: c.kind,
      id: c.id,
      ...(c.name !== undefined && { name: c.name }),
      refs: c.refs,
      bytes: c.bytes,
      untouchedFor: c.untouchedFor,
      untouchedForText: c.untouchedForText,
    })),
    buildCache: plan.buildCache,
    kept: plan.kept,
    totals: plan.totals,
    nextBoundary: new Date(next).toISOString(),
  };
}

type PlanDocument = ReturnType<typeof planDocument>;

function renderPlan(doc: PlanDocument): string {
  const lines: string[] = [];
  const { gates } = doc;
  lines.push(
    `plan at ${doc.at}: ${doc.totals.candidates} candidate${doc.totals.candidates === 1 ? '' : 's'} (${formatBytes(doc.totals.bytes)}), ${doc.totals.kept} kept`,
  );
  lines.push(
    `gates: idle ${gates.idle.pass ? 'yes' : 'no'}; disk ${gates.disk.usedPercent === undefined ? 'unknown' : `${gates.disk.usedPercent.toFixed(1)}%`} (high-water ${gates.disk.high}%); candidates ${gates.candidates.count}; image store ${gates.store.imageStore}${gates.store.pass ? '' : ' (removal off)'}`,
  );
  for (const d of doc.disks) lines.push(`  disk ${diskText(d)}`);
  lines.push(doc.wouldFire ? 'a prune now would fire' : 'a prune now would not fire:');
  for (const r of doc.reasons) lines.push(`  - ${r}`);
  lines.push('', 'would remove:');
  if (doc.candidates.length === 0) lines.push('  (nothing)');
  for (const c of doc.candidates)
    lines.push(
      `  ${c.kind} ${label(c)}  ${formatBytes(c.bytes)}  untouched ${c.untouchedForText}${c.refs.length ? `  ${c.refs.join(', ')}` : ''}`,
    );
  lines.push(`  build cache unused for ${doc.buildCache.untilHours}h (the engine decides which records)`);
  lines.push('', 'kept:');
  if (doc.kept.length === 0) lines.push('  (nothing)');
  for (const k of doc.kept)
    lines.push(`  ${k.kind} ${label(k)}  ${k.reason}${k.refs.length ? `  [${k.refs.join(', ')}]` : ''}`);
  lines.push('', `next boundary: ${doc.nextBoundary}`);
  return `${lines.join('\n')}\n`;
}

/** One reading for people: `/var/lib/docker (docker-root): 83.1% used, 11.8 GB free`. */
export function diskText(d: DiskReading): string {
  const where = `${d.path}${d.role ? ` (${d.role})` : ''}`;
  return d.ok
    ? `${where}: ${d.usedPercent.toFixed(1)}% used, ${formatBytes(d.freeBytes)} free`
    : `${where}: unknown (${d.reason})`;
}

function label(x: { kind: string; id: string; name?: string }): string {
  const short = shortId(x.id);
  return x.name ? `${x.name} (${short})` : short;
}
