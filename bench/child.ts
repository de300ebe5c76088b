import { spawn } from 'node:child_process';

/**
 * Runs a compiled benchmark child (`node FLAGS SCRIPT ARGS…`) and resolves the JSON of its last stdout
 * line; a non-zero exit rejects with the tail of its stderr, named by `label`.
 */
export function runChild<T>(label: string, args: string[], env: Record<string, string> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${label} child exited ${code}: ${err.slice(-500)}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1) as string) as T);
    });
  });
}
