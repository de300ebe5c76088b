import type { DeployRow, PullSummary, PullTotals } from './pull-report.js';
import { pullRowMarkdown } from './render-line.js';
import { bold, cell, formatBytes, type ReportFormat, type Style, shortId } from './style.js';

/** The summary at the end of `watch --report` and from `report FILE`, in the format asked for. */
export function renderSummary(summary: PullSummary, format: ReportFormat, style: Style): string {
  if (format === 'json') return `${JSON.stringify({ type: 'summary', ...summary })}\n`;
  return format === 'markdown' ? markdown(summary) : text(summary, style);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function classCounts(t: PullTotals): string {
  const repeats = t.repeats ? ` (${plural(t.repeats, 'repeat')})` : '';
  return `${t.cold} cold, ${t.partial} partial, ${t.warm} warm${repeats}${t.unknown ? `, ${t.unknown} unknown` : ''}`;
}

function bytesLine(t: PullTotals): string {
  const all = t.bytesDownloaded + t.bytesReused;
  const local = all > 0 ? ` (${Math.round((100 * t.bytesReused) / all)} % served locally)` : '';
  const unknown = t.bytesUnknown ? `; bytes unknown for ${plural(t.bytesUnknown, 'pull')}` : '';
  return `downloaded ${formatBytes(t.bytesDownloaded)}, reused ${formatBytes(t.bytesReused)}${local}${unknown}`;
}

/** What a deploy cost: its pulls by class and what was downloaded, or that nothing was pulled. */
function deployPulls(d: DeployRow): string {
  if (d.pulls.length === 0) return 'no pull (image already here): nothing downloaded';
  const by = (cls: string) => d.pulls.filter((p) => p.class === cls).length;
  const repeats = d.pulls.filter((p) => p.repeat).length;
  const parts = (['cold', 'partial', 'warm', 'unknown'] as const).filter(by).map((c) => `${by(c)} ${c}`);
  const rep = repeats ? ` (${plural(repeats, 'repeat')})` : '';
  return `${plural(d.pulls.length, 'pull')}: ${parts.join(', ')}${rep}; ${
    d.layersDownloaded
      ? `${plural(d.layersDownloaded, 'layer')} downloaded, ${formatBytes(d.bytesDownloaded)}`
      : 'nothing downloaded'
  }`;
}

const deployName = (d: DeployRow) => `${d.service}${d.stack ? ` (stack ${d.stack})` : ''}`;

function text(s: PullSummary, style: Style): string {
  const t = s.totals;
  const lines = [
    bold(`Pull summary: ${plural(t.pulls, 'pull')}: ${classCounts(t)}`, style),
    `  ${bytesLine(t)}`,
  ];
  if (s.images.length) {
    lines.push('', bold('By image:', style));
    for (const i of s.images)
      lines.push(
        `  ${shortId(i.image)}  ${i.refs.join(', ')}  ${plural(i.pulls, 'pull')} (${i.cold} cold, ${i.partial} partial, ${i.warm} warm)  downloaded ${formatBytes(i.bytesDownloaded)}, reused ${formatBytes(i.bytesReused)}`,
      );
  }
  if (s.deploys.length) {
    lines.push('', bold('By deploy:', style));
    for (const d of s.deploys)
      lines.push(`  ${deployName(d)}  ${d.cause}, stable after ${d.seconds.toFixed(1)} s  ${deployPulls(d)}`);
  }
  if (s.budget.length) {
    lines.push('', bold('Registry budget:', style));
    for (const b of s.budget)
      lines.push(
        `  ${b.registry}  ${b.threshold}: ${b.pulls} pulls in ${b.windowHours} h (budget ${b.budget})`,
      );
  }
  if (s.pullsNotListed) lines.push('', `(${s.pullsNotListed} pulls counted but not listed)`);
  return `${lines.join('\n')}\n`;
}

function markdown(s: PullSummary): string {
  const t = s.totals;
  const out = ['## Pull summary', '', `${plural(t.pulls, 'pull')}: ${classCounts(t)}; ${bytesLine(t)}.`];
  if (s.pulls.length) {
    out.push(
      '',
      '### Pulls',
      '',
      '| time | class | ref | image | new/total layers | downloaded | reused | note |',
    );
    out.push('|---|---|---|---|---|---|---|---|', ...s.pulls.map(pullRowMarkdown));
  }
  if (s.images.length) {
    out.push(
      '',
      '### By image',
      '',
      '| image | refs | pulls | cold | partial | warm | downloaded | reused |',
    );
    out.push('|---|---|---|---|---|---|---|---|');
    for (const i of s.images)
      out.push(
        `| \`${shortId(i.image)}\` | ${cell(i.refs.join(', '))} | ${i.pulls} | ${i.cold} | ${i.partial} | ${i.warm} | ${formatBytes(i.bytesDownloaded)} | ${formatBytes(i.bytesReused)} |`,
      );
  }
  if (s.deploys.length) {
    out.push('', '### By deploy', '', '| service | cause | stable after | pulls |', '|---|---|---|---|');
    for (const d of s.deploys)
      out.push(
        `| ${cell(deployName(d))} | ${d.cause} | ${d.seconds.toFixed(1)} s | ${cell(deployPulls(d))} |`,
      );
  }
  if (s.budget.length) {
    out.push(
      '',
      '### Registry budget',
      '',
      '| registry | level | pulls | window | budget |',
      '|---|---|---|---|---|',
    );
    for (const b of s.budget)
      out.push(`| ${cell(b.registry)} | ${b.threshold} | ${b.pulls} | ${b.windowHours} h | ${b.budget} |`);
  }
  if (s.pullsNotListed) out.push('', `_${s.pullsNotListed} pulls counted but not listed._`);
  return `${out.join('\n')}\n`;
}
