import type { ClusterSection, NodeKey } from './cluster.js';
import { bold, cell, formatBytes, type ReportFormat, type Style } from './style.js';

/** `name (ABCD:EFGH…)`: the engine's name and the start of its ID (every node may share the name). */
export function nodeLabel(n: NodeKey): string {
  return n.name ? `${n.name} (${n.id.slice(0, 14)})` : n.id;
}

/** The cluster table and the shared pull-through cache figures, as text or Markdown. */
export function renderCluster(
  c: ClusterSection,
  format: Exclude<ReportFormat, 'json'>,
  style: Style,
): string {
  const head = ['node', 'pulls', 'cold', 'partial', 'warm', 'downloaded', 'evictions'];
  const rows = c.nodes.map((n) => [
    nodeLabel(n),
    `${n.pulls}`,
    `${n.cold}`,
    `${n.partial}`,
    `${n.warm}`,
    formatBytes(n.bytesDownloaded),
    `${n.evictions}`,
  ]);
  const cache = c.sharedCache;
  const cacheLine = `A shared pull-through cache would have served ${cache.pulls} pull${cache.pulls === 1 ? '' : 's'}, ${formatBytes(cache.bytes)} (downloads of an image another node already held)`;
  const cacheHead = ['day', 'registry', 'pulls', 'bytes'];
  const cacheRows = cache.byDay.map((d) => [d.day, d.registry, `${d.pulls}`, formatBytes(d.bytes)]);
  if (format === 'markdown') {
    const table = (h: string[], r: string[][]) => [
      `| ${h.join(' | ')} |`,
      `|${h.map(() => '---').join('|')}|`,
      ...r.map((x) => `| ${x.map(cell).join(' | ')} |`),
    ];
    return `${[`## Cluster: ${c.nodes.length} nodes`, '', ...table(head, rows), '', cacheLine, '', ...(cacheRows.length ? table(cacheHead, cacheRows) : [])].join('\n')}\n`;
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    `  ${r.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ')}`;
  const out = [bold(`Cluster: ${c.nodes.length} nodes`, style), line(head), ...rows.map(line), '', cacheLine];
  for (const d of cache.byDay)
    out.push(
      `  ${d.day}  ${d.registry}  ${d.pulls} pull${d.pulls === 1 ? '' : 's'}  ${formatBytes(d.bytes)}`,
    );
  return `${out.join('\n')}\n`;
}
