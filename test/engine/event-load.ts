/**
 * Cheap, countable engine events for the fault scenarios: tags and untags of one image over the API
 * (a few ms each, no CLI process per event), created and removed containers, a tiny image import.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Engine, run } from './harness.js';

async function ok(engine: Engine, apiPath: string, method: string, body?: string): Promise<number> {
  const t0 = Date.now();
  const r = await engine.api(`/v1.41${apiPath}`, { method, ...(body !== undefined && { body }) });
  if (r.status >= 300) throw new Error(`${method} ${apiPath}: ${r.status} ${r.body.slice(0, 200)}`);
  return Date.now() - t0;
}

/** Adds `repo:tag` to an image (one `tag` event); returns the call's latency in ms. */
export const tagImage = (engine: Engine, imageId: string, repo: string, tag: string) =>
  ok(
    engine,
    `/images/${imageId}/tag?repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`,
    'POST',
  );

/** Removes `ref` from an image that keeps another ref (one `untag` event). */
export const untagImage = (engine: Engine, ref: string) =>
  ok(engine, `/images/${encodeURIComponent(ref)}`, 'DELETE');

/**
 * `pairs` tag+untag pairs on `imageId` (2 × pairs events, all with Actor.ID = imageId), `concurrency` at
 * a time. Returns the number of events made.
 */
export async function tagBurst(
  engine: Engine,
  imageId: string,
  pairs: number,
  concurrency = 8,
): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < pairs) {
      const i = next++;
      await tagImage(engine, imageId, 'lw/burst', `t${i}`);
      await untagImage(engine, `lw/burst:t${i}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return pairs * 2;
}

/** Creates a stopped container from `image` (one `create` event); returns its id. */
export async function createContainer(engine: Engine, image: string, name: string): Promise<string> {
  const r = await engine.api(`/v1.41/containers/create?name=${name}`, {
    method: 'POST',
    body: JSON.stringify({ Image: image, Cmd: ['true'], HostConfig: { NetworkMode: 'none' } }),
  });
  if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${r.body}`);
  return (JSON.parse(r.body) as { Id: string }).Id;
}

export const removeContainer = (engine: Engine, id: string) => ok(engine, `/containers/${id}`, 'DELETE');

/** A one-file tar to `docker import`: each import makes a new image (its config carries the time). */
export async function tinyTar(dir: string): Promise<string> {
  const root = path.join(dir, 'tiny');
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, 'hello.txt'), 'hello\n');
  const tar = path.join(dir, 'tiny.tar');
  const r = await run('tar', ['-C', root, '-cf', tar, '.']);
  if (r.code !== 0) throw new Error(`tar: ${r.stderr}`);
  return tar;
}
