import type { PullRecord } from '../src/records/record-types.js';
/**
 * Benchmark 2, latency: from an event leaving the private engine (its timeNano) to the live model
 * reflecting it (the container or image as the event left it), over container and image events made by
 * a few concurrent workers; for pulls, to the classified `pull` record. Baseline: the same events'
 * arrival at a bare `/events` reader on the same socket (the engine's own delivery time).
 */
import { randomBytes } from 'node:crypto';
import { ALL_STACKS_ARE_RUNS } from '../src/model/services/stacks.js';
import { eventKey } from '../src/streams/decode-event.js';
import { createModelLoop } from '../src/streams/model-loop.js';
import { api, benchEngine, createContainer, importImage, pullImage } from './engine-context.js';
import { checkFor, type Pending, latencyRow, supersede } from './latency-checks.js';
import { nanoToMsExact, openRawReader } from './raw-events.js';
import { fmt, pool, sleep, wallMs } from './stats.js';
import type { Benchmark } from './types.js';

export const latency: Benchmark = {
  name: 'latency',
  needsEngine: true,
  async run(ctx) {
    const { engine, port } = await benchEngine();
    const workers = 2;
    const wanted = ctx.quick ? 100 : 1000;
    const pullImages = ctx.quick ? 1 : 5;
    const pullCycles = ctx.quick ? 2 : 5;
    const run = randomBytes(3).toString('hex');

    const baseIds = await pool([...Array(workers).keys()], workers, (w) =>
      importImage(engine, `lat-${run}-w${w}`, `bench/lat-${run}-w${w}:base`),
    );
    const pullRefs = [...Array(pullImages).keys()].map((p) => `${engine.registry}/lat-${run}-p${p}:v1`);
    for (const [p, ref] of pullRefs.entries()) {
      await importImage(engine, `lat-${run}-p${p}`, ref);
      await engine.push(ref);
      await api(engine, `/images/${ref}`, { method: 'DELETE' });
    }

    const raw = openRawReader(engine);
    await raw.opened;
    const untagged = new Map<string, string[]>(baseIds.map((id) => [id, []]));
    const pending: Pending[] = [];
    const samples = { objects: new Map<string, number>(), pulls: new Map<string, number>() };
    const pullClasses = new Map<string, number>();
    let phase: 'sync' | 'objects' | 'pulls' = 'sync';
    let tracked = 0;
    let superseded = 0;
    let synced!: () => void;
    const inSync = new Promise<void>((r) => {
      synced = r;
    });

    const loop = createModelLoop({ port, policy: ALL_STACKS_ARE_RUNS, resyncMs: 3_600_000 });
    const sub = loop.ticks$.subscribe((tick) => {
      const at = wallMs();
      const { input } = tick;
      if (input.kind === 'snapshot') synced();
      if (input.kind === 'event' && phase !== 'sync') {
        const e = input.event;
        if (phase === 'pulls' && e.type === 'image' && e.action === 'pull') {
          pending.push({
            event: e,
            pull: true,
            done: (t) => t.step.notes.some((n) => n.event === 'pull' && n.ref === e.actorId),
          });
        } else if (phase === 'objects') {
          const check = checkFor(e, untagged);
          if (check) {
            tracked++;
            superseded += supersede(pending, e, check.untaggedRef);
            pending.push({ event: e, pull: false, done: (t) => check.reflected(t.model) });
          }
        }
      }
      for (let i = pending.length - 1; i >= 0; i--) {
        const p = pending[i]!;
        if (!p.done(tick)) continue;
        pending.splice(i, 1);
        (p.pull ? samples.pulls : samples.objects).set(
          eventKey(p.event),
          at - nanoToMsExact(p.event.timeNano),
        );
        if (p.pull) {
          const note = tick.step.notes.find(
            (n): n is PullRecord => n.event === 'pull' && n.ref === p.event.actorId,
          );
          pullClasses.set(String(note?.class), (pullClasses.get(String(note?.class)) ?? 0) + 1);
        }
      }
    });
    const settle = async (timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (pending.length > 0 && Date.now() < deadline) await sleep(2);
    };

    let unresolved = 0;
    let objectsSeconds = 0;
    try {
      await inSync;
      phase = 'objects';
      const objectsStart = performance.now();
      await pool([...Array(workers).keys()], workers, async (w) => {
        const baseRef = `bench/lat-${run}-w${w}:base`;
        // Each tag and container lives one iteration: undoing it at once would let the list that
        // follows the event see it already gone.
        const repo = `bench/lat-${run}-w${w}`;
        let prev: { cid: string; ref: string } | undefined;
        const undo = async (p: { cid: string; ref: string }) => {
          untagged.get(baseIds[w]!)?.push(p.ref);
          await api(engine, `/images/${p.ref}`, { method: 'DELETE' });
          await api(engine, `/containers/${p.cid}`, { method: 'DELETE' });
        };
        for (let i = 0; tracked < wanted; i++) {
          const cid = await createContainer(engine, 'lw-base:latest');
          await api(engine, `/images/${baseRef}/tag?repo=${repo}&tag=t${i}`, { method: 'POST' });
          if (i % 5 === 0) {
            await api(engine, `/containers/${cid}/start`, { method: 'POST' });
            await api(engine, `/containers/${cid}/stop?t=5`, { method: 'POST' });
          }
          if (prev) await undo(prev);
          prev = { cid, ref: `${repo}:t${i}` };
        }
        if (prev) await undo(prev);
      });
      objectsSeconds = (performance.now() - objectsStart) / 1000;
      await settle(5_000);
      unresolved = pending.length;
      pending.length = 0;
      phase = 'pulls';
      for (let c = 0; c < pullCycles; c++) {
        for (const ref of pullRefs) {
          for (let k = 0; k < 2; k++) {
            const before = samples.pulls.size;
            await pullImage(engine, ref);
            // The event may reach us after the puller's response: wait for its record, not just for
            // nothing pending, or the removal below races the agent's inspect.
            const deadline = Date.now() + 5_000;
            while (samples.pulls.size === before && Date.now() < deadline) await sleep(2);
          }
          await api(engine, `/images/${ref}`, { method: 'DELETE' });
        }
      }
      unresolved += pending.length;
      await sleep(300); // the bare reader's last lines
    } finally {
      sub.unsubscribe();
      raw.close();
    }
    return [
      latencyRow(
        'latency (container/image events)',
        samples.objects,
        raw.latencies,
        10,
        wanted,
        `${workers} workers creating, tagging, untagging, starting, stopping and removing, ` +
          `${fmt(tracked / objectsSeconds)} timed events/s; ` +
          `${superseded} superseded by a later event on the same object, ${unresolved} never reflected`,
      ),
      latencyRow(
        'latency (pull to pull record)',
        samples.pulls,
        raw.latencies,
        50,
        pullImages * pullCycles * 2,
        `pulls from the local registry, one at a time; classes ${[...pullClasses].map(([k, v]) => `${k} ${v}`).join(', ')}`,
      ),
    ];
  },
};
