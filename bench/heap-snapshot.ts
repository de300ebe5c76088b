/**
 * Reads a V8 heap snapshot (v8.writeHeapSnapshot) for bench/weeks.ts: the self size and count of objects
 * by constructor (to diff two snapshots and name what grows), and the retained size of the objects held
 * under given property or closure-variable names (the model's maps, the loop's caches): what would be
 * freed if that one reference went, i.e. what is reachable from it and not from the roots without it.
 */
import { readFile } from 'node:fs/promises';

interface Raw {
  snapshot: {
    meta: { node_fields: string[]; edge_fields: string[]; node_types: [string[]]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface Group {
  key: string;
  count: number;
  bytes: number;
}

export class HeapSnapshot {
  private readonly nf: number;
  private readonly ef: number;
  private readonly n: number;
  /** First edge index of each node (in edges/ef units). */
  private readonly firstEdge: Uint32Array;
  private readonly types: string[];
  private readonly edgeTypes: string[];

  private constructor(private readonly raw: Raw) {
    const meta = raw.snapshot.meta;
    this.nf = meta.node_fields.length;
    this.ef = meta.edge_fields.length;
    this.n = raw.nodes.length / this.nf;
    this.types = meta.node_types[0];
    this.edgeTypes = meta.edge_types[0];
    this.firstEdge = new Uint32Array(this.n + 1);
    const ec = meta.node_fields.indexOf('edge_count');
    for (let i = 0, e = 0; i < this.n; i++) {
      this.firstEdge[i] = e;
      e += raw.nodes[i * this.nf + ec] as number;
      this.firstEdge[i + 1] = e;
    }
  }

  static async read(file: string): Promise<HeapSnapshot> {
    return new HeapSnapshot(JSON.parse(await readFile(file, 'utf8')) as Raw);
  }

  private type(i: number) {
    return this.types[this.raw.nodes[i * this.nf] as number] as string;
  }
  private name(i: number) {
    return this.raw.strings[this.raw.nodes[i * this.nf + 1] as number] as string;
  }
  private self(i: number) {
    return this.raw.nodes[i * this.nf + 3] as number;
  }

  /** Self sizes by `type:constructor` (strings, arrays and code grouped by type only). */
  groups(): Map<string, Group> {
    const out = new Map<string, Group>();
    for (let i = 0; i < this.n; i++) {
      const type = this.type(i);
      const key = type === 'object' || type === 'closure' ? `${type}:${this.name(i)}` : type;
      const g = out.get(key) ?? { key, count: 0, bytes: 0 };
      g.count++;
      g.bytes += this.self(i);
      out.set(key, g);
    }
    return out;
  }

  private *edgesOf(i: number): Generator<{ type: string; name: string; to: number }> {
    const { edges, strings } = this.raw;
    for (let e = this.firstEdge[i] as number; e < (this.firstEdge[i + 1] as number); e++) {
      const type = this.edgeTypes[edges[e * this.ef] as number] as string;
      const nameOrIndex = edges[e * this.ef + 1] as number;
      const name =
        type === 'element' || type === 'hidden' ? String(nameOrIndex) : (strings[nameOrIndex] as string);
      yield { type, name, to: (edges[e * this.ef + 2] as number) / this.nf };
    }
  }

  /** Marks what is reachable from the root (node 0) over strong edges, not passing through `cut`. */
  private reach(from: number, cut: number, mark: Uint8Array): void {
    const stack = [from];
    mark[from] = 1;
    while (stack.length > 0) {
      const i = stack.pop() as number;
      for (const e of this.edgesOf(i)) {
        if (e.type === 'weak' || e.to === cut || mark[e.to]) continue;
        mark[e.to] = 1;
        stack.push(e.to);
      }
    }
  }

  /** Retained size of node `target`. */
  retained(target: number): number {
    const fromRoot = new Uint8Array(this.n);
    this.reach(0, target, fromRoot);
    const own = new Uint8Array(this.n);
    this.reach(target, -1, own);
    let bytes = 0;
    for (let i = 0; i < this.n; i++) if (own[i] && !fromRoot[i]) bytes += this.self(i);
    return bytes;
  }

  /**
   * The objects held under these names — a property of an object that also has every one of `owner`'s
   * properties (the model), or a closure variable (context edge) — with their retained sizes.
   */
  retainedByName(
    owner: string[],
    names: string[],
    contextNames: string[],
  ): Array<{ name: string; bytes: number }> {
    const out: Array<{ name: string; bytes: number }> = [];
    for (let i = 0; i < this.n; i++) {
      const edges = [...this.edgesOf(i)];
      const props = new Map(edges.filter((e) => e.type === 'property').map((e) => [e.name, e.to]));
      if (owner.every((o) => props.has(o)))
        for (const name of names) {
          const to = props.get(name);
          if (to !== undefined) out.push({ name: `model.${name}`, bytes: this.retained(to) });
        }
      for (const e of edges)
        if (e.type === 'context' && contextNames.includes(e.name))
          out.push({ name: e.name, bytes: this.retained(e.to) });
    }
    return out;
  }
}

/** What grew between two snapshots, by constructor, largest growth first. */
export function diffGroups(
  a: Map<string, Group>,
  b: Map<string, Group>,
  top = 12,
): Array<Group & { dCount: number; dBytes: number }> {
  const out: Array<Group & { dCount: number; dBytes: number }> = [];
  for (const [key, g] of b) {
    const before = a.get(key) ?? { count: 0, bytes: 0 };
    out.push({ ...g, dCount: g.count - before.count, dBytes: g.bytes - before.bytes });
  }
  return out.sort((x, y) => y.dBytes - x.dBytes).slice(0, top);
}
