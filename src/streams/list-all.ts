import type { DockerPort } from '../docker/port.js';
import type { ContainerInfo, EngineSnapshot, ImageDetail, ImageInfo } from '../docker/types.js';
import type { Model } from '../model/types.js';

/** How many inspects run at once: enough to list 1,000 new images quickly, few enough not to crowd the engine. */
const INSPECT_CONCURRENCY = 4;

async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Lists images and inspects only those the model does not know yet (an image id is its content: its
 * layers never change). An image removed between list and inspect is left out. `afterList` runs as soon
 * as `/images/json` has answered, before the inspects (to read the engine's clock at that moment).
 */
export async function listImageDetails(
  port: DockerPort,
  model: Model,
  afterList?: (list: ImageInfo[]) => void,
): Promise<ImageDetail[]> {
  const list = await port.listImages();
  afterList?.(list);
  const details = await pool(list, INSPECT_CONCURRENCY, async (info) => {
    const known = model.images.get(info.id);
    if (known && known.layers.length > 0) return { ...info, layers: known.layers };
    return port.inspectImage(info.id);
  });
  return details.filter((d): d is ImageDetail => d !== null);
}

/** Lists containers; stopped ones (exited, dead) whose finish time the model lacks are inspected for it. */
export async function listContainerDetails(port: DockerPort, model: Model): Promise<ContainerInfo[]> {
  const list = await port.listContainers();
  const details = await pool(list, INSPECT_CONCURRENCY, async (info) => {
    if (info.state === 'running' || info.state === 'paused' || info.state === 'restarting') return info;
    // Never started, so no finish time to learn (FinishedAt is the zero time, even after a failed
    // start): inspecting these cost one call per created container on every re-list.
    if (info.state === 'created') return info;
    const known = model.containers.get(info.id);
    if (known?.finishedAt !== undefined) return { ...info, finishedAt: known.finishedAt };
    return (await port.inspectContainer(info.id)) ?? info;
  });
  return details;
}

/** Everything, for a full re-list: the truth the model is diffed against. */
export async function listAll(port: DockerPort, model: Model): Promise<EngineSnapshot> {
  const info = await port.info();
  const [images, containers, services, tasks] = await Promise.all([
    listImageDetails(port, model),
    listContainerDetails(port, model),
    port.listServices(),
    port.listTasks(),
  ]);
  return { info, images, containers, services, tasks };
}
