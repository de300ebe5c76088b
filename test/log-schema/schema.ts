/**
 * Reads the `schema` blocks of docs/log-schema.md and checks log records against them. The format is
 * described in that file; this is its only reader.
 */
import { readFileSync } from 'node:fs';

export interface FieldSpec {
  path: string;
  optional: boolean;
  type: string;
  values?: string[];
}

export interface EventSpec {
  event: string;
  levels: string[];
  fields: FieldSpec[];
  /** Example lines (`json` blocks after the schema block). */
  examples: string[];
}

export const SCHEMA_FILE = new URL('../../docs/log-schema.md', import.meta.url);

const TYPES = new Set(['string', 'number', 'boolean', 'object', 'array', 'string[]', 'object[]']);

/** The fenced blocks of a Markdown text: info string and content. Longer fences nest shorter ones. */
function fences(md: string): Array<{ info: string; body: string[] }> {
  const blocks: Array<{ info: string; body: string[] }> = [];
  let open: { fence: string; info: string; body: string[] } | undefined;
  for (const line of md.split('\n')) {
    const m = /^(`{3,})\s*([\w-]*)\s*$/.exec(line);
    if (open) {
      if (m && m[1] === open.fence && m[2] === '') {
        blocks.push({ info: open.info, body: open.body });
        open = undefined;
      } else open.body.push(line);
    } else if (m) open = { fence: m[1] as string, info: m[2] as string, body: [] };
  }
  if (open) throw new Error(`unclosed ${open.fence} block in the schema file`);
  return blocks;
}

/** `value   comment`: a comment is anything after two spaces. */
const withoutComment = (text: string) => (text.trim().split(/\s{2,}/)[0] ?? '').trim();

function parseBlock(body: string[]): EventSpec {
  const spec: EventSpec = { event: '', levels: [], fields: [], examples: [] };
  let inFields = false;
  for (const line of body) {
    if (!line.trim()) continue;
    if (inFields && /^\s/.test(line)) {
      const m = /^\s+([\w.[\]-]+)(\?)?:\s+(\S+)/.exec(line);
      if (!m) throw new Error(`bad field line: ${line}`);
      const [, path, optional, type] = m as unknown as [string, string, string | undefined, string];
      const en = /^enum\(([^)]*)\)$/.exec(type);
      if (!en && !TYPES.has(type)) throw new Error(`unknown type ${type} for ${path}`);
      spec.fields.push({
        path,
        optional: optional === '?',
        type: en ? 'string' : type,
        ...(en && { values: (en[1] as string).split('|') }),
      });
      continue;
    }
    inFields = false;
    const [key, ...rest] = line.split(':');
    const value = withoutComment(rest.join(':'));
    if (key === 'event') spec.event = value;
    else if (key === 'level') spec.levels = value.split('|').map((l) => l.trim());
    else if (key === 'fields') inFields = true;
    else throw new Error(`unknown schema key in: ${line}`);
  }
  if (!spec.event) throw new Error(`schema block without event: ${body.join('\n')}`);
  return spec;
}

/** Every event's schema, with the common fields (`event: *`) merged in. */
export function loadSchema(md = readFileSync(SCHEMA_FILE, 'utf8')): Map<string, EventSpec> {
  const specs = new Map<string, EventSpec>();
  let last: EventSpec | undefined;
  for (const block of fences(md)) {
    if (block.info === 'schema') {
      last = parseBlock(block.body);
      if (specs.has(last.event)) throw new Error(`event ${last.event} documented twice`);
      specs.set(last.event, last);
    } else if (block.info === 'json' && last) {
      last.examples.push(...block.body.filter((l) => l.trim()));
    }
  }
  const common = specs.get('*');
  if (!common) throw new Error('no common fields block (event: *)');
  specs.delete('*');
  for (const spec of specs.values()) spec.fields = [...common.fields, ...spec.fields];
  return specs;
}

function typeOk(v: unknown, f: FieldSpec): boolean {
  switch (f.type) {
    case 'string':
      return typeof v === 'string' && (!f.values || f.values.includes(v));
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'object[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));
    default:
      return false;
  }
}

/** The documented children of `prefix` (`` for the top level; `a.b` for an object; `a[]` for array items). */
export function children(fields: FieldSpec[], prefix: string): Map<string, FieldSpec> {
  const out = new Map<string, FieldSpec>();
  const start = prefix ? (prefix.endsWith('[]') ? prefix : `${prefix}.`) : '';
  for (const f of fields) {
    if (!f.path.startsWith(start)) continue;
    let rest = f.path.slice(start.length);
    if (rest.startsWith('.')) rest = rest.slice(1);
    if (rest && !/[.[]/.test(rest)) out.set(rest, f);
  }
  return out;
}

function checkObject(obj: Record<string, unknown>, fields: FieldSpec[], prefix: string, errors: string[]) {
  const known = children(fields, prefix);
  const at = (k: string) => (prefix ? `${prefix}.${k}` : k);
  for (const [key, value] of Object.entries(obj)) {
    const spec = known.get(key);
    if (!spec) {
      errors.push(`field ${at(key)} is not documented`);
      continue;
    }
    if (!typeOk(value, spec)) {
      errors.push(
        `field ${at(key)} should be ${spec.values ? `one of ${spec.values.join('|')}` : spec.type}: ${JSON.stringify(value)}`,
      );
      continue;
    }
    if (spec.type === 'object' && children(fields, spec.path).size > 0)
      checkObject(value as Record<string, unknown>, fields, spec.path, errors);
    if (spec.type === 'object[]' && children(fields, `${spec.path}[]`).size > 0)
      for (const item of value as Array<Record<string, unknown>>)
        checkObject(item, fields, `${spec.path}[]`, errors);
  }
  for (const [key, spec] of known)
    if (!spec.optional && !(key in obj)) errors.push(`required field ${at(key)} is missing`);
}

/** What is wrong with a record according to the schema; empty when it conforms. */
export function checkRecord(record: Record<string, unknown>, specs: Map<string, EventSpec>): string[] {
  const event = String(record.event);
  const spec = specs.get(event);
  if (!spec) return [`event ${JSON.stringify(record.event)} is not documented`];
  const errors: string[] = [];
  if (spec.levels.length > 0 && !spec.levels.includes(String(record.level)))
    errors.push(`level ${String(record.level)} is not one of ${spec.levels.join('|')}`);
  checkObject(record, spec.fields, '', errors);
  return errors.map((e) => `${event}: ${e}`);
}
