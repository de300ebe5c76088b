import { shortId } from '../docker/short-id.js';
import type { AuditEviction, AuditSection, EvictionCause } from './audit-types.js';

import { formatBytes, type ReportFormat } from './style.js';

export type AuditFormat = ReportFormat;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
/** An image as an operator knows it: its first ref, and the short id. */
const imageName = (e: Pick<AuditEviction, 'refs' | 'image'>) =>
  e.refs.length > 0 ? `${e.refs[0]} (${shortId(e.image)})` : shortId(e.image);
const causeName = (c: Pick<EvictionCause, 'by' | 'activity' | 'at'>) =>
  `${c.by} ${c.activity === 'engine-prune' ? 'engine prune' : c.activity} at ${c.at}`;
const freed = (bytes: number, unknown: number) =>
  `freed ${formatBytes(bytes)}${unknown > 0 ? ` (+${plural(unknown, 'eviction')} of unknown size)` : ''}`;

/** Compact `name: pass (key value, …)` per gate; the gates' shape belongs to the prune decision. */
function gateText(name: string, gate: unknown): string {
  if (typeof gate !== 'object' || gate === null) return `${name}: ${String(gate)}`;
  const { pass, ...rest } = gate as Record<string, unknown>;
  const values = Object.entries(rest)
    .filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : shortNumber(v)}`);
  const verdict = pass === true ? 'pass' : pass === false ? 'fail' : '?';
  return `${name}: ${verdict}${values.length ? ` (${values.join(', ')})` : ''}`;
}

/** Figures such as a disk percentage to one decimal; anything else as it is. */
const shortNumber = (v: unknown): string =>
  typeof v === 'number' && !Number.isInteger(v) ? String(Math.round(v * 10) / 10) : String(v);

function text(s: AuditSection): string {
  const out: string[] = ['Eviction audit'];
  const actors = s.evictions.byActor.map((a) => `${a.by} ${a.evictions}`).join(', ');
  out.push(
    `  evictions: ${s.evictions.total}${actors ? ` (${actors})` : ''}, freed ${formatBytes(s.evictions.freedBytes)}`,
  );
  for (const a of s.evictions.byActor)
    out.push(
      `    by ${a.by}: ${plural(a.evictions, 'eviction')}, ${a.duringRun} during runs, ${freed(a.freedBytes, a.unknownBytes)}`,
    );
  out.push(`  evictions during runs: ${s.duringRun.length}`);
  for (const e of s.duringRun)
    out.push(`    ${e.at}  ${e.by} ${e.activity}  ${imageName(e)}  stacks: ${e.stacks.join(', ')}`);
  out.push(`  re-pulls caused by evictions: ${s.rePulls.total}, ${formatBytes(s.rePulls.bytes)} downloaded`);
  for (const c of s.rePulls.byCause)
    out.push(
      `    ${causeName(c)}: ${plural(c.evictions, 'eviction')} caused ${plural(c.rePulls, 're-pull')} (${c.cold} cold, ${c.partial} partial), ${formatBytes(c.bytes)}`,
    );
  for (const p of s.rePulls.pulls)
    out.push(
      `      ${p.at}  ${p.class} ${p.ref}  ${formatBytes(p.bytes)}  after ${p.eviction.by} ${p.eviction.activity} at ${p.eviction.at}`,
    );
  out.push(`  engine prunes: ${s.enginePrunes.length}`);
  for (const p of s.enginePrunes)
    out.push(
      `    ${p.at}  ${p.what}  reclaimed ${formatBytes(p.reclaimed)}${p.evictions !== undefined ? `, ${plural(p.evictions, 'eviction')} (${p.claimedBy ?? 'burst'})` : ''}`,
    );
  out.push(`  prune decisions: ${s.pruneDecisions.length}`);
  for (const d of s.pruneDecisions) {
    const gates = Object.entries(d.gates).map(([k, g]) => gateText(k, g));
    out.push(`    ${d.at}  ${d.fired ? 'fired' : 'held'}  ${gates.join('; ')}`);
    for (const r of d.reasons) out.push(`      - ${r}`);
  }
  return `${out.join('\n')}\n`;
}

const cell = (v: string) => v.replaceAll('|', '\\|');
function table(head: string[], rows: string[][]): string[] {
  if (rows.length === 0) return ['(none)'];
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => ' --- |').join('')}`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

function markdown(s: AuditSection): string {
  const out: string[] = ['## Eviction audit', ''];
  out.push(`${plural(s.evictions.total, 'eviction')}, freed ${formatBytes(s.evictions.freedBytes)}.`, '');
  out.push('### Evictions by actor', '');
  out.push(
    ...table(
      ['by', 'evictions', 'during runs', 'freed'],
      s.evictions.byActor.map((a) => [a.by, `${a.evictions}`, `${a.duringRun}`, formatBytes(a.freedBytes)]),
    ),
    '',
  );
  out.push('### Evictions during runs', '');
  out.push(
    ...table(
      ['time', 'image', 'by', 'activity', 'stacks'],
      s.duringRun.map((e) => [e.at, imageName(e), e.by, e.activity, e.stacks.join(', ')]),
    ),
    '',
  );
  out.push('### Re-pulls caused by evictions', '');
  out.push(`${plural(s.rePulls.total, 're-pull')}, ${formatBytes(s.rePulls.bytes)} downloaded.`, '');
  out.push(
    ...table(
      ['cause', 'evictions', 're-pulls', 'cold', 'partial', 'bytes'],
      s.rePulls.byCause.map((c) => [
        causeName(c),
        `${c.evictions}`,
        `${c.rePulls}`,
        `${c.cold}`,
        `${c.partial}`,
        formatBytes(c.bytes),
      ]),
    ),
    '',
  );
  out.push('### Prune decisions', '');
  out.push(
    ...table(
      ['time', 'fired', 'gates'],
      s.pruneDecisions.map((d) => [
        d.at,
        d.fired ? 'yes' : 'no',
        Object.entries(d.gates)
          .map(([k, g]) => gateText(k, g))
          .join('; '),
      ]),
    ),
  );
  return `${out.join('\n')}\n`;
}

/** The audit section as text for a terminal, JSON for machines, or Markdown for a CI summary. */
export function renderAudit(section: AuditSection, format: AuditFormat): string {
  if (format === 'json') return `${JSON.stringify(section, null, 2)}\n`;
  return format === 'markdown' ? markdown(section) : text(section);
}
