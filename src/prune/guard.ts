import type { Aborted, ExecuteRequest, ExecutorDeps, SettleHint } from './execute-types.js';
import { busyText } from '../records/busy.js';
import { belowLowWater, storeGate } from './gates.js';

export type Guard =
  | { ok: true }
  | { ok: false; lowWater: true; disk: { usedPercent?: number; reason?: string } }
  | { ok: false; lowWater?: false; aborted: Aborted };

/**
 * Before every removal: the model settled, the host still idle, the image store still one the agent
 * may remove on (a daemon restarted mid-run may come back on the containerd store), the disk still
 * above low-water.
 */
export async function guard(deps: ExecutorDeps, req: ExecuteRequest, hint: SettleHint): Promise<Guard> {
  if (req.stopRequested?.()) return { ok: false, aborted: { reason: 'agent stopping', retryable: false } };
  const settle = await deps.live.settle(hint);
  if (!settle.ok) return { ok: false, aborted: { reason: settle.reason, retryable: false } };
  const idle = deps.live.idle();
  if (!idle?.idle) {
    const busy = idle ? idle.busy.map(busyText) : ['busy: no model yet'];
    return { ok: false, aborted: { reason: 'host busy', busy, retryable: false } };
  }
  const store = storeGate(deps.live.model()?.engine?.imageStore, req.allowContainerdStoreRemoval === true);
  if (!store.pass) return { ok: false, aborted: { reason: store.reason ?? 'image store', retryable: false } };
  if (req.diskLowPercent !== undefined) {
    const disk = await deps.readDisk();
    if (belowLowWater(disk, req.diskLowPercent))
      return {
        ok: false,
        lowWater: true,
        disk: disk.ok ? { usedPercent: disk.usedPercent } : { reason: `disk unknown: ${disk.reason}` },
      };
  }
  return { ok: true };
}
