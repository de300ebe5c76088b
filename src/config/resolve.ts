import { LayerwardenError } from '../errors.js';
import { type Config, OPTION_SPECS, type Source } from './options.js';

export interface Resolved {
  config: Config;
  sources: Record<keyof Config, Source>;
}

/** Commander's attribute name for a flag: `--disk-high <percent>` → `diskHigh`. */
export function attributeOf(flag: string): string {
  const long = (flag.split(' ')[0] as string).replace(/^--/, '');
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The effective configuration. Precedence, highest first: command-line flag, `LAYERWARDEN_*` variable,
 * config file, default. Any value that does not parse is a one-line `config` error naming where it came from.
 */
export function resolveConfig(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
  file: Record<string, unknown> = {},
): Resolved {
  const config: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  for (const s of OPTION_SPECS) {
    const attr = attributeOf(s.flag);
    const candidates: Array<[Source, unknown, string]> = [
      ['flag', flags[attr], s.flag.split(' ')[0] as string],
      ['env', env[s.env], s.env],
      ['file', file[attr], `config file key "${attr}"`],
    ];
    const hit = candidates.find(([, v]) => v !== undefined && v !== '');
    if (hit) {
      const [source, raw, where] = hit;
      const value = s.parse(String(raw));
      if (value === undefined)
        throw new LayerwardenError('config', `${where}: "${String(raw)}" is not ${s.expects}`);
      config[s.key] = value;
      sources[s.key] = source;
    } else {
      const value = s.fallback();
      if (value !== undefined) config[s.key] = value;
      sources[s.key] = 'default';
    }
  }
  const c = config as unknown as Config;
  if (c.diskLowPercent !== undefined && c.diskLowPercent >= c.diskHighPercent) {
    throw new LayerwardenError(
      'config',
      `--disk-low (${c.diskLowPercent}) must be below --disk-high (${c.diskHighPercent})`,
    );
  }
  return { config: c, sources: sources as Record<keyof Config, Source> };
}
