/**
 * Where the engine is, resolved as the docker CLI resolves it: an address (`unix:///path`, a socket path,
 * `tcp://host:port`), TLS from the docker CLI's variables or a context, and the CLI's current context
 * when nothing names an address. Pure reading of the environment and the CLI's files; no connection.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LayerwardenError } from '../errors.js';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** The accepted forms, for every message that names them. */
export const DOCKER_HOST_FORMS = 'unix:///path, /path/to/socket or tcp://host:port';

export type EngineAddress =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; https: boolean };

/** An address as the engine is reached; undefined when it is not one of DOCKER_HOST_FORMS (ssh:// included). */
export function parseDockerHost(text: string): EngineAddress | undefined {
  const host = text.trim();
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    return socketPath.startsWith('/') ? { kind: 'unix', socketPath } : undefined;
  }
  if (host.startsWith('/')) return { kind: 'unix', socketPath: host };
  const m = /^(tcp|http|https):\/\/([^:/[\]]+|\[[^\]]+\]):(\d{1,5})\/?$/.exec(host);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) return undefined;
  return { kind: 'tcp', host: (m[2] as string).replace(/^\[|\]$/g, ''), port, https: m[1] === 'https' };
}

/** TLS to a tcp:// engine: `verify` checks the engine's certificate against ca.pem; both send cert.pem/key.pem. */
export type TlsMode = 'off' | 'verify' | 'no-verify';
export const TLS_MODES: readonly TlsMode[] = ['off', 'verify', 'no-verify'];

export interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  verify: boolean;
}

/** The docker CLI's config directory: `DOCKER_CONFIG`, else ~/.docker. */
export function dockerConfigDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

export interface DockerContext {
  name: string;
  host: string;
  /** The context's own TLS material (`docker context create --docker "…,ca=…"`), when it has any. */
  tlsDir?: string;
  skipTlsVerify: boolean;
}

const readJson = (path: string, what: string): unknown => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') return undefined;
    throw new LayerwardenError('config', `${what} ${path}: cannot read it (${code ?? String(err)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new LayerwardenError('config', `${what} ${path}: not valid JSON`);
  }
};

const exists = (path: string) => {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
};

/**
 * The docker CLI's current context (`DOCKER_CONTEXT`, else `currentContext` of config.json), when it is not
 * `default`: its metadata lives in `contexts/meta/<sha256 of name>/meta.json` and its TLS files in
 * `contexts/tls/<sha256 of name>/docker/`. A named context that is missing or has no docker endpoint is
 * a `config` error, as it is for the CLI.
 */
export function currentDockerContext(env: NodeJS.ProcessEnv): DockerContext | undefined {
  const dir = dockerConfigDir(env);
  const fromEnv = env.DOCKER_CONTEXT?.trim();
  const config = fromEnv ? undefined : readJson(join(dir, 'config.json'), 'docker CLI config');
  const name =
    fromEnv ||
    (typeof config === 'object' && config !== null
      ? (config as { currentContext?: unknown }).currentContext
      : undefined);
  if (typeof name !== 'string' || name === '' || name === 'default') return undefined;
  const id = createHash('sha256').update(name).digest('hex');
  const metaPath = join(dir, 'contexts', 'meta', id, 'meta.json');
  const where = `docker context "${name}"${fromEnv ? ' (DOCKER_CONTEXT)' : ''}`;
  const meta = readJson(metaPath, `${where}:`) as
    | { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } }
    | undefined;
  const endpoint = meta?.Endpoints?.docker;
  if (typeof endpoint?.Host !== 'string' || endpoint.Host === '')
    throw new LayerwardenError('config', `${where}: no docker endpoint in ${metaPath}`);
  const tlsDir = join(dir, 'contexts', 'tls', id, 'docker');
  return {
    name,
    host: endpoint.Host,
    ...(exists(join(tlsDir, 'ca.pem')) || exists(join(tlsDir, 'cert.pem')) ? { tlsDir } : {}),
    skipTlsVerify: endpoint.SkipTLSVerify === true,
  };
}

/**
 * The TLS files of `mode` from `certPath` (ca.pem, cert.pem, key.pem as the docker CLI names them).
 * `verify` needs ca.pem; cert.pem and key.pem go together. A file that cannot be read is a `config`
 * error naming the option the directory came from.
 */
export function readTlsFiles(mode: TlsMode, certPath: string, where: string): TlsFiles | undefined {
  if (mode === 'off') return undefined;
  const read = (name: string, required: boolean): Buffer | undefined => {
    const path = join(certPath, name);
    try {
      return readFileSync(path);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (!required && code === 'ENOENT') return undefined;
      throw new LayerwardenError(
        'config',
        `${where}: cannot read ${path} (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? String(err))})`,
      );
    }
  };
  const pem = (name: string, bytes: Buffer | undefined, marker: RegExp) => {
    if (bytes && !marker.test(bytes.toString('latin1')))
      throw new LayerwardenError('config', `${where}: ${join(certPath, name)} is not a PEM file`);
    return bytes;
  };
  const ca = pem('ca.pem', read('ca.pem', mode === 'verify'), /-----BEGIN CERTIFICATE-----/);
  const cert = pem('cert.pem', read('cert.pem', false), /-----BEGIN CERTIFICATE-----/);
  const key = pem('key.pem', read('key.pem', cert !== undefined), /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }), verify: mode === 'verify' };
}
