import { currentDockerContext } from '../docker/docker-host.js';
import { LayerwardenError } from '../errors.js';
import { type Config, OPTION_SPECS, type Source } from './options.js';
import { unknownVariable } from './variables.js';

export interface Resolved {
  config: Config;
  sources: Record<keyof Config, Source>;
  /** Where each value came from, as an operator would look for it: `--disk-high`, `LAYERWARDEN_TZ`, `TZ`,
   * `config file key "tz"`, `docker context "ci"`, `STATE_DIRECTORY`, `default`. */
  origins: Record<keyof Config, string>;
}

/** Commander's attribute name for a flag: `--disk-high <percent>` → `diskHigh`. */
export function attributeOf(flag: string): string {
  const long = (flag.split(' ')[0] as string).replace(/^--/, '');
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export interface ResolveOptions {
  /** Names a variable's origin beyond its name, e.g. `LAYERWARDEN_TZ (/etc/layerwarden/layerwarden.env)`. */
  envOrigin?: (name: string) => string;
  /** Names a flag's origin beyond its name, e.g. `--listen (ExecStart= of the unit)`. */
  flagOrigin?: (flag: string) => string;
}

/**
 * The effective configuration. Precedence, highest first: command-line flag, `LAYERWARDEN_*` variable,
 * config file, the host's own setting the docker CLI or systemd use (`DOCKER_HOST`, the docker context,
 * `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`, `TZ`, `STATE_DIRECTORY`), default. Any value that does not
 * parse, and any `LAYERWARDEN_*` variable that is no option, is a one-line `config` error naming where
 * it came from.
 */
export function resolveConfig(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
  file: Record<string, unknown> = {},
  opts: ResolveOptions = {},
): Resolved {
  const envName = opts.envOrigin ?? ((n: string) => n);
  const flagName = opts.flagOrigin ?? ((f: string) => f);
  const unknown = unknownVariable(env);
  if (unknown) throw new LayerwardenError('config', envName(unknown.name).concat(`: ${unknown.message}`));
  const config: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  const origins: Record<string, string> = {};
  for (const s of OPTION_SPECS) {
    const attr = attributeOf(s.flag);
    const candidates: Array<[Source, unknown, string]> = [
      ['flag', flags[attr], flagName(s.flag.split(' ')[0] as string)],
      ['env', env[s.env], envName(s.env)],
      ['file', file[attr], `config file key "${attr}"`],
    ];
    let hit = candidates.find(([, v]) => v !== undefined && v !== '');
    if (!hit && s.inherit) {
      const inherited = s.inherit(env);
      if (inherited) hit = ['inherited', inherited.raw, envName(inherited.from)];
    }
    if (hit) {
      const [source, raw, where] = hit;
      const value = s.parse(String(raw));
      if (value === undefined)
        throw new LayerwardenError('config', `${where}: "${String(raw)}" is not ${s.expects}`);
      config[s.key] = value;
      sources[s.key] = source;
      origins[s.key] = where;
    } else {
      const value = s.fallback(env);
      if (value !== undefined) config[s.key] = value;
      sources[s.key] = 'default';
      origins[s.key] = 'default';
    }
  }
  const c = config as unknown as Config;
  const resolved = { config: c, sources, origins } as Resolved;
  contextTls(resolved, env);
  if (c.diskLowPercent !== undefined && c.diskLowPercent >= c.diskHighPercent) {
    throw new LayerwardenError(
      'config',
      `${origins.diskLowPercent} (${c.diskLowPercent}) must be below ${origins.diskHighPercent} (${c.diskHighPercent})`,
    );
  }
  return resolved;
}

/** An engine taken from a docker context brings that context's TLS files, as it does for the docker CLI. */
function contextTls(r: Resolved, env: NodeJS.ProcessEnv): void {
  if (!r.origins.dockerHost.startsWith('docker context')) return;
  const context = currentDockerContext(env);
  if (!context?.tlsDir) return;
  const from = `docker context "${context.name}"`;
  if (r.sources.tls === 'default') {
    r.config.tls = context.skipTlsVerify ? 'no-verify' : 'verify';
    [r.sources.tls, r.origins.tls] = ['inherited', from];
  }
  if (r.sources.tlsCertPath === 'default') {
    r.config.tlsCertPath = context.tlsDir;
    [r.sources.tlsCertPath, r.origins.tlsCertPath] = ['inherited', from];
  }
}
