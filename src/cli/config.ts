import type { Command } from 'commander';
import { formatDuration } from '../config/duration.js';
import { type Config, OPTION_SPECS, type Source } from '../config/options.js';
import { attributeOf } from '../config/resolve.js';
import { enginePort } from './engine.js';
import { checkLogFile } from './log-target.js';
import { action, configFrom, withSharedOptions, withUnitOption } from './shared.js';

export interface ConfigRow {
  /** The config file key (the flag's camelCase attribute). */
  key: string;
  flag: string;
  env: string;
  /** The effective value as a flag would take it; null when unset. */
  value: string | null;
  source: Source;
  /** Exactly where: `--disk-high`, `LAYERWARDEN_TZ (/etc/layerwarden/layerwarden.env)`, `TZ`, `STATE_DIRECTORY`, `docker context "ci"`, `default`. */
  from: string;
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
export function configRows(
  config: Config,
  sources: Record<keyof Config, Source>,
  origins: Record<keyof Config, string>,
): ConfigRow[] {
  return OPTION_SPECS.map((s) => ({
    key: attributeOf(s.flag),
    flag: s.flag.split(' ')[0] as string,
    env: s.env,
    value: displayValue(s.key, config[s.key]),
    source: sources[s.key],
    from: origins[s.key],
  }));
}

export function configCommand(program: Command): void {
  withUnitOption(
    withSharedOptions(
      program
        .command('config')
        .description('print the effective configuration and where each value came from')
        .option('--json', 'print it as JSON'),
      'all',
    ),
  ).action(
    action(async (opts: Record<string, unknown>) => {
      const { config, sources, origins, configFile, unit } = configFrom(opts);
      // What the agent checks before it starts, checked here too: the schedule, the zone and every value
      // parse in configFrom; the engine's address and TLS files, and that the log file can be appended
      // to, here (nothing is connected to, nothing is created).
      enginePort(config, origins, false);
      checkLogFile(config.logFile, origins.logFile);
      const rows = configRows(config, sources, origins);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ unit: unit ?? null, configFile: configFile ?? null, options: rows }, null, 2)}\n`,
        );
        return;
      }
      const fileFrom = { flag: '--config', env: 'LAYERWARDEN_CONFIG', unit: `ExecStart= of ${unit}` };
      const lines = [
        ...(unit ? [`unit: ${unit} (its environment and ExecStart= flags, as the service sees them)`] : []),
        configFile
          ? `config file: ${configFile.path} (from ${fileFrom[configFile.source]})`
          : 'config file: none (--config or LAYERWARDEN_CONFIG)',
        'precedence: flag > environment > config file > DOCKER_HOST, docker context, TZ, STATE_DIRECTORY > default',
      ];
      const width = Math.max(...rows.map((r) => r.key.length));
      const valueWidth = Math.min(40, Math.max(...rows.map((r) => (r.value ?? '-').length)));
      for (const r of rows) {
        lines.push(`${r.key.padEnd(width)}  ${(r.value ?? '-').padEnd(valueWidth)}  ${r.from}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    }),
  );
}
