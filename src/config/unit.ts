/**
 * What a systemd unit gives the agent it starts: the environment (`Environment=`, `EnvironmentFile=`,
 * `StateDirectory=` → `STATE_DIRECTORY`, `LogsDirectory=` → `LOGS_DIRECTORY`) and the flags of its
 * `ExecStart=`. `config --unit` and the one-shot commands use it to see, and use, what the service uses.
 * Only the settings that reach the agent are read; systemd's own syntax is followed as far as they need.
 */
import { readFileSync } from 'node:fs';
import { LayerwardenError } from '../errors.js';
import { OPTION_SPECS } from './options.js';

export const DEFAULT_UNIT = '/etc/systemd/system/layerwarden.service';

export interface UnitView {
  path: string;
  /** The service's environment from the unit, each variable with where it was set. */
  env: Record<string, string>;
  envOrigin: Record<string, string>;
  /** Flags of `ExecStart=` after the command word (`watch`), as `--name value` pairs. */
  flags: Record<string, string>;
  /** `--config` on ExecStart, when there is one. */
  configFile?: string;
}

const read = (path: string, what: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new LayerwardenError('config', `${what} ${path}: cannot read it (${code ?? String(err)})`, {
      cause: err,
    });
  }
};

/** Splits words as systemd does for Environment= and ExecStart=: spaces separate, quotes group. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  for (const m of text.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|((?:[^\s"'\\]|\\.)+)/g))
    words.push((m[1] ?? m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1'));
  return words;
}

/** The `[Service]` settings of a unit file, in order (continuation lines joined, comments dropped). */
function serviceSettings(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let section = '';
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1] as string;
      continue;
    }
    const eq = line.indexOf('=');
    if (section === 'Service' && eq > 0) out.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return out;
}

/** An EnvironmentFile: `KEY=VALUE` lines, `#`/`;` comments, one pair of quotes around a value stripped. */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const value = line.slice(eq + 1).trim();
    env[line.slice(0, eq).trim()] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
  }
  return env;
}

/** Reads a unit file into what its service's agent sees. */
export function readUnit(path: string): UnitView {
  const view: UnitView = { path, env: {}, envOrigin: {}, flags: {} };
  const set = (k: string, v: string, origin: string) => {
    view.env[k] = v;
    view.envOrigin[k] = origin;
  };
  for (const [key, value] of serviceSettings(read(path, 'unit'))) {
    if (key === 'Environment')
      for (const w of splitWords(value)) {
        const eq = w.indexOf('=');
        if (eq > 0) set(w.slice(0, eq), w.slice(eq + 1), `Environment= of ${path}`);
      }
    else if (key === 'EnvironmentFile') {
      const optional = value.startsWith('-');
      const file = optional ? value.slice(1) : value;
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if (optional && (err as { code?: string }).code === 'ENOENT') continue;
        text = read(file, 'EnvironmentFile');
      }
      for (const [k, v] of Object.entries(parseEnvironmentFile(text))) set(k, v, file);
    } else if (key === 'StateDirectory' || key === 'LogsDirectory') {
      const base = key === 'StateDirectory' ? '/var/lib' : '/var/log';
      const dirs = splitWords(value).map((d) => `${base}/${d.split(':')[0]}`);
      if (dirs.length)
        set(
          key === 'StateDirectory' ? 'STATE_DIRECTORY' : 'LOGS_DIRECTORY',
          dirs.join(':'),
          `${key}= of ${path}`,
        );
    } else if (key === 'ExecStart') readExecStart(view, value);
  }
  return view;
}

/** Watch's own flags that take no value: not options of the table, so nothing `config` shows. */
const WATCH_SWITCHES = new Set(['--no-prune', '--dry-run', '--report']);
/** The option table's switches (e.g. `--allow-containerd-store-removal`): on when present. */
const OPTION_SWITCHES = new Set(
  OPTION_SPECS.filter((s) => (s as { kind?: string }).kind === 'switch').map(
    (s) => s.flag.split(' ')[0] as string,
  ),
);

function readExecStart(view: UnitView, value: string): void {
  const words = splitWords(value.replace(/^[-@:+!]+/, ''));
  const args = words.slice(words.findIndex((w) => w === 'watch') + 1);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--') || WATCH_SWITCHES.has(arg)) continue;
    if (OPTION_SWITCHES.has(arg)) {
      view.flags[arg] = 'true';
      continue;
    }
    const eq = arg.indexOf('=');
    const [name, v] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, args[++i] ?? ''];
    if (name === '--config') view.configFile = v;
    else view.flags[name] = v;
  }
}
