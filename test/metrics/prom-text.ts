/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: every line must be a
 * HELP, a TYPE or a sample; every sample must belong to a family declared by TYPE before it; label
 * values are unescaped. Throws on anything else, so "it parses" means something.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+(-?\\d+))?$`);
const SUFFIXES = ['_total', '_count', '_sum', '_bucket', '_created', '_info'];

function parseValue(text: string, line: string): number {
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  const v = Number(text);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) || Number.isNaN(v))
    throw new Error(`bad sample value in: ${line}`);
  return v;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(i));
    if (!m) throw new Error(`bad label in: ${line}`);
    i += m[0].length;
    let value = '';
    for (;;) {
      const ch = text[i];
      if (ch === undefined) throw new Error(`unterminated label value in: ${line}`);
      i++;
      if (ch === '"') break;
      if (ch === '\\') {
        const next = text[i++];
        value += next === 'n' ? '\n' : (next ?? '');
      } else value += ch;
    }
    if ((m[1] as string) in labels) throw new Error(`duplicate label ${m[1]} in: ${line}`);
    labels[m[1] as string] = value;
    if (text[i] === ',') i++;
    else if (i < text.length) throw new Error(`expected , between labels in: ${line}`);
  }
  return labels;
}

export function parsePrometheusText(text: string): Exposition {
  const out: Exposition = { types: new Map(), help: new Map(), samples: [] };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME})(?: (.*))?$`).exec(line);
      if (!m) {
        if (/^# (HELP|TYPE)/.test(line)) throw new Error(`bad comment line: ${line}`);
        continue; // other comments are allowed
      }
      const [, kind, name, rest = ''] = m as unknown as [string, string, string, string?];
      if (kind === 'TYPE') {
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(rest)) throw new Error(`bad TYPE: ${line}`);
        if (out.types.has(name)) throw new Error(`TYPE declared twice: ${line}`);
        out.types.set(name, rest);
      } else out.help.set(name, rest);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const name = m[1] as string;
    const family = [name, ...SUFFIXES.filter((s) => name.endsWith(s)).map((s) => name.slice(0, -s.length))];
    if (!family.some((f) => out.types.has(f))) throw new Error(`sample of an undeclared family: ${line}`);
    out.samples.push({
      name,
      labels: parseLabels(m[2] ?? '', line),
      value: parseValue(m[3] as string, line),
    });
  }
  return out;
}

/** The sum of the samples named `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(
  exp: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const hits = exp.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return hits.length === 0 ? undefined : hits.reduce((n, s) => n + s.value, 0);
}
