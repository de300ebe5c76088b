import { homedir } from 'node:os';
import { join } from 'node:path';
import { LOG_LEVELS, type LogLevel } from '../log/logger.js';
import { DEFAULT_QUIET_PERIOD_MS } from '../model/idle.js';
import { DEFAULT_PULL_BUDGET } from '../model/images/pull-budget.js';
import { DEFAULT_CONTAINERD_ROOT } from '../prune/filesystems.js';
import { CONTAINERD_STORE_OPT_IN, DEFAULT_DISK_HIGH_PERCENT } from '../prune/gates.js';
import { DEFAULT_MIN_AGE_MS } from '../prune/plan.js';
import { DEFAULT_CRON, DEFAULT_WINDOW_MS } from '../prune/schedule.js';
import { DEFAULT_BACKOFF } from '../streams/backoff.js';
import { DEFAULT_SILENCE_MS } from '../streams/engine-events.js';
import { DEFAULT_RESYNC_MS } from '../streams/model-loop.js';
import { parseDuration } from './duration.js';

/** The effective configuration every command works from, validated before any work starts. */
export interface Config {
  dockerHost: string;
  stateFile: string;
  diskHighPercent: number;
  diskLowPercent?: number;
  /** Measured in place of the engine's root dir (several: the fullest decides). */
  diskPaths?: string[];
  /** containerd's root, measured besides them on the containerd image store. */
  containerdRoot: string;
  /** Removal on the containerd image store (off until the suite has run on a real engine with it). */
  allowContainerdStoreRemoval: boolean;
  minAgeMs: number;
  schedule: string;
  tz: string;
  windowMs: number;
  quietPeriodMs: number;
  runStack: RegExp;
  ignoreStack?: RegExp;
  listen?: { host: string; port: number };
  logLevel: LogLevel;
  logFile?: string;
  resyncMs: number;
  /** Silence on the events stream after which the engine is pinged (a ping that hangs recycles the stream). */
  watchdogMs: number;
  /** Ceiling of the reconnect backoff; also the retry interval when the socket refuses us (EACCES). */
  reconnectMaxMs: number;
  pullBudget: number;
}

export type Source = 'flag' | 'env' | 'file' | 'default';

/** One shared option: its flag, its environment variable, how to read it and its default. */
export interface OptionSpec<K extends keyof Config = keyof Config> {
  key: K;
  flag: string;
  env: string;
  help: string;
  parse: (text: string) => Config[K] | undefined;
  /** Why `parse` said no, for the one-line error. */
  expects: string;
  /**
   * `list`: the flag may be repeated and each source may hold a comma-separated list (a config file
   * also a JSON array); `switch`: a flag without a value (env and file: true/false).
   */
  kind?: 'list' | 'switch';
  fallback: () => Config[K] | undefined;
}

const percent = (t: string) => {
  const n = Number(t.replace(/%$/, ''));
  return t.trim() !== '' && Number.isFinite(n) && n > 0 && n <= 100 ? n : undefined;
};
const regex = (t: string) => {
  try {
    return new RegExp(t);
  } catch {
    return undefined;
  }
};
const hostPort = (t: string) => {
  // A bare port (`9465` or `:9465`) binds loopback: nothing is exposed unless a host is named.
  const m = /^(?:(\[[^\]]+\]|[^:]+)?:)?(\d{1,5})$/.exec(t.trim());
  const port = Number(m?.[2]);
  // Port 0 asks the kernel for a free port (the startup line says which): tests run several agents at once.
  return m && port >= 0 && port < 65536
    ? { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port }
    : undefined;
};
const positiveDuration = (t: string) => {
  const ms = parseDuration(t);
  return ms !== undefined && ms > 0 ? ms : undefined;
};
const nonEmpty = (t: string) => (t.trim() ? t.trim() : undefined);
/** A comma-separated list of non-empty items (`a,b`; a repeated flag arrives joined this way). */
const pathList = (t: string) => {
  const items = t.split(',').map((x) => x.trim());
  return items.length > 0 && items.every((x) => x !== '') ? items : undefined;
};
const SWITCH: Record<string, boolean> = {
  true: true,
  '1': true,
  yes: true,
  false: false,
  '0': false,
  no: false,
};
const onOff = (t: string) => SWITCH[t.trim().toLowerCase()];

/** Where state lives when not told: systemd's StateDirectory, else /var/lib for root, else the user's state dir. */
export function defaultStateFile(env: NodeJS.ProcessEnv = process.env): string {
  const stateDir = env.STATE_DIRECTORY?.split(':')[0];
  if (stateDir) return join(stateDir, 'state.json');
  if (process.getuid?.() === 0) return '/var/lib/layerwarden/state.json';
  return join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'layerwarden', 'state.json');
}

function spec<K extends keyof Config>(s: OptionSpec<K>): OptionSpec<K> {
  return s;
}

export const OPTION_SPECS = [
  spec({
    key: 'dockerHost',
    flag: '--docker-host <url>',
    env: 'LAYERWARDEN_DOCKER_HOST',
    help: 'engine address (default: DOCKER_HOST, else the local socket)',
    parse: nonEmpty,
    expects: 'unix:///path or tcp://host:port',
    fallback: () => process.env.DOCKER_HOST || 'unix:///var/run/docker.sock',
  }),
  spec({
    key: 'stateFile',
    flag: '--state-file <path>',
    env: 'LAYERWARDEN_STATE_FILE',
    help: "where the agent's clocks persist",
    parse: nonEmpty,
    expects: 'a path',
    fallback: () => defaultStateFile(),
  }),
  spec({
    key: 'diskHighPercent',
    flag: '--disk-high <percent>',
    env: 'LAYERWARDEN_DISK_HIGH',
    help: 'prune only at or above this disk usage (default 80)',
    parse: percent,
    expects: 'a percentage above 0, at most 100',
    fallback: () => DEFAULT_DISK_HIGH_PERCENT,
  }),
  spec({
    key: 'diskLowPercent',
    flag: '--disk-low <percent>',
    env: 'LAYERWARDEN_DISK_LOW',
    help: 'stop pruning once usage is below this',
    parse: percent,
    expects: 'a percentage above 0, at most 100',
    fallback: () => undefined,
  }),
  spec({
    key: 'diskPaths',
    flag: '--disk-path <path>',
    env: 'LAYERWARDEN_DISK_PATH',
    help: "filesystems to measure in place of the engine's root dir; repeat or comma-separate for several (the fullest decides)",
    parse: pathList,
    expects: 'a path, or paths separated by commas',
    kind: 'list',
    fallback: () => undefined,
  }),
  spec({
    key: 'containerdRoot',
    flag: '--containerd-root <path>',
    env: 'LAYERWARDEN_CONTAINERD_ROOT',
    help: `containerd's root, also measured on the containerd image store (default ${DEFAULT_CONTAINERD_ROOT})`,
    parse: nonEmpty,
    expects: 'a path',
    fallback: () => DEFAULT_CONTAINERD_ROOT,
  }),
  spec({
    key: 'allowContainerdStoreRemoval',
    flag: CONTAINERD_STORE_OPT_IN,
    env: 'LAYERWARDEN_ALLOW_CONTAINERD_STORE_REMOVAL',
    help: 'remove on the containerd image store too (off: observe and plan only, docs/containerd-store.md)',
    parse: onOff,
    expects: 'true or false',
    kind: 'switch',
    fallback: () => false,
  }),
  spec({
    key: 'minAgeMs',
    flag: '--min-age <duration>',
    env: 'LAYERWARDEN_MIN_AGE',
    help: 'untouched at least this long to be pruned (default 24h)',
    parse: positiveDuration,
    expects: 'a duration like 24h',
    fallback: () => DEFAULT_MIN_AGE_MS,
  }),
  spec({
    key: 'schedule',
    flag: '--schedule <cron>',
    env: 'LAYERWARDEN_SCHEDULE',
    help: 'daily boundary (default "0 0 * * *", midnight)',
    parse: nonEmpty,
    expects: 'a cron expression',
    fallback: () => DEFAULT_CRON,
  }),
  spec({
    key: 'tz',
    flag: '--tz <zone>',
    env: 'LAYERWARDEN_TZ',
    help: 'time zone of the schedule (default: local)',
    parse: nonEmpty,
    expects: 'an IANA time zone',
    fallback: () => Intl.DateTimeFormat().resolvedOptions().timeZone,
  }),
  spec({
    key: 'windowMs',
    flag: '--window <duration>',
    env: 'LAYERWARDEN_WINDOW',
    help: 'how long after a boundary the first idle moment may prune (default 6h)',
    parse: positiveDuration,
    expects: 'a duration like 6h',
    fallback: () => DEFAULT_WINDOW_MS,
  }),
  spec({
    key: 'quietPeriodMs',
    flag: '--quiet-period <duration>',
    env: 'LAYERWARDEN_QUIET_PERIOD',
    help: 'busy this long after a pull or container start (default 5m)',
    parse: (t) => parseDuration(t),
    expects: 'a duration like 5m',
    fallback: () => DEFAULT_QUIET_PERIOD_MS,
  }),
  spec({
    key: 'runStack',
    flag: '--run-stack <regex>',
    env: 'LAYERWARDEN_RUN_STACK',
    help: 'stacks that count as runs (default: all)',
    parse: regex,
    expects: 'a regular expression',
    fallback: () => /.*/,
  }),
  spec({
    key: 'ignoreStack',
    flag: '--ignore-stack <regex>',
    env: 'LAYERWARDEN_IGNORE_STACK',
    help: 'stacks that never count as runs (permanent infrastructure)',
    parse: regex,
    expects: 'a regular expression',
    fallback: () => undefined,
  }),
  spec({
    key: 'listen',
    flag: '--listen <[host:]port>',
    env: 'LAYERWARDEN_LISTEN',
    help: 'serve /healthz, /metrics and /v1/status, e.g. 127.0.0.1:9465; a bare port binds 127.0.0.1 (off by default)',
    parse: hostPort,
    expects: '[host:]port, e.g. 127.0.0.1:9465',
    fallback: () => undefined,
  }),
  spec({
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'LAYERWARDEN_LOG_LEVEL',
    help: `log level (${LOG_LEVELS.join(', ')}; default info)`,
    parse: (t) => (LOG_LEVELS.includes(t as LogLevel) ? (t as LogLevel) : undefined),
    expects: LOG_LEVELS.join('|'),
    fallback: () => 'info' as LogLevel,
  }),
  spec({
    key: 'logFile',
    flag: '--log-file <path>',
    env: 'LAYERWARDEN_LOG_FILE',
    help: 'write the log stream to this file (reopened on SIGHUP)',
    parse: nonEmpty,
    expects: 'a path',
    fallback: () => undefined,
  }),
  spec({
    key: 'resyncMs',
    flag: '--resync <duration>',
    env: 'LAYERWARDEN_RESYNC',
    help: 'periodic full re-list and diff (default 5m)',
    parse: positiveDuration,
    expects: 'a duration like 5m',
    fallback: () => DEFAULT_RESYNC_MS,
  }),
  spec({
    key: 'watchdogMs',
    flag: '--watchdog <duration>',
    env: 'LAYERWARDEN_WATCHDOG',
    help: 'ping the engine after this long without a byte on the events stream (default 30s)',
    parse: positiveDuration,
    expects: 'a duration like 30s',
    fallback: () => DEFAULT_SILENCE_MS,
  }),
  spec({
    key: 'reconnectMaxMs',
    flag: '--reconnect-max <duration>',
    env: 'LAYERWARDEN_RECONNECT_MAX',
    help: 'longest wait between reconnect attempts, and the retry interval on EACCES (default 30s)',
    parse: positiveDuration,
    expects: 'a duration like 30s',
    fallback: () => DEFAULT_BACKOFF.maxMs,
  }),
  spec({
    key: 'pullBudget',
    flag: '--pull-budget <count>',
    env: 'LAYERWARDEN_PULL_BUDGET',
    help: 'pulls per registry per 6h before a warning (default 200)',
    parse: (t) => (/^\d+$/.test(t) && Number(t) > 0 ? Number(t) : undefined),
    expects: 'a positive whole number',
    fallback: () => DEFAULT_PULL_BUDGET.limit,
  }),
] as const;
