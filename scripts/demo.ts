/**
 * `npm run demo`: a short CI story against a private engine and registry, watched by the agent.
 *
 * 1. a stack deployed from images never seen on this host (cold pulls), then torn down;
 * 2. the same stack deployed again (warm: nothing downloaded — the redeploy proof);
 * 3. while it runs, someone runs `docker image prune -af` (evictions during a run) and a job re-pulls
 *    an evicted image (a cold re-pull linked to the eviction);
 * 4. the stack is torn down and, at the next boundary, the agent prunes what is untagged, unused and
 *    untouched — with the minimum age shortened to 45 s and a boundary every 15 s so the demo is short
 *    (the defaults are 24 h and midnight).
 * Then the pull report and the audit are printed from the saved log, and everything is cleaned up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEngine, waitFor } from '../test/engine/harness.js';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'dist', 'src', 'cli', 'bin.js');
const say = (text: string) => process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'layerwarden-demo-'));
  const log = path.join(dir, 'demo.ndjson');
  const engine = await startEngine();
  let agent: ChildProcess | undefined;
  try {
    say(`private engine at ${engine.dockerHost}, registry ${engine.registry}`);
    const reg = engine.registry;
    const deps = { file: 'deps/lib.bin', bytes: 400_000, seed: 'deps' };
    for (const [ref, own] of [
      [`${reg}/demo/app:1`, { file: 'app/app.bin', bytes: 150_000, seed: 'app-1' }],
      [`${reg}/demo/worker:1`, { file: 'worker/w.bin', bytes: 120_000, seed: 'worker-1' }],
      [`${reg}/demo/cache:1`, { file: 'cache/c.bin', bytes: 300_000, seed: 'cache-1' }],
    ] as const) {
      await engine.buildImage(ref, [deps, own]);
      await engine.push(ref);
      await engine.dockerOk(['rmi', ref]);
    }
    // An empty cache: not even the base image the demo images were built on.
    await engine.dockerOk(['rmi', 'lw-base:latest']);
    await engine.dockerOk(['image', 'prune', '-f']);
    await engine.swarmInit();

    say('starting the agent: layerwarden watch --report');
    agent = spawn(
      process.execPath,
      [
        bin,
        'watch',
        '--report',
        '--report-format',
        'text',
        '--log-file',
        log,
        '--state-file',
        path.join(dir, 'state.json'),
        '--quiet-period',
        '10s',
        '--min-age',
        '45s',
        '--disk-high',
        '1',
        '--schedule',
        '*/15 * * * * *',
        '--tz',
        'UTC',
        '--window',
        '10s',
      ],
      { env: { ...process.env, DOCKER_HOST: engine.dockerHost }, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const records = async () =>
      (await readFile(log, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitFor(async () => (await records()).some((r) => r.event === 'model.resync'), 30_000, {
      message: 'agent in sync',
    });
    // Like any run, a stack lives on after it converged: wait until the agent has seen it converge (it
    // polls services every second; there are no task events).
    const converged = (stack: string) =>
      waitFor(
        async () =>
          (await records()).filter((r) => r.event === 'service.converged' && r.stack === stack).length === 2,
        60_000,
        { intervalMs: 250, message: `the agent saw ${stack} converge` },
      );

    say('a job pulls a cache image by hand (cold: this host has no layer of it)');
    await engine.dockerOk(['pull', `${reg}/demo/cache:1`]);

    const stack = `version: "3.8"\nservices:\n  app:\n    image: ${reg}/demo/app:1\n  worker:\n    image: ${reg}/demo/worker:1\n`;
    say(
      '1. deploy stack ci-1 from images this host has never pulled (partial: they share base layers with the cache image)',
    );
    await engine.deployStack('ci-1', stack);
    await engine.waitForStack('ci-1');
    await converged('ci-1');
    say('   tear ci-1 down');
    await engine.removeStack('ci-1');

    say('2. deploy the same images again as ci-2 (warm: nothing downloaded)');
    await engine.deployStack('ci-2', stack);
    await engine.waitForStack('ci-2');
    await converged('ci-2');

    say('3. while ci-2 runs, someone runs `docker image prune -af`');
    process.stdout.write(await engine.dockerOk(['image', 'prune', '-af']));
    say('   ...and a job needs the evicted cache image again: a re-pull that prune caused');
    await engine.dockerOk(['pull', `${reg}/demo/cache:1`]);

    say(
      '4. tear ci-2 down; at the next idle boundary the agent prunes what is untagged, unused and untouched for 45 s',
    );
    await engine.removeStack('ci-2');
    await waitFor(
      async () => (await records()).some((r) => r.event === 'prune.done' && Number(r.removed) > 0),
      180_000,
      {
        intervalMs: 1000,
        message: 'a prune by the agent',
      },
    );

    say('stopping the agent (SIGINT): its summary follows');
    const exited = new Promise<number | null>((resolve) => agent?.once('exit', (code) => resolve(code)));
    agent.kill('SIGINT');
    const code = await exited;
    agent = undefined;
    if (code !== 0) throw new Error(`the agent exited with ${code}`);

    say(`layerwarden report ${log}`);
    const report = spawn(process.execPath, [bin, 'report', log], { stdio: ['ignore', 'inherit', 'inherit'] });
    const reportCode = await new Promise<number | null>((resolve) => report.once('exit', resolve));
    if (reportCode !== 0) throw new Error(`report exited with ${reportCode}`);
    say(`the full log stream is in ${log}`);
  } finally {
    agent?.kill('SIGKILL');
    await engine.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
