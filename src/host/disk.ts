import { statfs } from 'node:fs/promises';
import { type DiskReading, diskReadingFromStatfs } from '../prune/gates.js';

/** Reads the filesystem holding `path`; any failure is an unknown reading (which never lets a prune fire). */
export async function readDisk(path: string): Promise<DiskReading> {
  try {
    return diskReadingFromStatfs(path, await statfs(path));
  } catch (err) {
    return { path, ok: false, reason: `statfs failed: ${(err as Error).message}` };
  }
}
