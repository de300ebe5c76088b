/**
 * Benchmark 6's executor arm alone, for a CPU profile or an instruction count of the agent's side:
 *   bash scripts/with-engine.sh node --import tsx --cpu-prof --cpu-prof-dir bench/out/prof \
 *     bench/prune-profile.ts [images] [rounds] [profile-path]
 * Each round makes `images` untagged images on a private engine, then times the agent's own executor
 * removing them (the settle barrier, idle and each candidate re-checked before every removal).
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { benchEngine, stopBenchEngine } from './engine-context.js';
import { realExecutor } from './prune-standin.js';
import { byExecutor, makeUntagged } from './prune-speed.js';

const images = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 1);
/** With a path, a CPU profile of the executor's runs only (not of making the images). */
const profileTo = process.argv[4];
const session = new Session();
session.connect();
if (profileTo) await session.post('Profiler.enable');
try {
  const be = await benchEngine();
  for (let i = 0; i < rounds; i++) {
    const made = await makeUntagged(be, images);
    if (profileTo) await session.post('Profiler.start');
    const own0 = process.cpuUsage();
    const r = await byExecutor(be, made, realExecutor());
    const own = process.cpuUsage(own0);
    if (profileTo) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(`${profileTo}.${i + 1}.cpuprofile`, JSON.stringify(profile));
    }
    process.stdout.write(
      `round ${i + 1}: removed ${r.outcome.removed} in ${Math.round(r.ms)} ms, the agent's CPU ` +
        `${Math.round((own.user + own.system) / 1000)} ms\n`,
    );
  }
} finally {
  await stopBenchEngine();
}
