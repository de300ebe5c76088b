/**
 * Reaching the engine as the docker CLI does, against real endpoints: the private engine behind a TLS
 * listener (certificates made here with openssl, the client's as the CLI keeps them: ca.pem, cert.pem,
 * key.pem), reached by DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, by flags and by a docker context; a listener
 * that accepts and never answers; an HTTP server that is no engine.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Engine, run, startEngine } from './harness.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));

const openssl = (dir: string, ...args: string[]) =>
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A self-signed CA in `dir`: ca.pem and its key ca-key.pem. */
function makeCa(dir: string, name: string): void {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
  );
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by that CA. */
function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) => openssl(dir, ...args);
  makeCa(dir, 'lw-test-ca');
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'],
    ['client', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    writeFileSync(path.join(dir, `${name}.ext`), ext);
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=lw-test-${name}`,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}-cert.pem`,
    );
  }
}

/** The docker CLI's layout of client files: ca.pem, cert.pem, key.pem in one directory. */
function clientDir(certs: string, into: string, ca = path.join(certs, 'ca.pem')): string {
  mkdirSync(into, { recursive: true });
  writeFileSync(path.join(into, 'ca.pem'), readFileSync(ca));
  writeFileSync(path.join(into, 'cert.pem'), readFileSync(path.join(certs, 'client-cert.pem')));
  writeFileSync(path.join(into, 'key.pem'), readFileSync(path.join(certs, 'client-key.pem')));
  return into;
}

/** The CLI as an operator runs it, in the environment given (the harness's runner). */
function layerwarden(args: string[], env: NodeJS.ProcessEnv) {
  return run(process.execPath, ['--import', 'tsx', BIN, ...args], { env });
}

const listening = (server: net.Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );

describe('reaching the engine as the docker CLI does', { timeout: 600_000 }, () => {
  let engine: Engine;
  let tmp: string;
  let certs: string;
  let tlsServer: tls.Server;
  let tlsPort: number;
  const sockets = new Set<net.Socket>();

  /** The child's environment: no engine of the host, no docker CLI config of the host. */
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const e = engine.childEnv(extra);
    // spawn ignores undefined values: no DOCKER_HOST unless the case sets one.
    if (!extra.DOCKER_HOST) e.DOCKER_HOST = undefined;
    return { ...e, DOCKER_CONFIG: extra.DOCKER_CONFIG ?? path.join(tmp, 'no-cli-config'), ...extra };
  };
  const stateFile = () => path.join(tmp, `state-${Math.random().toString(36).slice(2)}.json`);

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lw-endpoints-'));
    certs = path.join(tmp, 'certs');
    mkdirSync(certs);
    makeCertificates(certs);
    engine = await startEngine();
    // TLS in front of the engine's socket, requiring a client certificate from the CA, as dockerd's
    // --tlsverify does.
    tlsServer = tls.createServer(
      {
        key: readFileSync(path.join(certs, 'server-key.pem')),
        cert: readFileSync(path.join(certs, 'server-cert.pem')),
        ca: readFileSync(path.join(certs, 'ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (client) => {
        const upstream = net.connect(engine.socketPath);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
      },
    );
    tlsServer.on('tlsClientError', () => {});
    tlsPort = await listening(tlsServer);
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => tlsServer?.close(r));
    await engine?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('DOCKER_HOST with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as for the docker CLI', async () => {
    const client = clientDir(certs, path.join(tmp, 'client'));
    const host = `tcp://127.0.0.1:${tlsPort}`;
    const r = await layerwarden(
      ['status', '--json', '--state-file', stateFile()],
      env({ DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: client }),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match((JSON.parse(r.stdout) as { engine: { apiVersion: string } }).engine.apiVersion, /^1\.\d+$/);
    // The same by flags.
    const flags = await layerwarden(
      [
        'plan',
        '--json',
        '--docker-host',
        host,
        '--tls',
        'verify',
        '--tls-cert-path',
        client,
        '--state-file',
        stateFile(),
      ],
      env(),
    );
    assert.equal(flags.code, 0, flags.stderr);
    // The resident agent too: it connects, lists and stops cleanly.
    const watch = await layerwarden(
      ['watch', '--no-prune', '--for', '3s', '--state-file', stateFile()],
      env({ DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: client }),
    );
    assert.equal(watch.code, 0, watch.stderr);
    const events = watch.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event?: string }).event);
    assert.ok(events.includes('stream.up'), events.join(','));
    assert.ok(events.includes('agent.stopped'), events.join(','));
  });

  it('plain HTTP to the TLS port, or a CA that did not sign the engine: exit 3, one line', async () => {
    const host = `tcp://127.0.0.1:${tlsPort}`;
    const plain = await layerwarden(
      ['status', '--state-file', stateFile(), '--timeout', '5s'],
      env({ DOCKER_HOST: host }),
    );
    assert.equal(plain.code, 3, plain.stderr);
    assert.match(plain.stderr, new RegExp(`^layerwarden: .*127\\.0\\.0\\.1:${tlsPort} \\(DOCKER_HOST\\)`));
    assert.equal(plain.stderr.trim().split('\n').length, 1, plain.stderr);
    const otherCa = path.join(tmp, 'other-ca');
    mkdirSync(otherCa);
    makeCa(otherCa, 'other');
    const wrong = clientDir(certs, path.join(tmp, 'wrong-ca-client'), path.join(otherCa, 'ca.pem'));
    const r = await layerwarden(
      ['status', '--state-file', stateFile()],
      env({ DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: wrong }),
    );
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /^layerwarden: cannot reach the Docker engine at tcp:\/\/127\.0\.0\.1:\d+ \(DOCKER_HOST\) \([A-Z_]+\)\n$/,
    );
  });

  it("the docker CLI's current context, with its TLS files, when DOCKER_HOST is unset", async () => {
    const config = path.join(tmp, 'docker-cli');
    const id = createHash('sha256').update('tls-engine').digest('hex');
    mkdirSync(path.join(config, 'contexts', 'meta', id), { recursive: true });
    clientDir(certs, path.join(config, 'contexts', 'tls', id, 'docker'));
    writeFileSync(path.join(config, 'config.json'), JSON.stringify({ currentContext: 'tls-engine' }));
    writeFileSync(
      path.join(config, 'contexts', 'meta', id, 'meta.json'),
      JSON.stringify({
        Name: 'tls-engine',
        Metadata: {},
        Endpoints: { docker: { Host: `tcp://127.0.0.1:${tlsPort}`, SkipTLSVerify: false } },
      }),
    );
    // The docker CLI itself agrees with the layout: it reaches the engine by that context (run
    // asynchronously: the TLS listener lives in this process).
    const cli = await new Promise<string>((resolve, reject) =>
      execFile(
        'docker',
        ['version', '--format', '{{.Server.APIVersion}}'],
        { env: { ...env({ DOCKER_CONFIG: config }), DOCKER_HOST: '' }, encoding: 'utf8', timeout: 60_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`docker version: ${stderr}`)) : resolve(stdout.trim()),
      ),
    );
    const r = await layerwarden(
      ['status', '--json', '--state-file', stateFile()],
      env({ DOCKER_CONFIG: config }),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { engine: { apiVersion: string } }).engine.apiVersion, cli);
    const cfg = await layerwarden(['config', '--json'], env({ DOCKER_CONFIG: config }));
    const rows = (JSON.parse(cfg.stdout) as { options: Array<{ key: string; from: string }> }).options;
    assert.equal(rows.find((o) => o.key === 'dockerHost')?.from, 'docker context "tls-engine"');
  });

  it('a listener that accepts and never answers: exit 3 after --timeout, one line', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((s) => held.push(s));
    const port = await listening(silent);
    try {
      for (const [args, within] of [
        [['status', '--timeout', '2s'], '2s'],
        [['plan'], '10s'],
        [['prune', '--now', '--dry-run'], '10s'],
      ] as const) {
        const r = await layerwarden(
          [...args, '--state-file', stateFile()],
          env({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }),
        );
        assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(
          r.stderr,
          `layerwarden: no answer from the Docker engine at tcp://127.0.0.1:${port} (DOCKER_HOST) within ${within} (--timeout)\n`,
        );
      }
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('an HTTP server that is no Docker engine: exit 3 naming the address', async () => {
    /** `status` against a web server that answers with `handler`, listening only for that call. */
    const statusOf = async (handler: http.RequestListener) => {
      const server = http.createServer(handler);
      const port = await listening(server);
      try {
        const r = await layerwarden(
          ['status', '--docker-host', `tcp://127.0.0.1:${port}`, '--state-file', stateFile()],
          env(),
        );
        assert.equal(r.code, 3, r.stderr);
        assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
        return { port, stderr: r.stderr };
      } finally {
        await new Promise((r) => server.close(r));
      }
    };
    // A web server with nothing at the API's paths, and one that answers every path with a page.
    const notFound = await statusOf((_req, res) => res.writeHead(404).end('not here'));
    assert.equal(
      notFound.stderr,
      `layerwarden: the endpoint at tcp://127.0.0.1:${notFound.port} (--docker-host) is not a Docker engine (HTTP 404 to the Docker API)\n`,
    );
    const page = await statusOf((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'),
    );
    assert.match(
      page.stderr,
      new RegExp(
        `^layerwarden: tcp://127\\.0\\.0\\.1:${page.port} \\(--docker-host\\): the Docker engine did not say which API versions it serves`,
      ),
    );
  });
});
