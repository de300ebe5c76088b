import { type Command, InvalidArgumentError } from 'commander';
import { readConfigFile } from '../config/file.js';
import type { Config, OptionSpec } from '../config/options.js';
import { OPTION_SPECS } from '../config/options.js';
import { attributeOf, type Resolved, resolveConfig } from '../config/resolve.js';
import { DEFAULT_UNIT, readUnit, type UnitView } from '../config/unit.js';
import { exitCodeFor } from '../errors.js';
import type { IdlePolicy } from '../model/idle.js';

/** Which commands an option belongs to: `watch`, the one-shot commands, or `config` (all of them). */
export type OptionScope = 'watch' | 'one-shot' | 'all';

/**
 * Adds the shared options of a command's scope (a watch-only flag such as `--listen` is no option of
 * `status`); values are validated in `resolveConfig`, so env and file get the same checks.
 */
export function withSharedOptions(cmd: Command, scope: OptionScope): Command {
  cmd.option(
    '--config <path>',
    'read options from this JSON file (flags and env win) [env LAYERWARDEN_CONFIG]',
  );
  for (const s of OPTION_SPECS as readonly OptionSpec[]) {
    if (scope !== 'all' && s.only && s.only !== scope) continue;
    const help = `${s.help} [env ${s.env}]`;
    if (s.kind === 'switch') {
      cmd.option(s.flag, help);
      continue;
    }
    // A repeated list flag arrives as one comma-separated list, as the variable and the file give it.
    cmd.option(s.flag, help, (value: string, previous: string | undefined) => {
      if (s.parse(value) === undefined) throw new InvalidArgumentError(`expected ${s.expects}`);
      return s.kind === 'list' && previous !== undefined ? `${previous},${value}` : value;
    });
  }
  return cmd;
}

/** `--unit [path]`: take the environment and ExecStart= flags of the systemd service, as it runs. */
export function withUnitOption(cmd: Command): Command {
  return cmd.option(
    '--unit [path]',
    `use what the systemd service uses: its Environment=, EnvironmentFile=, StateDirectory= and ExecStart= flags (default ${DEFAULT_UNIT})`,
  );
}

/** Where the config file came from, when there is one. */
export interface ConfigFileRef {
  path: string;
  source: 'flag' | 'env' | 'unit';
}

/** The environment a unit's service gets: the unit's own, and the login basics systemd sets for its user. */
function unitEnvironment(unit: UnitView, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const basics = Object.fromEntries(
    ['HOME', 'USER', 'LOGNAME', 'PATH'].filter((k) => env[k] !== undefined).map((k) => [k, env[k]]),
  );
  return { ...basics, ...unit.env };
}

/**
 * The effective configuration of a command: flags > `LAYERWARDEN_*` > config file (`--config` or
 * `LAYERWARDEN_CONFIG`) > the host's settings (DOCKER_HOST, TZ, STATE_DIRECTORY…) > default. With
 * `--unit`, the environment and ExecStart= flags are the service's, and command-line flags win over them.
 * A bad file or value is a one-line `config` error (exit 2).
 */
export function configFrom(
  opts: Record<string, unknown>,
  processEnv: NodeJS.ProcessEnv = process.env,
): Resolved & { configFile?: ConfigFileRef; unit?: string } {
  const unit =
    opts.unit === undefined || opts.unit === false
      ? undefined
      : readUnit(typeof opts.unit === 'string' ? opts.unit : DEFAULT_UNIT);
  const env = unit ? unitEnvironment(unit, processEnv) : processEnv;
  const unitFlags = Object.fromEntries(
    Object.entries(unit?.flags ?? {}).map(([flag, v]) => [attributeOf(flag), v]),
  );
  const cliFlags = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const configFile: ConfigFileRef | undefined =
    typeof opts.config === 'string' && opts.config !== ''
      ? { path: opts.config, source: 'flag' }
      : unit?.configFile
        ? { path: unit.configFile, source: 'unit' }
        : env.LAYERWARDEN_CONFIG
          ? { path: env.LAYERWARDEN_CONFIG, source: 'env' }
          : undefined;
  const file = configFile ? readConfigFile(configFile.path) : {};
  const resolved = resolveConfig({ ...unitFlags, ...cliFlags }, env, file, {
    envOrigin: (name) => (unit?.envOrigin[name] ? `${name} (${unit.envOrigin[name]})` : name),
    flagOrigin: (flag) =>
      cliFlags[attributeOf(flag)] === undefined && unitFlags[attributeOf(flag)] !== undefined
        ? `${flag} (ExecStart= of ${unit?.path})`
        : flag,
  });
  return { ...resolved, ...(configFile && { configFile }), ...(unit && { unit: unit.path }) };
}

export function idlePolicy(config: Config): IdlePolicy {
  return {
    runStack: config.runStack,
    ...(config.ignoreStack && { ignoreStack: config.ignoreStack }),
    quietPeriodMs: config.quietPeriodMs,
  };
}

/**
 * Runs a command's body: a failure becomes one line on stderr and the exit code of the contract; the
 * process drains and exits by itself (no process.exit, so logs are not lost).
 */
export function action<A extends unknown[]>(
  body: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (err) {
      reportFailure(err);
    }
  };
}

export function reportFailure(err: unknown): void {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`layerwarden: ${msg.split('\n')[0]}\n`);
  process.exitCode = exitCodeFor(err);
}
