/**
 * The eviction audit of a saved log stream: evictions by actor, evictions during runs, re-pulls they
 * caused (with bytes) and the prune decisions with their gates. Pure: records in, a section out.
 */
export { renderAudit } from './audit-render.js';

import { num, obj, strings, text } from './json-fields.js';
import type { ActorTotals, AuditEviction, AuditSection, EvictionCause, RePull } from './audit-types.js';

export type { ActorTotals, AuditEviction, AuditSection, EvictionCause, RePull } from './audit-types.js';

type Rec = Record<string, unknown>;

const str = (v: unknown, fallback = ''): string => text(v) ?? fallback;
/** The record's own time (`at`, the event's) when it has one, else the time it was logged. */
const timeOf = (r: Rec): string => str(r.at, str(r.time));

function toEviction(r: Rec): AuditEviction {
  const prune = obj(r.prune);
  const freed = num(r.freedBytes);
  return {
    at: timeOf(r),
    image: str(r.image),
    refs: strings(r.refs),
    by: str(r.by, 'external'),
    activity: str(r.activity, 'unknown'),
    duringRun: r.duringRun === true,
    stacks: strings(r.stacks),
    ...(freed !== undefined && { freedBytes: freed }),
    ...(typeof prune.at === 'string' && { pruneAt: prune.at }),
  };
}

const causeKey = (e: { by: string; activity: string; at: string; pruneAt?: string }) =>
  e.activity === 'engine-prune' && e.pruneAt
    ? `${e.by}|engine-prune|${e.pruneAt}`
    : `${e.by}|${e.activity}|${e.at}`;

/** Builds the audit section from parsed log records (anything that is not an audited record is ignored). */
export function auditSection(records: Iterable<unknown>): AuditSection {
  const evictions: AuditEviction[] = [];
  const links: Array<{ pull: Rec; link: Rec }> = [];
  const section: AuditSection = {
    evictions: { total: 0, freedBytes: 0, byActor: [], byActivity: {} },
    duringRun: [],
    rePulls: { total: 0, bytes: 0, byCause: [], pulls: [] },
    enginePrunes: [],
    pruneDecisions: [],
  };
  for (const raw of records) {
    const r = obj(raw);
    switch (r.event) {
      case 'eviction':
        evictions.push(toEviction(r));
        break;
      case 'pull':
        if (typeof r.afterEviction === 'object' && r.afterEviction !== null)
          links.push({ pull: r, link: obj(r.afterEviction) });
        break;
      case 'engine.prune':
        section.enginePrunes.push({
          at: timeOf(r),
          what: str(r.what),
          reclaimed: num(r.reclaimed) ?? 0,
          ...(num(r.evictions) !== undefined && { evictions: num(r.evictions) }),
          ...(typeof r.claimedBy === 'string' && { claimedBy: r.claimedBy }),
        });
        break;
      case 'prune.decision':
        section.pruneDecisions.push({
          at: timeOf(r),
          fired: r.fire === true, // the record says `fire` (docs/log-schema.md); `fired` is this section's word
          gates: obj(r.gates),
          reasons: strings(r.reasons),
        });
        break;
    }
  }

  const actors = new Map<string, ActorTotals>();
  const causes = new Map<string, EvictionCause>();
  const causeOf = (e: { by: string; activity: string; at: string; pruneAt?: string }) => {
    const key = causeKey(e);
    let c = causes.get(key);
    if (!c) {
      c = {
        by: e.by,
        activity: e.activity,
        at: e.pruneAt ?? e.at,
        evictions: 0,
        rePulls: 0,
        cold: 0,
        partial: 0,
        bytes: 0,
      };
      causes.set(key, c);
    }
    return c;
  };
  for (const e of evictions) {
    const a = actors.get(e.by) ?? { by: e.by, evictions: 0, duringRun: 0, freedBytes: 0, unknownBytes: 0 };
    actors.set(e.by, a);
    a.evictions++;
    if (e.duringRun) a.duringRun++;
    if (e.freedBytes === undefined) a.unknownBytes++;
    else a.freedBytes += e.freedBytes;
    section.evictions.byActivity[e.activity] = (section.evictions.byActivity[e.activity] ?? 0) + 1;
    if (e.duringRun) section.duringRun.push(e);
    causeOf(e).evictions++;
  }
  section.evictions.total = evictions.length;
  section.evictions.freedBytes = [...actors.values()].reduce((n, a) => n + a.freedBytes, 0);
  section.evictions.byActor = [...actors.values()].sort((x, y) => y.evictions - x.evictions);

  for (const { pull, link } of links) {
    // The link was made when the pull was classified; the eviction record has the settled activity.
    const logged = evictions.find((e) => e.image === link.image && e.at === link.at);
    const eviction = logged
      ? {
          at: logged.at,
          by: logged.by,
          activity: logged.activity,
          image: logged.image,
          ...(logged.pruneAt && { pruneAt: logged.pruneAt }),
        }
      : {
          at: str(link.at),
          by: str(link.by, 'external'),
          activity: str(link.activity, 'unknown'),
          image: str(link.image),
          ...(typeof link.pruneAt === 'string' && { pruneAt: link.pruneAt }),
        };
    const bytes = num(obj(pull.bytes).downloaded) ?? 0;
    const cls = str(pull.class);
    section.rePulls.pulls.push({ at: timeOf(pull), ref: str(pull.ref), class: cls, bytes, eviction });
    const cause = causeOf(eviction);
    cause.rePulls++;
    if (cls === 'cold') cause.cold++;
    if (cls === 'partial') cause.partial++;
    cause.bytes += bytes;
    section.rePulls.total++;
    section.rePulls.bytes += bytes;
  }
  section.rePulls.byCause = [...causes.values()]
    .filter((c) => c.rePulls > 0)
    .sort((x, y) => y.bytes - x.bytes || y.rePulls - x.rePulls || x.at.localeCompare(y.at));
  return section;
}

/** Parses NDJSON text into records; lines that are not JSON objects are counted, not fatal. */
export function parseLogLines(text: string): { records: Rec[]; skipped: number } {
  const records: Rec[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    const parsed = parseLogLine(line);
    if (parsed === undefined) continue;
    if (parsed === null) skipped++;
    else records.push(parsed);
  }
  return { records, skipped };
}

/** One line: a record, `undefined` for a blank line, `null` for a line that is not a JSON object. */
export function parseLogLine(line: string): Rec | null | undefined {
  if (!line.trim()) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : null;
  } catch {
    return null;
  }
}
