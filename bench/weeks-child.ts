/**
 * The weeks run in its own process (bench/weeks.ts starts it with --expose-gc and the shipped Node
 * options): prints bench/weeks-run.ts's result as one JSON line.
 *
 *   node --expose-gc weeks-child.js DAYS WARMUP_DAYS SNAPSHOT_DIR
 */
import { runWeeks } from './weeks-run.js';

if (!(globalThis as { gc?: unknown }).gc) throw new Error('run with --expose-gc');
const r = await runWeeks(Number(process.argv[2] ?? 31), Number(process.argv[3] ?? 3), process.argv[4]);
process.stdout.write(`${JSON.stringify(r)}\n`);
