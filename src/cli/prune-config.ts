import type { PruneSettings } from '../agent/boundary-runner.js';
import type { Config } from '../config/options.js';
import { parseSchedule, type Schedule } from '../prune/schedule.js';
import { adoptZone } from '../prune/zone.js';

/**
 * The prune schedule of the configuration; a bad cron or zone is a `config` error (exit 2). The command's
 * process adopts the schedule's zone first, so the schedule reads the process clock (zone.ts).
 */
export function scheduleOf(config: Config): Schedule {
  adoptZone(config.tz);
  return parseSchedule({ cron: config.schedule, tz: config.tz, windowMs: config.windowMs });
}

/** The prune's thresholds from the configuration. */
export function pruneSettings(config: Config): PruneSettings {
  return {
    minAgeMs: config.minAgeMs,
    diskHighPercent: config.diskHighPercent,
    ...(config.diskLowPercent !== undefined && { diskLowPercent: config.diskLowPercent }),
    ...(config.diskPaths !== undefined && { diskPaths: config.diskPaths }),
    containerdRoot: config.containerdRoot,
    allowContainerdStoreRemoval: config.allowContainerdStoreRemoval,
  };
}
