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
    cmd.option(s.flag, `${s.help} [env ${s.env}]`, (value: string) => {
      if (s.parse(value) === undefined) throw new InvalidArgumentError(`expected ${s.expects}`);
      return value;
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

/** How long the resident agent waits for the engine's first answer before it starts without it. */
const FIRST_CONTACT_MS = 10_000;

/**
 * The resident agent's first contact: the engine's info (and the API version negotiated with it), or
 * undefined when it does not answer in time (the agent then starts and waits for it). An engine outside
 * the agent's API range rejects with the negotiation's `engine-unreachable` error (exit 3).
 */
export async function firstContact(port: DockerPort): Promise<EngineInfo | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), FIRST_CONTACT_MS).unref();
  });
  try {
    return await Promise.race([
      port.info().catch((err: unknown) => {
        if (err instanceof LayerwardenError) throw err;
        return undefined;
      }),
      late,
    ]);
  } finally {
    clearTimeout(timer);
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
