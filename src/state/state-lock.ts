import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import os from 'node:os';
import { dirname } from 'node:path';

/** Who holds a state file: written into `<state file>.lock` by the process that prunes with it. */
export interface LockHolder {
  pid: number;
  /** The holder's start time in clock ticks since boot (`/proc/<pid>/stat`), to tell a reused pid. */
  start?: number;
  host: string;
  command: string;
  since: string;
}

export type LockResult =
  | { kind: 'acquired'; release: () => Promise<void>; tookOverFrom?: LockHolder | 'unreadable' }
  | { kind: 'held'; holder: LockHolder };

/** Field 22 of `/proc/<pid>/stat`: when the process started; undefined where there is no /proc. */
export function processStart(pid: number | 'self'): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    return Number.isSafeInteger(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/** True when the holder is another process that is still running (the same pid, started at the same tick). */
function alive(holder: LockHolder): boolean {
  if (holder.host !== os.hostname() || holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as { code?: string }).code !== 'EPERM') return false;
  }
  const start = processStart(holder.pid);
  return holder.start === undefined || start === undefined || start === holder.start;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isSafeInteger(h.pid) || typeof h.host !== 'string') return undefined;
    return {
      pid: h.pid as number,
      host: h.host,
      command: String(h.command ?? '?'),
      since: String(h.since ?? '?'),
      ...(Number.isSafeInteger(h.start) && { start: h.start as number }),
    };
  } catch {
    return undefined;
  }
}

/**
 * Takes `<stateFile>.lock` for this process: one pruning agent per state file, so that two never race
 * each other's removals nor overwrite each other's boundary record. A lock left by a process that is no
 * longer running (a crash, SIGKILL, a container restarted; a reused pid is told apart by its start
 * time) or by another host name (a recreated container), or one that cannot be read, is taken over.
 * Two processes taking over the same stale lock at the same moment can both succeed: that window is
 * the length of an unlink and an exclusive create.
 */
export async function lockState(stateFile: string, command: string, now: number): Promise<LockResult> {
  const path = `${stateFile}.lock`;
  const me: LockHolder = {
    pid: process.pid,
    host: os.hostname(),
    command,
    since: new Date(now).toISOString(),
    ...(processStart('self') !== undefined && { start: processStart('self') }),
  };
  await mkdir(dirname(path), { recursive: true });
  let tookOverFrom: LockHolder | 'unreadable' | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx', 0o644);
      try {
        await file.writeFile(`${JSON.stringify(me)}\n`);
      } finally {
        await file.close();
      }
      const release = async () => {
        const text = await readFile(path, 'utf8').catch(() => '');
        if (parseHolder(text)?.pid === process.pid) await unlink(path).catch(() => {});
      };
      return { kind: 'acquired', release, ...(tookOverFrom && { tookOverFrom }) };
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
    const holder = parseHolder(await readFile(path, 'utf8').catch(() => ''));
    if (holder && alive(holder)) return { kind: 'held', holder };
    tookOverFrom = holder ?? 'unreadable';
    await unlink(path).catch(() => {});
  }
  const holder = parseHolder(await readFile(path, 'utf8').catch(() => ''));
  return { kind: 'held', holder: holder ?? { pid: 0, host: '?', command: '?', since: '?' } };
}

/** The live process that holds `<stateFile>.lock`, if one does: a look that creates nothing. */
export async function lockHolder(stateFile: string): Promise<LockHolder | undefined> {
  const holder = parseHolder(await readFile(`${stateFile}.lock`, 'utf8').catch(() => ''));
  return holder && alive(holder) ? holder : undefined;
}

/** One line for an operator: who holds the state file. */
export function holderText(stateFile: string, h: LockHolder): string {
  return `state file ${stateFile} is in use by layerwarden ${h.command} (pid ${h.pid} on ${h.host}, since ${h.since})`;
}
