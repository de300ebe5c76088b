import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BenchEngine } from './engine-context.js';

/** CPU seconds (user + system) of a process so far, from /proc (clock ticks of 1/100 s). */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The private engine's dockerd (scripts/private-engine.sh gives it --pidfile DIR/dockerd.pid). */
export async function dockerdPid(be: BenchEngine): Promise<number> {
  return Number((await readFile(path.join(be.engine.dir, 'dockerd.pid'), 'utf8')).trim());
}
