import type { Config } from '../config/options.js';
import { LayerwardenError } from '../errors.js';
import { createLogger } from '../log/logger.js';

/**
 * The command's logger on `file` (a path, `stderr`, or stdout when undefined). A log file the host does
 * not let us open (no permission, a directory, read-only under ProtectSystem=strict) is one line naming
 * the option it came from, exit 2, before the command does anything else.
 */
export function openLog(
  config: Config,
  file: string | undefined,
  origin: string,
): ReturnType<typeof createLogger> {
  try {
    return createLogger({ level: config.logLevel, ...(file !== undefined && { file }) });
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EROFS'
          ? 'read-only file system'
          : code === 'EISDIR'
            ? 'is a directory'
            : String(code ?? (err as Error).message);
    throw new LayerwardenError(
      'config',
      `${origin}: cannot open ${file} for appending (${why}); under the systemd unit use /var/log/layerwarden/ (LogsDirectory=)`,
      { cause: err },
    );
  }
}
