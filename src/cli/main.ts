import { Command, CommanderError } from 'commander';
import { EXIT } from '../errors.js';
import { configCommand } from './config.js';
import { planCommand } from './plan.js';
import { pruneCommand } from './prune.js';
import { reportCommand } from './report.js';
import { reportFailure } from './shared.js';
import { statusCommand } from './status.js';
import { packageVersion } from './version.js';
import { watchCommand } from './watch.js';

/** The program, built fresh (tests run it in-process). */
export function buildProgram(): Command {
  const program = new Command('layerwarden')
    .description(
      'Keeps the Docker image cache of CI and build hosts warm: a live model, pull evidence, a gated and audited prune.',
    )
    .version(packageVersion())
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(`layerwarden: ${str.replace(/^error: /, '').split('\n')[0]}\n`),
    });
  for (const add of [watchCommand, statusCommand, planCommand, pruneCommand, configCommand, reportCommand])
    add(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Parses and runs; bad usage is one line and exit 2, help and version exit 0. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode =
        err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version'
          ? EXIT.ok
          : EXIT.usage;
      return;
    }
    reportFailure(err);
  }
}
