/**
 * Records the engine's events for the eviction fixtures (test/fixtures/events/eviction-*.json): a run
 * container (compose label, plus a spoofed `name` and a secret-looking label, as CI jobs sometimes carry),
 * a `docker rmi` of a cached image, a `docker image prune -af` burst, a re-pull of a pruned image and a
 * `docker rmi` after the run, with the image details the model would have listed before. Usage (on a private engine only):
 *   bash scripts/with-engine.sh node --import tsx scripts/record-eviction-events.ts OUT.json
 */
import { writeFile } from 'node:fs/promises';
import { startEngine } from '../test/engine/harness.js';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: record-eviction-events.ts OUT.json\n');
  process.exit(2);
}
const engine = await startEngine();
try {
  const reg = engine.registry;
  const refs = ['a', 'b', 'c'].map((n) => `${reg}/lw/cache-${n}:1`);
  for (const [i, ref] of refs.entries()) {
    // The run's image carries labels that must never reach the log (events merge image labels in).
    const labels: Record<string, string> =
      i === 0 ? { name: 'spoofed-by-image-label', 'secret.token': 'hunter2-image-label' } : {};
    await engine.buildImage(ref, [{ file: `${i}.bin`, bytes: 4096 * (i + 1) }], { labels });
    await engine.push(ref);
  }
  await engine.dockerOk(['rmi', ...refs, 'lw-base:latest']);
  for (const ref of refs) await engine.dockerOk(['pull', ref]);
  const images = [];
  for (const ref of refs) {
    const inspect = JSON.parse((await engine.api(`/v1.41/images/${encodeURIComponent(ref)}/json`)).body);
    const history = JSON.parse((await engine.api(`/v1.41/images/${encodeURIComponent(ref)}/history`)).body);
    images.push({ inspect, history });
  }
  const version = JSON.parse((await engine.api('/v1.41/version')).body) as Record<string, string>;
  const since = (Date.now() / 1000).toFixed(3);
  await engine.dockerOk([
    'run',
    '-d',
    '--name',
    'run1',
    '--network',
    'none',
    '--label',
    'com.docker.compose.project=ci-run',
    '--label',
    'name=spoofed-by-label',
    '--label',
    'password=hunter2-secret',
    '-e',
    'API_TOKEN=env-secret-value',
    refs[0] as string,
  ]);
  await engine.dockerOk(['rmi', refs[1] as string]);
  await engine.dockerOk(['image', 'prune', '-af']);
  await engine.dockerOk(['pull', refs[2] as string]);
  await engine.dockerOk(['stop', 'run1']);
  await engine.dockerOk(['rm', 'run1']);
  await engine.dockerOk(['rmi', refs[0] as string]);
  const until = (Date.now() / 1000 + 1).toFixed(3);
  const ev = await engine.api(`/v1.41/events?since=${since}&until=${until}`);
  const events = ev.body.split('\n').filter(Boolean);
  await writeFile(
    out,
    `${JSON.stringify(
      { engine: { version: version.Version, apiVersion: version.ApiVersion }, images, events },
      null,
      1,
    )}\n`,
  );
  process.stdout.write(`${events.length} events\n`);
} finally {
  await engine.stop();
}
