/**
 * Preloaded into the soak's agent, which runs with `--expose-gc`: SIGUSR2 runs a full collection, so a
 * heap sample taken right after measures what is live, not garbage a lazy collector has not reached yet.
 */
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
