import type { Config } from '../config/options.js';
import { readTlsFiles } from '../docker/docker-host.js';
import { createEnginePort } from '../docker/engine-port.js';
import type { DockerPort } from '../docker/port.js';
import type { EngineInfo } from '../docker/types.js';
import { isUnreachable, LayerwardenError } from '../errors.js';
import { formatDuration } from '../config/duration.js';

/** Where each engine setting came from, for the messages (`Resolved.origins`). */
export type EngineOrigins = Record<'dockerHost' | 'tls' | 'tlsCertPath' | 'timeoutMs', string>;

/**
 * The port to the configured engine: the address, its TLS files read now (a missing ca.pem is a
 * `config` error naming the option it came from, before any connection), and for a one-shot command
 * the `--timeout` ceiling on every answer.
 */
export function enginePort(config: Config, origins: EngineOrigins, oneShot: boolean): DockerPort {
  const tcp = !config.dockerHost.startsWith('unix://') && !config.dockerHost.startsWith('/');
  const tls = tcp
    ? readTlsFiles(
        config.tls,
        config.tlsCertPath,
        `${origins.tlsCertPath} (for ${origins.tls} ${config.tls})`,
      )
    : undefined;
  return createEnginePort(config.dockerHost, {
    ...(tls && { tls }),
    ...(oneShot && { requestTimeoutMs: config.timeoutMs }),
  });
}

const where = (config: Config, origins: EngineOrigins) =>
  `${config.dockerHost}${origins.dockerHost === 'default' ? '' : ` (${origins.dockerHost})`}`;

/** Why a first contact failed, in one line: no answer in time, not an engine at all, or not reached. */
function firstContactError(
  err: unknown,
  config: Config,
  origins: EngineOrigins,
): LayerwardenError | undefined {
  const e = err as { code?: unknown; name?: unknown; statusCode?: unknown } | null;
  const at = where(config, origins);
  const fail = (message: string) => new LayerwardenError('engine-unreachable', message, { cause: err });
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError' || e?.code === 'ABORT_ERR') {
    const option = origins.timeoutMs === 'default' ? '--timeout' : origins.timeoutMs;
    return fail(
      `no answer from the Docker engine at ${at} within ${formatDuration(config.timeoutMs)} (${option})`,
    );
  }
  if (typeof e?.statusCode === 'number')
    return fail(`the endpoint at ${at} is not a Docker engine (HTTP ${e.statusCode} to the Docker API)`);
  // Network, socket and TLS failures all carry a code: ECONNREFUSED, EACCES, ERR_SSL_…, CERT_…, EPROTO.
  if (typeof e?.code === 'string' || isUnreachable(err)) {
    const code = String(e?.code ?? e?.name);
    const why = code === 'EACCES' ? ': permission denied on the socket; the user needs the docker group' : '';
    return fail(`cannot reach the Docker engine at ${at} (${code}${why})`);
  }
  return undefined;
}

/**
 * An engine refusal raised below the CLI (the version negotiation: no version served, or none in
 * common) names no address; the operator needs to know which engine said it.
 */
export function withAddress(err: unknown, config: Config, origins: EngineOrigins): unknown {
  if (!(err instanceof LayerwardenError) || err.code !== 'engine-unreachable') return err;
  if (err.message.includes(config.dockerHost)) return err;
  return new LayerwardenError('engine-unreachable', `${where(config, origins)}: ${err.message}`, {
    cause: err,
  });
}

/** Connects and asks for /info: a one-shot command's first contact, mapped to exit 3 when no engine answers there. */
export async function connect(
  config: Config,
  origins: EngineOrigins,
): Promise<{ port: DockerPort; info: EngineInfo }> {
  const port = enginePort(config, origins, true);
  try {
    const info = await port.info();
    if (!info.id && !info.serverVersion)
      throw new LayerwardenError(
        'engine-unreachable',
        `the endpoint at ${where(config, origins)} is not a Docker engine (its /info has no ID or ServerVersion)`,
      );
    return { port, info };
  } catch (err) {
    if (err instanceof LayerwardenError) throw withAddress(err, config, origins);
    throw firstContactError(err, config, origins) ?? err;
  }
}
