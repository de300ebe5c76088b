import { fileURLToPath } from 'node:url';

/** The project's root and where the benchmarks write (git-ignored), whatever the working directory. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url));
