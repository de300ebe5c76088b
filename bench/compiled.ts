/**
 * The project compiled to JavaScript (bench/out/dist), once per run: processes whose memory or CPU a
 * benchmark measures run the compiled code, as a host runs the agent, not through tsx (whose loader
 * thread alone adds tens of MB of RSS).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { OUT_DIR, ROOT } from './paths.js';

const OUT = path.join(OUT_DIR, 'dist');
let built: Promise<void> | undefined;

/** The compiled counterpart of a project file (`src/cli/bin.ts` → `…/dist/src/cli/bin.js`). */
export async function compiled(fromRoot: string): Promise<string> {
  built ??= new Promise<void>((resolve, reject) => {
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    execFile(
      process.execPath,
      [tsc, '-p', path.join(ROOT, 'tsconfig.json'), '--outDir', OUT],
      (err, stdout) => {
        // Type errors still emit; only a compiler that could not run is fatal here (`npx tsc` checks types).
        if (err && !stdout.includes('error TS')) reject(err);
        else resolve();
      },
    );
  });
  await built;
  return path.join(OUT, fromRoot.replace(/\.ts$/, '.js'));
}
