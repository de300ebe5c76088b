import { readFileSync } from 'node:fs';
import { LayerwardenError } from '../errors.js';
import { OPTION_SPECS } from './options.js';
import { attributeOf } from './resolve.js';

/** The keys a config file may hold: the camelCase attribute of each shared flag (`--disk-high` → `diskHigh`). */
export const FILE_KEYS: readonly string[] = OPTION_SPECS.map((s) => attributeOf(s.flag));

/**
 * Reads a JSON config file into raw values by attribute name, validated for shape only: every key must be
 * a known option, every value a string or a number. Each value is then parsed like a flag's, in
 * `resolveConfig`. Any failure is a one-line `config` error (exit 2) that names the file.
 */
export function readConfigFile(path: string): Record<string, string | number> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new LayerwardenError('config', `config file ${path}: cannot read it (${code ?? String(err)})`, {
      cause: err,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new LayerwardenError('config', `config file ${path}: not valid JSON (${why})`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new LayerwardenError('config', `config file ${path}: expected a JSON object of options`);
  const unknown = Object.keys(raw).filter((k) => !FILE_KEYS.includes(k));
  if (unknown.length > 0) {
    throw new LayerwardenError(
      'config',
      `config file ${path}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${FILE_KEYS.join(', ')})`,
    );
  }
  const values: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === null) continue; // an explicit null leaves the option to its default
    values[key] = fileValue(path, key, value);
  }
  return values;
}

/** A file value as a flag would give it: a list key may be a JSON array, a switch a JSON boolean. */
function fileValue(path: string, key: string, value: unknown): string | number {
  const kind = OPTION_SPECS.find((s) => attributeOf(s.flag) === key)?.kind;
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (kind === 'switch' && typeof value === 'boolean') return String(value);
  if (kind === 'list' && Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => typeof v === 'string' && v.trim() !== '' && !v.includes(',')))
      return value.join(',');
    throw new LayerwardenError(
      'config',
      `config file ${path}: key "${key}" must be a list of non-empty strings without commas`,
    );
  }
  const got = Array.isArray(value) ? 'an array' : typeof value;
  const allowed =
    kind === 'list'
      ? 'a string or an array of strings'
      : kind === 'switch'
        ? 'true or false'
        : 'a string or a number';
  throw new LayerwardenError('config', `config file ${path}: key "${key}" must be ${allowed}, got ${got}`);
}
