import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/options.js';
import { LayerwardenError } from '../errors.js';
import { createLogger } from '../log/logger.js';

/** `file` is a path (not stdout `-` or undefined, not `stderr`). */
const isPath = (file: string | undefined): file is string =>
  file !== undefined && file !== '-' && file !== 'stderr';

/**
 * Why appending to `file` the way the logger opens it (creating it, and its directories, when missing)
 * would fail, as an errno code; undefined when it would not. Creates nothing.
 */
function appendProblem(file: string): string | undefined {
  const code = (err: unknown) => String((err as { code?: unknown } | null)?.code ?? 'EINVAL');
  try {
    if (statSync(file).isDirectory()) return 'EISDIR';
    accessSync(file, constants.W_OK);
    return undefined;
  } catch (err) {
    if (code(err) !== 'ENOENT') return code(err);
  }
  // Missing: the nearest directory that exists must let us create entries in it.
  for (let dir = path.dirname(path.resolve(file)); ; dir = path.dirname(dir)) {
    try {
      if (!statSync(dir).isDirectory()) return 'ENOTDIR';
      accessSync(dir, constants.W_OK | constants.X_OK);
      return undefined;
    } catch (err) {
      if (code(err) !== 'ENOENT' || dir === path.dirname(dir)) return code(err);
    }
  }
}

function cannotOpen(origin: string, file: string, err: unknown): LayerwardenError {
  const code = (err as { code?: unknown } | null)?.code;
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'EROFS'
        ? 'read-only file system'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'ENOTDIR'
            ? 'a parent is not a directory'
            : String(code ?? (err as Error).message);
  return new LayerwardenError(
    'config',
    `${origin}: cannot open ${file} for appending (${why}); under the systemd unit use /var/log/layerwarden/ (LogsDirectory=)`,
    { cause: err },
  );
}

/**
 * The one rule for a log file: one the host does not let us open for appending (no permission, a
 * directory, read-only under ProtectSystem=strict) is one line naming the option it came from, exit 2.
 * Checked without creating anything, so `config` can say it before the agent starts.
 */
export function checkLogFile(file: string | undefined, origin: string): void {
  if (!isPath(file)) return;
  const problem = appendProblem(file);
  if (problem) throw cannotOpen(origin, file, Object.assign(new Error(problem), { code: problem }));
}

/**
 * The command's logger on `file` (a path, `stderr`, or stdout when undefined), after `checkLogFile`,
 * before the command does anything else. An open that fails all the same is the same one line.
 */
export function openLog(
  config: Config,
  file: string | undefined,
  origin: string,
): ReturnType<typeof createLogger> {
  checkLogFile(file, origin);
  try {
    return createLogger({ level: config.logLevel, ...(file !== undefined && { file }) });
  } catch (err) {
    throw cannotOpen(origin, String(file), err);
  }
}
