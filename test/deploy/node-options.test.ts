import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SHIPPED_ENV, SHIPPED_NODE_OPTIONS, SHIPPED_SHEBANG } from '../../bench/node-options.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
const env = Object.entries(SHIPPED_ENV).map(([k, v]) => `${k}=${v}`);

/** The memory benchmarks run the agent with bench/node-options.ts: every way the product starts carries them. */
describe('the Node settings the benchmarks measured are the ones shipped', () => {
  it('the npm bin starts node through env -S with them', () => {
    assert.equal(read('src/cli/bin.ts').split('\n')[0], SHIPPED_SHEBANG);
  });

  it('a script with that first line gets them when executed', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lw-shebang-'));
    try {
      const script = path.join(dir, 'bin.js');
      writeFileSync(
        script,
        `${SHIPPED_SHEBANG}\nconsole.log(JSON.stringify([process.execArgv, process.env]));\n`,
      );
      chmodSync(script, 0o755);
      const PATH = `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`;
      const out = execFileSync(script, [], { encoding: 'utf8', env: { PATH } });
      const [argv, seen] = JSON.parse(out) as [string[], Record<string, string>];
      assert.deepEqual(argv, [...SHIPPED_NODE_OPTIONS]);
      for (const [k, v] of Object.entries(SHIPPED_ENV)) assert.equal(seen[k], v);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the systemd unit sets them for the bin it starts', () => {
    const unit = read('deploy/layerwarden.service');
    for (const e of env) assert.match(unit, new RegExp(`^Environment=${e}$`, 'm'));
    assert.match(unit, new RegExp(`^Environment=NODE_OPTIONS=${SHIPPED_NODE_OPTIONS.join(' ')}$`, 'm'));
  });

  it('the Dockerfile sets them for its ENTRYPOINT', () => {
    const docker = read('Dockerfile');
    for (const e of env) assert.match(docker, new RegExp(`^\\s*${e}( \\\\)?$`, 'm'));
    const entry = /^ENTRYPOINT (\[.*\])$/m.exec(docker)?.[1];
    assert.deepEqual(JSON.parse(entry ?? '[]'), [
      'node',
      ...SHIPPED_NODE_OPTIONS,
      '/app/dist/src/cli/bin.js',
    ]);
  });
});
