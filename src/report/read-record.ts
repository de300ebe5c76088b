/** Reading log records (live notes or saved NDJSON lines) into what the pull report is made of. */
import type { PullClass } from '../model/types.js';
import type { Accepted, PullRow } from './pull-report.js';

import { count, isObj, type Json, text } from './json-fields.js';

const CLASSES: ReadonlySet<string> = new Set(['cold', 'partial', 'warm', 'unknown']);

/**
 * Reads a log record (a reducer note or a parsed NDJSON line): `pull`, `service.converged` and
 * `pull.budget` are what the report is made of; any other event is `other`; one of those three that
 * lacks what the report needs is `bad`.
 */
export function readRecord(r: unknown): Accepted | 'other' | 'bad' {
  if (!isObj(r)) return 'bad';
  switch (r.event) {
    case 'pull':
      return readPull(r) ?? 'bad';
    case 'service.converged':
      return readDeploy(r) ?? 'bad';
    case 'pull.budget': {
      const [registry, pulls, budget, windowHours] = [
        text(r.registry),
        count(r.pulls),
        count(r.budget),
        count(r.windowHours),
      ];
      const threshold = text(r.threshold);
      if (!registry || pulls === undefined || budget === undefined || windowHours === undefined || !threshold)
        return 'bad';
      return { kind: 'budget', row: { registry, pulls, budget, windowHours, threshold } };
    }
    default:
      return 'other';
  }
}

function readPull(r: Json): Accepted | undefined {
  const ref = text(r.ref);
  const at = text(r.at);
  const cls = text(r.class);
  if (!ref || !at || !cls || !CLASSES.has(cls)) return undefined;
  const layers = isObj(r.layers) ? r.layers : {};
  const bytes = isObj(r.bytes) ? r.bytes : {};
  const row: PullRow = {
    ref,
    registry: text(r.registry) ?? '',
    class: cls as PullClass,
    layers: { total: count(layers.total) ?? 0, new: count(layers.new) ?? 0 },
    bytes: {
      downloaded: count(bytes.downloaded) ?? 0,
      reused: count(bytes.reused) ?? 0,
      known: cls !== 'unknown' && bytes.known !== false,
    },
    stacks: Array.isArray(r.stacks) ? r.stacks.filter((s): s is string => typeof s === 'string') : [],
    at,
  };
  if (text(r.image)) row.image = r.image as string;
  if (typeof r.upToDate === 'boolean') row.upToDate = r.upToDate;
  if (text(r.repeatOf)) row.repeatOf = r.repeatOf as string;
  if (text(r.previous)) row.previous = r.previous as string;
  return { kind: 'pull', row };
}

function readDeploy(r: Json): Accepted | undefined {
  const service = text(r.service);
  const seconds = count(r.seconds);
  if (!service || seconds === undefined) return undefined;
  const pulls = (Array.isArray(r.pulls) ? r.pulls : []).filter(isObj).flatMap((p) => {
    const ref = text(p.ref);
    const cls = text(p.class);
    if (!ref || !cls || !CLASSES.has(cls)) return [];
    return [
      {
        ref,
        ...(text(p.image) && { image: p.image as string }),
        class: cls as PullClass,
        ...(p.repeat === true && { repeat: true }),
      },
    ];
  });
  return {
    kind: 'deploy',
    row: {
      service,
      ...(text(r.stack) && { stack: r.stack as string }),
      ...(text(r.image) && { image: r.image as string }),
      cause: text(r.cause) ?? 'observed',
      ...(text(r.since) && { since: r.since as string }),
      seconds,
      pulls,
      layersDownloaded: count(r.layersDownloaded) ?? 0,
      bytesDownloaded: count(r.bytesDownloaded) ?? 0,
    },
  };
}
