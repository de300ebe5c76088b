import type { Command } from 'commander';
import { type StatusDocument, statusDocument } from '../model/status-doc.js';
import { storeGate } from '../prune/gates.js';
import { planPrune } from '../prune/plan.js';
import { nextBoundary } from '../prune/schedule.js';
import { oneShotView } from './one-shot-view.js';
import { scheduleOf } from './prune-config.js';
import { action, configFrom, withSharedOptions } from './shared.js';

export function statusCommand(program: Command): void {
  withSharedOptions(
    program
      .command('status')
      .description('one-shot: idle or busy (with reasons), disk, counts')
      .option('--json', 'print the status document as JSON'),
  ).action(
    action(async (opts: Record<string, unknown>) => {
      const { config } = configFrom(opts);
      const schedule = scheduleOf(config);
      const { model, policy, idle, disk, disks, state, now } = await oneShotView(config);
      const removal = storeGate(model.engine?.imageStore, config.allowContainerdStoreRemoval);
      const doc: StatusWithPrune = {
        ...statusDocument(model, policy, idle, now, { disk, disks, removal }),
        candidates: planPrune(model, { minAgeMs: config.minAgeMs }, now).totals.candidates,
        nextBoundary: new Date(nextBoundary(schedule, now)).toISOString(),
        lastPrune: state.prune,
      };
      process.stdout.write(opts.json ? `${JSON.stringify(doc, null, 2)}\n` : renderStatus(doc));
    }),
  );
}

type StatusWithPrune = StatusDocument & {
  candidates: number;
  nextBoundary: string;
  lastPrune: { lastEvaluatedBoundary?: number; lastRunAt?: number; lastOutcome?: string };
};

function renderStatus(doc: StatusWithPrune): string {
  const lines: string[] = [];
  lines.push(doc.idle ? 'idle' : `busy (${doc.busy.length} reason${doc.busy.length === 1 ? '' : 's'})`);
  for (const b of doc.busy) {
    const { reason, ...rest } = b;
    lines.push(
      `  - ${reason}: ${Object.entries(rest)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ')}`,
    );
  }
  if (doc.engine)
    lines.push(
      `engine: ${doc.engine.name} docker ${doc.engine.version} (API ${doc.engine.apiVersion} spoken${doc.engine.apiRange ? `; engine serves ${doc.engine.apiRange.min ?? '?'}–${doc.engine.apiRange.max}` : ''}), ${doc.engine.imageStore} image store, swarm ${doc.engine.swarm}${doc.engine.manager ? ' manager' : ''}`,
    );
  lines.push(
    `disk: ${doc.disk?.ok ? `${doc.disk.usedPercent.toFixed(1)}% used` : `unknown (${doc.disk?.reason})`} at ${doc.disk?.path}${doc.disks.length > 1 ? ' (the fullest decides)' : ''}`,
  );
  if (doc.disks.length > 1)
    for (const d of doc.disks)
      lines.push(
        `  ${d.path}${d.role ? ` (${d.role})` : ''}: ${d.ok ? `${d.usedPercent.toFixed(1)}% used` : `unknown (${d.reason})`}`,
      );
  lines.push(
    `images: ${doc.images.total} (${doc.images.tagged} tagged, ${doc.images.untagged} untagged of which ${doc.images.digestOnly} digest-only), ${doc.images.layers} layers`,
  );
  lines.push(`containers: ${doc.containers.total} (${doc.containers.running} running)`);
  for (const s of doc.stacks) {
    lines.push(
      `stack ${s.name} (${s.kind}${s.run ? ', run' : ''}): ${s.live ? 'live' : 'down'}, ${s.containers} live containers, ${s.services} services`,
    );
  }
  for (const s of doc.services)
    lines.push(
      `service ${s.name}: ${s.running}/${s.desired} ${s.state}${s.updateState ? ` (${s.updateState})` : ''}`,
    );
  if (doc.sync.reason) lines.push(`sync: ${doc.sync.reason}`);
  lines.push(`prune: ${doc.candidates} candidates now; next boundary ${doc.nextBoundary}`);
  if (doc.removal && !doc.removal.allowed)
    lines.push(`prune: nothing will be removed: ${doc.removal.reason}`);
  if (doc.lastPrune.lastEvaluatedBoundary !== undefined)
    lines.push(
      `last prune: boundary ${new Date(doc.lastPrune.lastEvaluatedBoundary).toISOString()}${doc.lastPrune.lastOutcome ? `, ${doc.lastPrune.lastOutcome}` : ''}`,
    );
  return `${lines.join('\n')}\n`;
}
