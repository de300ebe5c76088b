import { addToSummary, emptySummary, type PullSummary } from './pull-report.js';
import type { NodeKey } from './cluster.js';
import { readRecord } from './read-record.js';

/** Records the audit section reads; other records are dropped as they are read. */
const AUDITED = new Set(['eviction', 'pull', 'engine.prune', 'prune.decision']);

export interface LogReading {
  summary: PullSummary;
  /** Non-empty lines read. */
  lines: number;
  /** Lines that are not JSON objects, or report records missing what the report needs. */
  bad: number;
  /** 1-based number of the first bad line. */
  firstBad?: number;
  /** Lines that are records of the log stream (any event). */
  records: number;
  /** The records the eviction audit needs (src/report/audit.ts). */
  audited: Record<string, unknown>[];
}

/**
 * Rebuilds the pull summary from a saved NDJSON log stream (the `pull`, `service.converged` and
 * `pull.budget` records carry everything the live report used), and keeps the records of the audit. Other records are passed over; a bad
 * line is counted and skipped, never fatal.
 */
export async function readLog(lines: AsyncIterable<string>): Promise<LogReading> {
  const reading = emptyReading();
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() !== '') addLine(reading, parseLine(line), n);
  }
  return reading;
}

function emptyReading(): LogReading {
  return { summary: emptySummary(), lines: 0, bad: 0, records: 0, audited: [] };
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** Adds one non-empty line (parsed, or undefined when it is not JSON) to a reading. */
function addLine(reading: LogReading, parsed: unknown, n: number): void {
  reading.lines++;
  const item = readRecord(parsed);
  // A log record names its event; any other JSON (a config file, an array) is not one.
  if (item === 'bad' || typeof (parsed as { event?: unknown }).event !== 'string') {
    reading.bad++;
    reading.firstBad ??= n;
    return;
  }
  reading.records++;
  if (item !== 'other') addToSummary(reading.summary, item);
  const event = (parsed as { event?: unknown }).event;
  if (typeof event === 'string' && AUDITED.has(event))
    reading.audited.push(parsed as Record<string, unknown>);
}

export interface NodeReading {
  node: NodeKey;
  reading: LogReading;
}

/**
 * Reads several saved log streams (one per node, or merged) into one reading per node, keyed by the
 * records' `node.id` (docs/log-schema.md), and one for them all. A record without `node` (the few a
 * `watch` writes before it first reached its engine) belongs to the node of the next record of the same
 * source that names one (held until then: a start's first list at most), or to the source itself.
 */
export async function readLogs(
  sources: Array<{ name: string; lines: AsyncIterable<string> }>,
): Promise<{ all: LogReading; nodes: NodeReading[] }> {
  const all = emptyReading();
  const nodes = new Map<string, NodeReading>();
  const readingOf = (node: NodeKey) => {
    const known = nodes.get(node.id);
    if (known) return known.reading;
    const reading = emptyReading();
    nodes.set(node.id, { node, reading });
    return reading;
  };
  for (const source of sources) {
    let held: Array<{ parsed: unknown; n: number }> = [];
    let n = 0;
    for await (const line of source.lines) {
      n++;
      if (line.trim() === '') continue;
      const parsed = parseLine(line);
      addLine(all, parsed, n);
      const node = nodeOf(parsed);
      if (!node) {
        held.push({ parsed, n });
        continue;
      }
      const reading = readingOf(node);
      for (const h of held) addLine(reading, h.parsed, h.n);
      held = [];
      addLine(reading, parsed, n);
    }
    if (held.length === 0) continue;
    const reading = readingOf({ id: source.name });
    for (const h of held) addLine(reading, h.parsed, h.n);
  }
  return { all, nodes: [...nodes.values()] };
}

function nodeOf(parsed: unknown): NodeKey | undefined {
  const node = (parsed as { node?: { id?: unknown; name?: unknown } } | undefined)?.node;
  if (typeof node?.id !== 'string' || node.id === '') return undefined;
  return { id: node.id, ...(typeof node.name === 'string' && { name: node.name }) };
}
