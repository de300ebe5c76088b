/** Exit codes of the command-line contract. */
export const EXIT = { ok: 0, failure: 1, usage: 2, engineUnreachable: 3 } as const;

export type ErrorCode = 'usage' | 'config' | 'engine-unreachable' | 'state-file' | 'internal';

/** An error with a code the CLI maps to an exit status, and its cause. Its message is one line for an operator. */
export class LayerwardenError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LayerwardenError';
  }
}

export function exitCodeFor(err: unknown): number {
  if (!(err instanceof LayerwardenError)) return EXIT.failure;
  switch (err.code) {
    case 'usage':
    case 'config':
      return EXIT.usage;
    case 'engine-unreachable':
      return EXIT.engineUnreachable;
    default:
      return EXIT.failure;
  }
}

/** Network-level failures that mean "the engine is not there", as opposed to an engine that said no. */
const UNREACHABLE = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'EACCES',
  'EPERM',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'ABORT_ERR',
]);

export function isUnreachable(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown } | null;
  return (
    (typeof e?.code === 'string' && UNREACHABLE.has(e.code)) ||
    e?.name === 'TimeoutError' ||
    e?.name === 'AbortError'
  );
}
