import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runWeeks } from '../../bench/weeks-run.js';

/**
 * The weeks benchmark's run, short: two simulated days of the CI host's mix through the whole agent (model
 * loop, log, state file, metrics, the daily prune with its executor) on the in-memory engine. What it
 * proves: the mix reaches every path the long run is meant to exercise, and the model ends as the engine.
 */
describe('weeks run: two days of a CI host in virtual time', { timeout: 180_000 }, () => {
  it('deploys stacks, pulls warm and cold, evicts (someone else and the agent), restarts, and agrees', async () => {
    const r = await runWeeks(2, 1);
    assert.equal(r.samples.length, 2);
    assert.ok(r.counts.stacks > 200 && r.counts.builds > 2000, JSON.stringify(r.counts));
    assert.ok((r.records['pull.warm'] ?? 0) > 0, JSON.stringify(r.records));
    assert.ok((r.records['pull.partial'] ?? 0) + (r.records['pull.cold'] ?? 0) > 0, 'cold or partial pulls');
    assert.ok((r.records['eviction.external'] ?? 0) > 0, 'external evictions');
    // The second night's prune finds service images untouched for 24 h and removes them as its own.
    assert.ok((r.records['prune.done'] ?? 0) >= 1, JSON.stringify(r.records));
    assert.ok((r.records['eviction.layerwarden'] ?? 0) > 0, 'own evictions');
    // The prune's real I/O (the state file's fsync before its first removal) takes no virtual time: the
    // clock waits for it, so a slow disk or a loaded machine cannot end the run before the removals.
    assert.deepEqual(r.pruneSpans, [0], 'the prune ran within its boundary instant');
    assert.equal(r.counts.restarts, 2);
    assert.ok((r.records['stream.down'] ?? 0) >= 2 && (r.records['stream.up'] ?? 0) >= 2);
    // Every bounded structure the long run is about is at its bound within two days.
    assert.equal(r.sizes.evictionMemory, 4096);
    assert.equal(r.sizes.pullWindows, 64);
    assert.equal(r.sizes.recentPulls, 256);
    assert.deepEqual(r.agrees, { images: true, containers: true });
  });
});
