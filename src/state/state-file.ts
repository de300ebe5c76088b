import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ImageClocks, Model } from '../model/types.js';

/** What survives a restart: the agent's clocks per image and the prune's bookkeeping. */
export interface AgentState {
  version: 1;
  /** The engine these clocks belong to (`/info` ID); clocks from another engine are not ours. */
  engineId?: string;
  savedAt: string;
  images: Record<string, ImageClocks>;
  prune: {
    /** The last boundary (ms) an evaluation ran for: at most one per boundary, across restarts. */
    lastEvaluatedBoundary?: number;
    lastRunAt?: number;
    lastOutcome?: string;
  };
}

export const emptyState = (): AgentState => ({
  version: 1,
  savedAt: new Date(0).toISOString(),
  images: {},
  prune: {},
});

export type LoadResult = { state: AgentState; warning?: string; movedTo?: string };

const isClocks = (v: unknown): v is ImageClocks => {
  const c = v as ImageClocks | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    Number.isFinite(c.firstSeen) &&
    Number.isFinite(c.lastUsed) &&
    (c.untaggedSince === undefined || Number.isFinite(c.untaggedSince))
  );
};

function validate(raw: unknown): AgentState | string {
  const r = raw as Partial<AgentState> | null;
  if (typeof r !== 'object' || r === null) return 'not an object';
  if (r.version !== 1) return `unknown version ${JSON.stringify(r.version)}`;
  if (typeof r.images !== 'object' || r.images === null) return 'no images';
  for (const [id, clocks] of Object.entries(r.images))
    if (!isClocks(clocks)) return `bad clocks for ${id.slice(0, 19)}`;
  const prune = typeof r.prune === 'object' && r.prune !== null ? r.prune : {};
  return {
    version: 1,
    ...(typeof r.engineId === 'string' && { engineId: r.engineId }),
    savedAt: String(r.savedAt ?? ''),
    images: r.images,
    prune,
  };
}

/**
 * Reads the state file. A missing file is a fresh start. A file that does not parse or validate is moved
 * aside (never deleted: it is evidence) and the agent starts fresh, so its clocks restart at now and
 * nothing becomes eligible early.
 */
export async function loadState(
  path: string,
  now: number,
  opts: { readOnly?: boolean } = {},
): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') return { state: emptyState() };
    if (opts.readOnly && code === 'EACCES')
      return { state: emptyState(), warning: `state file ${path} not readable; ignored` };
    throw err;
  }
  let parsed: unknown;
  let problem: string;
  try {
    parsed = JSON.parse(text);
    const v = validate(parsed);
    if (typeof v !== 'string') return { state: v };
    problem = v;
  } catch {
    problem = 'not valid JSON';
  }
  if (opts.readOnly)
    return { state: emptyState(), warning: `state file ${path} unusable (${problem}); ignored` };
  const movedTo = await moveAside(path, now);
  return {
    state: emptyState(),
    warning: `state file ${path} unusable (${problem}); moved to ${movedTo}`,
    movedTo,
  };
}

export async function moveAside(path: string, now: number): Promise<string> {
  const to = `${path}.bad-${new Date(now).toISOString().replace(/[:.]/g, '')}`;
  await rename(path, to);
  return to;
}

/** Writes the state atomically: a temp file in the same directory, fsync, rename over the old one. */
export async function saveState(path: string, state: AgentState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(state)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** The clocks of every image in the model, plus saved clocks of images not seen again yet. */
export function stateFromModel(model: Model, prune: AgentState['prune'], now: number): AgentState {
  const images: Record<string, ImageClocks> = {};
  for (const [id, c] of model.savedClocks) images[id] = c;
  for (const [id, img] of model.images) {
    images[id] = {
      firstSeen: img.firstSeen,
      lastUsed: img.lastUsed,
      ...(img.untaggedSince !== undefined && { untaggedSince: img.untaggedSince }),
    };
  }
  return {
    version: 1,
    ...(model.engine?.id && { engineId: model.engine.id }),
    savedAt: new Date(now).toISOString(),
    images,
    prune,
  };
}

export function clocksOf(state: AgentState): Map<string, ImageClocks> {
  return new Map(Object.entries(state.images));
}
