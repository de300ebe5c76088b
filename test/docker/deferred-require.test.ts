import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { createDockerodePort } from '../../src/docker/dockerode-port.js';
import { deferRequire } from '../../src/docker/deferred-require.js';

// This file runs in its own process (node --test): nothing else here loads ssh2 or grpc.
const here = createRequire(import.meta.url);
const dockerode = here.resolve('dockerode');
const fromDockerode = createRequire(dockerode);
const modem = fromDockerode.resolve('docker-modem');
const fromModem = createRequire(modem);
const loaded = (fragment: string) => Object.keys(here.cache).some((k) => k.includes(fragment));

describe('dependencies dockerode loads for features the agent never uses', () => {
  it('are not loaded by creating the port, and the engine is still reached through dockerode', async () => {
    const port = createDockerodePort('unix:///nonexistent/layerwarden-test.sock');
    await assert.rejects(port.ping(1000), (err: { code?: string }) => err.code === 'ENOENT');
    assert.ok(loaded('/dockerode/lib/docker.js'));
    assert.ok(loaded('/docker-modem/lib/modem.js'));
    for (const inner of ['/ssh2/lib/client.js', '/@grpc/grpc-js/build/src/server.js', '/protobufjs/'])
      assert.equal(loaded(inner), false, `${inner} is not loaded`);
  });

  it('load as themselves when used: a deferred constructor builds the real thing', () => {
    const ssh2 = fromModem('ssh2') as { Client: new () => { connect: unknown } };
    const client = new ssh2.Client();
    assert.equal(typeof client.connect, 'function');
    assert.ok(loaded('/ssh2/lib/client.js'));
    const real = fromModem(fromModem.resolve('ssh2')) as { Client: unknown };
    assert.ok(client instanceof (real.Client as new () => object), 'an instance of the real Client');
    assert.equal(ssh2.Client, real.Client, 'once loaded, the stand-in hands out the real exports');

    const grpc = fromDockerode('@grpc/grpc-js') as { Server: { name: string }; ServerCredentials: object };
    assert.equal(grpc.Server.name, 'Server');
    assert.ok(loaded('/@grpc/grpc-js/build/src/server.js'));
    assert.ok('ServerCredentials' in grpc);
  });

  it('leaves a module that is already loaded, or that does not resolve, alone', () => {
    assert.equal(deferRequire(modem, 'ssh2'), false, 'loaded by now');
    assert.equal(deferRequire(modem, 'no-such-module-layerwarden'), false);
  });
});
