/** What every benchmark returns: its figure beside a baseline measured in the same run. */
export interface BenchResult {
  /** Short row name, e.g. `ingest`, `latency (pulls)`. */
  name: string;
  figure: number;
  unit: string;
  /** Null when the baseline could not be measured in this mode (e.g. no engine in a smoke run). */
  baseline: number | null;
  baselineUnit: string;
  /** The target in words, e.g. `>= 100,000/s`. */
  target: string;
  met: boolean;
  /** How it was measured, the spread, and anything a reader needs to trust the figure. */
  note: string;
}

/** What a benchmark is given. */
export interface BenchContext {
  /** Small counts: a smoke run that proves the benchmark works, not a measurement. */
  quick: boolean;
  /** May use the private engine (bench/engine-context.ts); without it, engine-free variants run. */
  useEngine: boolean;
  /** Size of the busy host of benchmarks 3 and 7: images = containers = scale, services = scale / 10. */
  scale: number;
  /** Progress lines (stderr), so a long run shows where it is. */
  log(line: string): void;
}

export interface Benchmark {
  name: string;
  /** Needs the private engine (bench/engine-context.ts). */
  needsEngine: boolean;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}
