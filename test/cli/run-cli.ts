import { main } from '../../src/cli/main.js';

/** Runs the CLI in-process with extra environment, capturing stdout, stderr and the exit code. */
export async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { out: process.stdout.write, err: process.stderr.write, code: process.exitCode };
  // TZ too: a command adopts its schedule's zone as the process's own (src/prune/zone.ts).
  const savedEnv = Object.fromEntries([...Object.keys(env), 'TZ'].map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  process.exitCode = undefined;
  process.stdout.write = ((s: string) => out.push(s) > 0) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => err.push(s) > 0) as typeof process.stderr.write;
  try {
    await main(['node', 'layerwarden', ...args]);
    return { stdout: out.join(''), stderr: err.join(''), code: process.exitCode ?? 0 };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.exitCode = saved.code;
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
