/**
 * The ingest benchmark's churn pass alone, for a CPU profile or an instruction count:
 *   node --cpu-prof --cpu-prof-dir bench/out/prof bench/out/dist/bench/ingest-profile.js [churn|parse] [events]
 *   valgrind --tool=callgrind node bench/out/dist/bench/ingest-profile.js churn 100000
 * `parse` runs JSON.parse alone on the same lines (the baseline), so two counts compare like for like.
 */
import { ingestPass, synthesizedChurn, toChunks } from './ingest.js';

const what = process.argv[2] ?? 'churn';
const events = Number(process.argv[3] ?? 1_000_000);
const src = synthesizedChurn(20_000);
const chunks = toChunks(src.lines);
const clock = { now: Date.now() };
const model = src.model(clock.now);
let n = 0;
const t0 = performance.now();
if (what === 'parse')
  while (n < events)
    for (const line of src.lines) {
      JSON.parse(line);
      n++;
    }
else while (n < events) n += ingestPass(chunks, model, clock);
process.stdout.write(`${what}: ${n} events, ${Math.round(n / ((performance.now() - t0) / 1000))}/s\n`);
