import { type Command, InvalidArgumentError } from 'commander';
import { readConfigFile } from '../config/file.js';
import type { Config, OptionSpec } from '../config/options.js';
import { OPTION_SPECS } from '../config/options.js';
import { type Resolved, resolveConfig } from '../config/resolve.js';
import { createDockerodePort } from '../docker/dockerode-port.js';
import type { DockerPort } from '../docker/port.js';
import type { EngineInfo } from '../docker/types.js';
import { exitCodeFor, isUnreachable, LayerwardenError } from '../errors.js';
import type { IdlePolicy } from '../model/idle.js';

/** Adds every shared option to a command; values are validated in `resolveConfig`, so env and file get the same checks. */
export function withSharedOptions(cmd: Command): Command {
  cmd.option(
    '--config <path>',
    'read options from this JSON file (flags and env win) [env LAYERWARDEN_CONFIG]',
  );
  for (const s of OPTION_SPECS as readonly OptionSpec[]) {
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

/** Where the config file came from, when there is one. */
export interface ConfigFileRef {
  path: string;
  source: 'flag' | 'env';
}

/**
 * The effective configuration of a command: flags > `LAYERWARDEN_*` > config file (`--config` or
 * `LAYERWARDEN_CONFIG`) > default. A bad file or value is a one-line `config` error (exit 2).
 */
export function configFrom(
  opts: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Resolved & { configFile?: ConfigFileRef } {
  const configFile: ConfigFileRef | undefined =
    typeof opts.config === 'string' && opts.config !== ''
      ? { path: opts.config, source: 'flag' }
      : env.LAYERWARDEN_CONFIG
        ? { path: env.LAYERWARDEN_CONFIG, source: 'env' }
        : undefined;
  const file = configFile ? readConfigFile(configFile.path) : {};
  return { ...resolveConfig(opts, env, file), ...(configFile && { configFile }) };
}

export function idlePolicy(config: Config): IdlePolicy {
  return {
    runStack: config.runStack,
    ...(config.ignoreStack && { ignoreStack: config.ignoreStack }),
    quietPeriodMs: config.quietPeriodMs,
  };
}

/** Connects and asks for /info: a one-shot command's first contact, mapped to exit 3 when the engine is not there. */
export async function connect(config: Config): Promise<{ port: DockerPort; info: EngineInfo }> {
  const port = createDockerodePort(config.dockerHost);
  try {
    return { port, info: await port.info() };
  } catch (err) {
    if (isUnreachable(err)) {
      const code = (err as { code?: string }).code;
      throw new LayerwardenError(
        'engine-unreachable',
        `cannot reach the Docker engine at ${config.dockerHost}${code ? ` (${code})` : ''}`,
        { cause: err },
      );
    }
    throw err;
  }
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
