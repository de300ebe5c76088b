import type { Command } from 'commander';
import { formatDuration } from '../config/duration.js';
import { type Config, OPTION_SPECS, type Source } from '../config/options.js';
import { attributeOf } from '../config/resolve.js';
import { action, configFrom, withSharedOptions } from './shared.js';

export interface ConfigRow {
  /** The config file key (the flag's camelCase attribute). */
  key: string;
  flag: string;
  env: string;
  /** The effective value as a flag would take it; null when unset. */
  value: string | null;
  source: Source;
}

/** A value written back the way an operator would type it (durations as `24h`-style, regexes by source). */
export function displayValue(key: keyof Config, value: Config[keyof Config] | undefined): string | null {
  if (value === undefined) return null;
  if (value instanceof RegExp) return value.source;
  if (Array.isArray(value)) return value.join(',');
  if (key === 'listen' && typeof value === 'object') {
    const { host, port } = value as { host: string; port: number };
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
  if (key.endsWith('Ms') && typeof value === 'number') return formatDuration(value);
  return String(value);
}

/** Every shared option with its effective value and where it came from. */
export function configRows(config: Config, sources: Record<keyof Config, Source>): ConfigRow[] {
  return OPTION_SPECS.map((s) => ({
    key: attributeOf(s.flag),
    flag: s.flag.split(' ')[0] as string,
    env: s.env,
    value: displayValue(s.key, config[s.key]),
    source: sources[s.key],
  }));
}

export function configCommand(program: Command): void {
  withSharedOptions(
    program
      .command('config')
      .description('print the effective configuration and where each value came from')
      .option('--json', 'print it as JSON'),
  ).action(
    action(async (opts: Record<string, unknown>) => {
      const { config, sources, configFile } = configFrom(opts);
      const rows = configRows(config, sources);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ configFile: configFile ?? null, options: rows }, null, 2)}\n`,
        );
        return;
      }
      const lines = [
        configFile
          ? `config file: ${configFile.path} (from ${configFile.source === 'flag' ? '--config' : 'LAYERWARDEN_CONFIG'})`
          : 'config file: none (--config or LAYERWARDEN_CONFIG)',
        'precedence: flag > environment > config file > default',
      ];
      const width = Math.max(...rows.map((r) => r.key.length));
      const valueWidth = Math.min(40, Math.max(...rows.map((r) => (r.value ?? '-').length)));
      for (const r of rows) {
        const from = r.source === 'flag' ? r.flag : r.source === 'env' ? r.env : r.source;
        lines.push(`${r.key.padEnd(width)}  ${(r.value ?? '-').padEnd(valueWidth)}  ${from}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    }),
  );
}
