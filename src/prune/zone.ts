import { readlinkSync, realpathSync, statSync } from 'node:fs';

/**
 * Time zones without `Intl.DateTimeFormat`. Any date-time format, even one built only to check a zone's
 * name, maps ICU's locale data into the process: about 8 MB of resident memory for the agent's lifetime
 * (docs/benchmarks.md, "at rest"). The process clock reads a zone from `TZ` for almost nothing, so the
 * agent validates the configured zone with the cheap means below and then adopts it as the process's
 * own (`adoptZone`); the schedule reads local time from then on.
 */

/** Names whose offset is zero at every instant: the schedule reads them as UTC, with no zone data at all. */
const ZERO_OFFSET = /^(?:Etc\/)?(?:UTC|UCT|GMT|GMT[+-]?0|Universal|Zulu|Greenwich)$/;

export const isUtcZone = (tz: string): boolean => ZERO_OFFSET.test(tz);

const ZONEINFO = '/usr/share/zoneinfo';
/** Instants whose offset differs from zero in every zone ICU knows but the zero-offset ones (local mean time included). */
const PROBE_YEARS = [1800, 1900, 1950, 1980, 2000, 2024];

/** Runs `read` with the process clock in `tz`, then puts the process's own zone back. */
function inZone<T>(tz: string, read: () => T): T {
  const saved = process.env.TZ;
  process.env.TZ = tz;
  try {
    return read();
  } finally {
    if (saved === undefined) Reflect.deleteProperty(process.env, 'TZ');
    else process.env.TZ = saved;
  }
}

/** An unknown `TZ` leaves the process clock at UTC, silently; a known zone has an offset somewhere. */
const localClockKnows = (tz: string): boolean =>
  inZone(tz, () =>
    PROBE_YEARS.some(
      (y) => new Date(y, 0, 1).getTimezoneOffset() !== 0 || new Date(y, 6, 1).getTimezoneOffset() !== 0,
    ),
  );

/** The name tzdata itself gives `tz` (links followed: Eire → Europe/Dublin), if it has the zone. */
function tzdataName(tz: string): string | undefined {
  if (tz.split('/').some((part) => part === '' || part === '.' || part === '..')) return undefined;
  try {
    const root = `${realpathSync(ZONEINFO)}/`;
    const file = realpathSync(`${ZONEINFO}/${tz}`);
    return file.startsWith(root) && statSync(file).isFile() ? file.slice(root.length) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The zone name the process clock can adopt for `name`, or undefined when no such zone is known. Cheap for
 * the zero-offset names, the names ICU lists, and the names of the system's tzdata, taken as tzdata names
 * them: ICU lists Asia/Kolkata as Asia/Calcutta, and reads `TZ=Eire` wrong but Europe/Dublin right
 * (test/prune/zone.test.ts holds every tzdata name to `Intl`'s reading). Anything else is left to `Intl`,
 * which also canonicalizes (asia/tokyo → Asia/Tokyo) and is paid for only then.
 */
export function resolveZone(name: string): string | undefined {
  const tz = name.trim();
  if (!tz) return undefined;
  if (isUtcZone(tz) || Intl.supportedValuesOf('timeZone').includes(tz)) return tz;
  const known = tzdataName(tz);
  if (known && (isUtcZone(known) || localClockKnows(known))) return known;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * The system's zone, as the C library finds it: the zoneinfo name `/etc/localtime` links to, UTC when
 * there is no such file; a copied file (no link to read) is left to `Intl`.
 */
export function systemZone(localtime = '/etc/localtime'): string {
  try {
    const m = /(?:^|\/)zoneinfo\/(?:posix\/|right\/)?(.+)$/.exec(readlinkSync(localtime));
    if (m?.[1]) return m[1];
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return 'UTC';
  }
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * Makes `tz` the process's own zone, so that a schedule parsed after it reads the process clock instead of
 * a date-time format. Nothing in the agent reads local time but the schedule (its records carry UTC).
 */
export function adoptZone(tz: string): void {
  if (isUtcZone(tz) || process.env.TZ === tz) return;
  process.env.TZ = tz;
}
