import { statfs } from 'node:fs/promises';
import type { EngineInfo } from '../docker/types.js';
import { type FilesystemSettings, imageFilesystems } from '../prune/filesystems.js';
import { type DiskReading, diskReadingFromStatfs, type ImageDiskReading } from '../prune/gates.js';

/** Reads the filesystem holding `path`; any failure is an unknown reading (which never lets a prune fire). */
export async function readDisk(path: string): Promise<DiskReading> {
  try {
    return diskReadingFromStatfs(path, await statfs(path));
  } catch (err) {
    return { path, ok: false, reason: `statfs failed: ${(err as Error).message}` };
  }
}

/**
 * Reads every filesystem that holds this engine's images (prune/filesystems.ts says which), each
 * reading labelled with why it was measured. `read` is `statfs` in production.
 */
export async function readImageDisks(
  engine: EngineInfo | undefined,
  settings: FilesystemSettings,
  read: (path: string) => Promise<DiskReading> = readDisk,
): Promise<ImageDiskReading[]> {
  const paths = imageFilesystems(engine, settings);
  return Promise.all(paths.map(async (p) => ({ ...(await read(p.path)), role: p.role })));
}
