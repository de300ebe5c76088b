/** The results table, as text for the terminal and as markdown for docs/benchmarks.md. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fmt } from './stats.js';
import type { BenchResult } from './types.js';

export interface RunInfo {
  date: string;
  quick: boolean;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; kernel: string };
  node: string;
  engine?: { version: string; api: string; storage?: string };
  dockerCli?: string;
  loadBefore: number[];
  loadAfter?: number[];
  seconds?: number;
}

export function machineInfo(): RunInfo['machine'] {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    // not Linux: os.cpus() is what we have
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
  };
}

export function dockerCliVersion(): string | undefined {
  try {
    return execFileSync('docker', ['version', '--format', '{{.Client.Version}}'], {
      env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent' },
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch (err) {
    // Without a daemon the CLI exits 1 but has printed its own version.
    const out = (err as { stdout?: Buffer }).stdout?.toString().trim();
    return out || undefined;
  }
}

const verdict = (r: BenchResult) => (r.met ? 'met' : 'MISSED');

function cells(r: BenchResult): string[] {
  return [
    r.name,
    `${fmt(r.figure)} ${r.unit}`,
    r.baseline === null ? '—' : `${fmt(r.baseline)} ${r.baselineUnit}`,
    r.target,
    verdict(r),
  ];
}

const HEAD = ['benchmark', 'figure', 'baseline (same run)', 'target', ''];

export function textTable(results: readonly BenchResult[]): string {
  const rows = [HEAD, ...results.map(cells)];
  const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(HEAD), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

const esc = (s: string) => s.replaceAll('|', '\\|');

export function markdown(results: readonly BenchResult[], info: RunInfo): string {
  const m = info.machine;
  const lines = [
    `Run of ${info.date}${info.quick ? ' (quick smoke mode: counts too small to be figures)' : ''}: ` +
      `${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.kernel}; Node ${info.node}` +
      (info.engine
        ? `; dockerd ${info.engine.version} (API ${info.engine.api}${info.engine.storage ? `, ${info.engine.storage}` : ''})`
        : '; no engine') +
      (info.dockerCli ? `; docker CLI ${info.dockerCli}` : '') +
      `; load average ${info.loadBefore.map((x) => x.toFixed(2)).join(' ')} before` +
      (info.loadAfter ? `, ${info.loadAfter.map((x) => x.toFixed(2)).join(' ')} after` : '') +
      (info.seconds ? `; ${fmt(info.seconds)} s in all.` : '.'),
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => '---').join('|')}|`,
    ...results.map((r) => `| ${cells(r).map(esc).join(' | ')} |`),
    '',
    ...results.map((r) => `- **${esc(r.name)}**: ${r.note}`),
  ];
  return `${lines.join('\n')}\n`;
}
