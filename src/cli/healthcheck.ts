#!/usr/bin/env node
/**
 * The container HEALTHCHECK: GET /healthz on the agent's own `--listen` address (LAYERWARDEN_LISTEN, or
 * the first argument) and exit 0 on 200, 1 otherwise, printing the answer (Docker keeps it in
 * `State.Health.Log`). With listening turned off there is nothing to ask: it says so and exits 0.
 * Standalone on purpose: no commander, no engine, one request, a short timeout.
 */
import { request } from 'node:http';
import { OPTION_SPECS } from '../config/options.js';

const TIMEOUT_MS = 4_000;

function main(): void {
  const text = process.argv[2] ?? process.env.LAYERWARDEN_LISTEN ?? '';
  if (text === '') {
    process.stdout.write('layerwarden: --listen is off; nothing to check\n');
    return;
  }
  const listen = OPTION_SPECS.find((s) => s.key === 'listen')?.parse(text) as
    | { host: string; port: number }
    | undefined;
  if (!listen || listen.port === 0) {
    process.stdout.write(`layerwarden: cannot check "${text}": expected host:port with a fixed port\n`);
    process.exitCode = 1;
    return;
  }
  // A wildcard bind answers on loopback too.
  const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  const req = request({ host, port: listen.port, path: '/healthz', timeout: TIMEOUT_MS }, (res) => {
    let body = '';
    res.on('data', (c: Buffer) => {
      body += c.toString();
    });
    res.on('end', () => {
      process.stdout.write(`${res.statusCode} ${body.trim()}\n`);
      process.exitCode = res.statusCode === 200 ? 0 : 1;
    });
  });
  req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
  req.on('error', (err) => {
    process.stdout.write(`layerwarden: /healthz on ${host}:${listen.port}: ${err.message}\n`);
    process.exitCode = 1;
  });
  req.end();
}

main();
