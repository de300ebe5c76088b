import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  currentDockerContext,
  DEFAULT_DOCKER_HOST,
  DOCKER_HOST_FORMS,
  dockerConfigDir,
  parseDockerHost,
  TLS_MODES,
  type TlsMode,
} from '../docker/docker-host.js';
import { LOG_LEVELS, type LogLevel } from '../log/logger.js';
import { DEFAULT_QUIET_PERIOD_MS } from '../model/idle.js';
import { DEFAULT_PULL_BUDGET } from '../model/images/pull-budget.js';
import { DEFAULT_CONTAINERD_ROOT } from '../prune/filesystems.js';
import { CONTAINERD_STORE_OPT_IN, DEFAULT_DISK_HIGH_PERCENT } from '../prune/gates.js';
import { DEFAULT_MIN_AGE_MS } from '../prune/plan.js';
import { DEFAULT_CRON, DEFAULT_WINDOW_MS, parseSchedule } from '../prune/schedule.js';
import { resolveZone, systemZone } from '../prune/zone.js';
import { DEFAULT_BACKOFF } from '../streams/backoff.js';
import { DEFAULT_SILENCE_MS } from '../streams/engine-events.js';
import { DEFAULT_RESYNC_MS } from '../streams/model-loop.js';
import { parseDuration } from './duration.js';

/** The effective configuration every command works from, validated before any work starts. */
export interface Config {
  dockerHost: string;
  /** TLS to a tcp:// engine, as the docker CLI's DOCKER_TLS_VERIFY. */
  tls: TlsMode;
  /** ca.pem, cert.pem, key.pem, as the docker CLI's DOCKER_CERT_PATH. */
  tlsCertPath: string;
  /** How long a one-shot command waits for any one answer of the engine. */
  timeoutMs: number;
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

/**
 * Where a value came from: a flag, a `LAYERWARDEN_*` variable, the config file, a variable or file of the
 * host that the docker CLI or systemd also read (`DOCKER_HOST`, `TZ`, `STATE_DIRECTORY`, the docker
 * context: `inherited`), or the default. `Resolved.origins` names the exact one.
 */
export type Source = 'flag' | 'env' | 'file' | 'inherited' | 'default';

/** A value an option takes from the host's own settings when nothing of ours sets it: its text and where. */
export interface Inherited {
  raw: string;
  from: string;
}

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
  /** The host's own setting this option follows when unset (validated like a flag, errors naming it). */
  inherit?: (env: NodeJS.ProcessEnv) => Inherited | undefined;
  fallback: (env: NodeJS.ProcessEnv) => Config[K] | undefined;
  /** `watch` only (the resident agent), or one-shot commands only; every command reads it otherwise. */
  only?: 'watch' | 'one-shot';
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
/** A bound as an operator writes it: `100ms`, `1s`, `10m`, `24h`. */
const boundText = (ms: number) =>
  ms % 3_600_000 === 0
    ? `${ms / 3_600_000}h`
    : ms % 60_000 === 0
      ? `${ms / 60_000}m`
      : ms % 1000 === 0
        ? `${ms / 1000}s`
        : `${ms}ms`;
/** A duration within [min, max] ms, and the `expects` text that says so. */
const bounded = (min: number, max: number) => ({
  parse: (t: string) => {
    const ms = parseDuration(t);
    return ms !== undefined && ms >= min && ms <= max ? ms : undefined;
  },
  expects: `a duration from ${boundText(min)} to ${boundText(max)}`,
});
const timeZone = (t: string) => resolveZone(t);
/** Validated as the schedule will be (five or six fields, a pattern that fires); its zone is checked apart. */
const cron = (t: string) => {
  try {
    parseSchedule({ cron: t.trim(), tz: 'UTC' });
    return t.trim();
  } catch {
    return undefined;
  }
};
const dockerHost = (t: string) => (parseDockerHost(t) ? t.trim() : undefined);
/** `TZ` as the C library reads it: `:Europe/Berlin`, a zoneinfo path, or a zone name; `/etc/localtime` is the system's. */
const inheritTz = (env: NodeJS.ProcessEnv): Inherited | undefined => {
  const raw = env.TZ?.replace(/^:/, '').trim();
  if (!raw || raw === '/etc/localtime') return undefined;
  const m = /\/zoneinfo\/(.+)$/.exec(raw);
  return { raw: m ? (m[1] as string) : raw, from: 'TZ' };
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

/** Where state lives when not told and not under systemd: /var/lib for root, else the user's state dir. */
export function defaultStateFile(env: NodeJS.ProcessEnv = process.env): string {
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
    help: 'engine address (default: DOCKER_HOST, else the docker CLI context, else the local socket)',
    parse: dockerHost,
    expects: `${DOCKER_HOST_FORMS} (ssh:// is not supported)`,
    inherit: (env) => {
      if (env.DOCKER_HOST) return { raw: env.DOCKER_HOST, from: 'DOCKER_HOST' };
      const context = currentDockerContext(env);
      return context && { raw: context.host, from: `docker context "${context.name}"` };
    },
    fallback: () => DEFAULT_DOCKER_HOST,
  }),
  spec({
    key: 'tls',
    flag: '--tls <mode>',
    env: 'LAYERWARDEN_TLS',
    help: "TLS to a tcp:// engine: off, verify (the engine's certificate against ca.pem) or no-verify (default: verify when DOCKER_TLS_VERIFY is set)",
    parse: (t) => (TLS_MODES.includes(t.trim() as TlsMode) ? (t.trim() as TlsMode) : undefined),
    expects: TLS_MODES.join('|'),
    // The docker CLI turns TLS verification on for any non-empty DOCKER_TLS_VERIFY.
    inherit: (env) => (env.DOCKER_TLS_VERIFY ? { raw: 'verify', from: 'DOCKER_TLS_VERIFY' } : undefined),
    fallback: () => 'off' as TlsMode,
  }),
  spec({
    key: 'tlsCertPath',
    flag: '--tls-cert-path <dir>',
    env: 'LAYERWARDEN_TLS_CERT_PATH',
    help: 'directory of ca.pem, cert.pem and key.pem for --tls (default: DOCKER_CERT_PATH, else ~/.docker)',
    parse: nonEmpty,
    expects: 'a directory',
    inherit: (env) =>
      env.DOCKER_CERT_PATH ? { raw: env.DOCKER_CERT_PATH, from: 'DOCKER_CERT_PATH' } : undefined,
    fallback: (env) => dockerConfigDir(env),
  }),
  spec({
    key: 'timeoutMs',
    flag: '--timeout <duration>',
    env: 'LAYERWARDEN_TIMEOUT',
    help: 'how long status, plan and prune --now wait for any one answer of the engine (default 10s)',
    ...bounded(1_000, 300_000),
    fallback: () => 10_000,
    only: 'one-shot',
  }),
  spec({
    key: 'stateFile',
    flag: '--state-file <path>',
    env: 'LAYERWARDEN_STATE_FILE',
    help: "where the agent's clocks persist (default: $STATE_DIRECTORY/state.json under systemd)",
    parse: nonEmpty,
    expects: 'a path',
    // systemd's StateDirectory= sets it (the first entry when there are several).
    inherit: (env) => {
      const dir = env.STATE_DIRECTORY?.split(':')[0];
      return dir ? { raw: join(dir, 'state.json'), from: 'STATE_DIRECTORY' } : undefined;
    },
    fallback: (env) => defaultStateFile(env),
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
    parse: cron,
    expects: 'a cron expression of five or six fields (e.g. "0 0 * * *") that fires',
    fallback: () => DEFAULT_CRON,
  }),
  spec({
    key: 'tz',
    flag: '--tz <zone>',
    env: 'LAYERWARDEN_TZ',
    help: "time zone of the schedule (default: TZ, else the system's)",
    parse: timeZone,
    expects: 'an IANA time zone (e.g. Europe/Berlin)',
    inherit: inheritTz,
    fallback: () => systemZone(),
  }),
  spec({
    key: 'windowMs',
    flag: '--window <duration>',
    env: 'LAYERWARDEN_WINDOW',
    help: 'how long after a boundary the first idle moment may prune (default 6h, 1s to 24h)',
    ...bounded(1_000, 86_400_000),
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
    only: 'watch',
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
    help: 'periodic full re-list and diff (default 5m, 1s to 24h)',
    ...bounded(1_000, 86_400_000),
    fallback: () => DEFAULT_RESYNC_MS,
    only: 'watch',
  }),
  spec({
    key: 'watchdogMs',
    flag: '--watchdog <duration>',
    env: 'LAYERWARDEN_WATCHDOG',
    help: 'ping the engine after this long without a byte on the events stream (default 30s, 1s to 10m)',
    ...bounded(1_000, 600_000),
    fallback: () => DEFAULT_SILENCE_MS,
    only: 'watch',
  }),
  spec({
    key: 'reconnectMaxMs',
    flag: '--reconnect-max <duration>',
    env: 'LAYERWARDEN_RECONNECT_MAX',
    help: 'longest wait between reconnect attempts, and the retry interval on EACCES (default 30s, 10ms to 1h)',
    ...bounded(10, 3_600_000),
    fallback: () => DEFAULT_BACKOFF.maxMs,
    only: 'watch',
  }),
  spec({
    key: 'pullBudget',
    flag: '--pull-budget <count>',
    env: 'LAYERWARDEN_PULL_BUDGET',
    help: 'pulls per registry per 6h before a warning (default 200)',
    parse: (t) => (/^\d+$/.test(t) && Number(t) > 0 ? Number(t) : undefined),
    expects: 'a positive whole number',
    fallback: () => DEFAULT_PULL_BUDGET.limit,
    only: 'watch',
  }),
] as const;
