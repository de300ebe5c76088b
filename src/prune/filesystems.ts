import type { EngineInfo } from '../docker/types.js';
import type { DiskReading, DiskRole } from './gates.js';

/**
 * containerd's own default root (`defaults.DefaultRootDir`). The Docker API does not say where a
 * system containerd keeps its data (`/info` `Containerd` has only its address and namespaces), so the
 * agent measures this unless told otherwise (`--containerd-root`; docs/containerd-store.md).
 */
export const DEFAULT_CONTAINERD_ROOT = '/var/lib/containerd';

export interface MeasuredPath {
  path: string;
  role: DiskRole;
}

export interface FilesystemSettings {
  /** `--disk-path`: the paths measured in place of the engine's `DockerRootDir` (as the agent sees them). */
  diskPaths?: readonly string[];
  /** `--containerd-root`: measured besides them on the containerd image store. */
  containerdRoot?: string;
}

/**
 * Every path whose filesystem holds images: the Docker root (or the operator's `--disk-path`s in its
 * place) and, on the containerd image store, containerd's root. A path named twice is measured once.
 * Empty before the engine has said where its root is and no path was named.
 */
export function imageFilesystems(engine: EngineInfo | undefined, s: FilesystemSettings): MeasuredPath[] {
  const out: MeasuredPath[] = [];
  const add = (path: string, role: DiskRole) => {
    if (path !== '' && !out.some((p) => p.path === path)) out.push({ path, role });
  };
  if (s.diskPaths && s.diskPaths.length > 0) for (const p of s.diskPaths) add(p, 'disk-path');
  else if (engine) add(engine.dockerRootDir, 'docker-root');
  if (engine?.imageStore === 'containerd')
    add(s.containerdRoot ?? DEFAULT_CONTAINERD_ROOT, 'containerd-root');
  return out;
}

/**
 * The reading that decides: any unknown one (an unknown filesystem never lets a prune fire), else the
 * fullest. No path at all is unknown too.
 */
export function decidingReading(readings: readonly DiskReading[]): DiskReading {
  const unknown = readings.find((r) => !r.ok);
  if (unknown) return unknown;
  let fullest: DiskReading | undefined;
  for (const r of readings) if (r.ok && (!fullest?.ok || r.usedPercent > fullest.usedPercent)) fullest = r;
  return (
    fullest ?? {
      path: '',
      ok: false,
      reason: 'no filesystem to measure (the engine has not said where its root is)',
    }
  );
}
