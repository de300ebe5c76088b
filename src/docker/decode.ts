import type {
  ContainerInfo,
  ContainerState,
  EngineInfo,
  ImageDetail,
  ImageInfo,
  ImageRemoveOutcome,
  KnownLabels,
  ServiceInfo,
  TaskInfo,
} from './types.js';
import { atLeast } from './negotiate.js';

/**
 * Decoders from the engine's JSON to our types, for every API version the agent speaks (1.41 to
 * AGENT_API.max; what changed where: docs/engine-api.md) and either image store. They read only the
 * fields we know.
 */

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const num = (v: unknown, fallback = 0): number =>
  typeof v === 'number' && Number.isFinite(v) ? v : fallback;
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * `<none>:<none>` and `<none>@<none>` are the engine's way of saying "no ref"; so is a bare digest, which
 * the containerd store lists in `RepoDigests` of an image none of whose platforms is present
 * (daemon/containerd/image_list.go `imageSummary`): it is the image's own id, not a name.
 */
const realRefs = (refs: string[]) =>
  refs.filter((r) => !r.startsWith('<none>') && !/^sha256:[0-9a-f]{64}$/.test(r));

/**
 * An image's tags and digest refs. The containerd image store lists every name of an image in
 * `RepoTags`, a digested name (`repo@sha256:…`, what a pull by digest leaves) included
 * (daemon/containerd/image_list.go `Images`, image_inspect.go `collectRepoTagsAndDigests`): such a
 * name is a digest ref, not a tag, as the graphdriver store says. docs/containerd-store.md.
 */
function refsOf(r: Json): { tags: string[]; digests: string[] } {
  const named = realRefs(strings(r.RepoTags));
  const digests = realRefs(strings(r.RepoDigests));
  for (const ref of named) if (ref.includes('@') && !digests.includes(ref)) digests.push(ref);
  return { tags: named.filter((ref) => !ref.includes('@')), digests };
}

/**
 * One `/images/json` entry. Untagged images show `<none>` refs before 1.43 and empty lists from it;
 * `RepoTags`/`RepoDigests` may be null. `Size` only (`VirtualSize`, the same figure, is gone from 1.44).
 * `Containers` is the engine's count of containers using the image from 1.51 (-1, unknown, before).
 */
export function decodeImageSummary(raw: unknown, apiVersion = ''): ImageInfo {
  const r = obj(raw);
  const containers = atLeast(apiVersion, '1.51') ? num(r.Containers, -1) : -1;
  return {
    id: str(r.Id),
    ...refsOf(r),
    size: num(r.Size),
    created: num(r.Created),
    ...(containers >= 0 && { containers }),
  };
}

/**
 * The 200 answer of DELETE /images/{id or ref}: `[{Untagged}…, {Deleted}…]`. Untags and no `Deleted`:
 * the reference named was not the image's last, and the image stays. Anything else counts as removed,
 * as a 200 always did (by id, dockerd 20.10 deletes the image or refuses).
 */
export function decodeImageDelete(raw: unknown): ImageRemoveOutcome {
  const items = Array.isArray(raw) ? raw.map(obj) : [];
  const has = (key: 'Untagged' | 'Deleted') => items.some((i) => typeof i[key] === 'string');
  const untagOnly = has('Untagged') && !has('Deleted');
  return untagOnly ? { kind: 'untagged' } : { kind: 'removed' };
}

/** An image inspect plus its history (for per-layer sizes, when the history lines up with the layers). */
export function decodeImageInspect(raw: unknown, history?: unknown): ImageDetail {
  const r = obj(raw);
  const layers = strings(obj(r.RootFS).Layers);
  const createdMs = Date.parse(str(r.Created));
  const detail: ImageDetail = {
    id: str(r.Id),
    ...refsOf(r),
    size: num(r.Size),
    created: Number.isFinite(createdMs) ? Math.floor(createdMs / 1000) : 0,
    layers,
  };
  const sizes = history === undefined ? undefined : layerSizes(history, layers.length);
  if (sizes) detail.layerSizes = sizes;
  return detail;
}

/** Instructions that never make a layer, as the classic builder (`#(nop) ENV …`) and BuildKit (`ENV …`) record them. */
const METADATA_STEP =
  /^(?:\/bin\/sh -c #\(nop\)\s+)?(?:ENV|LABEL|CMD|ENTRYPOINT|EXPOSE|USER|ARG|VOLUME|STOPSIGNAL|HEALTHCHECK|SHELL|ONBUILD|MAINTAINER)\b/;

/**
 * Per-layer sizes from an image's history, aligned with `RootFS.Layers`, or undefined when the history
 * cannot say which size belongs to which layer. The history lists one entry per build step, newest first;
 * a step that made no layer (ENV, CMD…, or a classic `RUN true` whose diff was empty) has size 0, but so
 * has a real layer that holds no file bytes (BuildKit's WORKDIR, `RUN rm`, an empty COPY). So:
 * - as many entries as layers: every entry is a layer;
 * - as many non-zero entries as layers: the zero entries are all empty steps;
 * - as many entries, once metadata-only steps are left out, as layers: those are the layers;
 * - otherwise we do not guess (measured on dockerd 20.10: a classic `RUN true` next to a `RUN rm` is
 *   ambiguous). Sizes are uncompressed (the layer's diff size), the same after a pull as after a build.
 */
export function layerSizes(history: unknown, layerCount: number): number[] | undefined {
  if (!Array.isArray(history) || layerCount === 0) return undefined;
  const steps = [...history].reverse().map((h) => ({ size: num(obj(h).Size), by: str(obj(h).CreatedBy) }));
  const sizes = (picked: typeof steps) =>
    picked.length === layerCount ? picked.map((s) => s.size) : undefined;
  return (
    sizes(steps) ??
    sizes(steps.filter((s) => s.size > 0)) ??
    sizes(steps.filter((s) => s.size > 0 || !METADATA_STEP.test(s.by.trim())))
  );
}

export function decodeLabels(raw: unknown): KnownLabels {
  const l = obj(raw);
  const pick = (key: string) => (typeof l[key] === 'string' ? (l[key] as string) : undefined);
  const out: KnownLabels = {};
  const stackNamespace = pick('com.docker.stack.namespace');
  const composeProject = pick('com.docker.compose.project');
  const serviceId = pick('com.docker.swarm.service.id');
  const serviceName = pick('com.docker.swarm.service.name');
  const taskId = pick('com.docker.swarm.task.id');
  if (stackNamespace) out.stackNamespace = stackNamespace;
  if (composeProject) out.composeProject = composeProject;
  if (serviceId) out.serviceId = serviceId;
  if (serviceName) out.serviceName = serviceName;
  if (taskId) out.taskId = taskId;
  return out;
}

const STATES: ReadonlySet<string> = new Set([
  'created',
  'running',
  'paused',
  'restarting',
  'removing',
  'exited',
  'dead',
]);
const state = (v: unknown): ContainerState => (STATES.has(str(v)) ? (str(v) as ContainerState) : 'dead');

export function decodeContainerSummary(raw: unknown): ContainerInfo {
  const r = obj(raw);
  return {
    id: str(r.Id),
    name: str(strings(r.Names)[0]).replace(/^\//, ''),
    imageId: str(r.ImageID),
    image: str(r.Image),
    state: state(r.State),
    created: num(r.Created),
    labels: decodeLabels(r.Labels),
  };
}

export function decodeContainerInspect(raw: unknown): ContainerInfo {
  const r = obj(raw);
  const st = obj(r.State);
  const config = obj(r.Config);
  const finished = Date.parse(str(st.FinishedAt));
  const created = Date.parse(str(r.Created));
  const info: ContainerInfo = {
    id: str(r.Id),
    name: str(r.Name).replace(/^\//, ''),
    imageId: str(r.Image),
    image: str(config.Image),
    state: st.Restarting === true ? 'restarting' : state(st.Status),
    created: Number.isFinite(created) ? Math.floor(created / 1000) : 0,
    labels: decodeLabels(config.Labels),
  };
  // The engine writes 0001-01-01 for "never finished".
  if (Number.isFinite(finished) && finished > 0) info.finishedAt = finished;
  return info;
}

export function decodeService(raw: unknown): ServiceInfo {
  const r = obj(raw);
  const spec = obj(r.Spec);
  const mode = obj(spec.Mode);
  const status = obj(r.ServiceStatus);
  const update = obj(r.UpdateStatus);
  const labels = obj(spec.Labels);
  const stack = str(labels['com.docker.stack.namespace']);
  const replicated = 'Replicated' in mode;
  const desired =
    'DesiredTasks' in status
      ? num(status.DesiredTasks)
      : replicated
        ? num(obj(mode.Replicated).Replicas, 1)
        : 0;
  const updateState = str(update.State);
  return {
    id: str(r.ID),
    name: str(spec.Name),
    image: str(obj(obj(spec.TaskTemplate).ContainerSpec).Image),
    ...(stack && { stack }),
    mode: replicated ? 'replicated' : 'Global' in mode ? 'global' : 'other',
    desired,
    running: num(status.RunningTasks),
    ...(updateState && { updateState }),
  };
}

export function decodeTask(raw: unknown): TaskInfo {
  const r = obj(raw);
  const status = obj(r.Status);
  const at = Date.parse(str(status.Timestamp));
  const err = str(status.Err);
  const containerId = str(obj(status.ContainerStatus).ContainerID);
  return {
    id: str(r.ID),
    serviceId: str(r.ServiceID),
    desiredState: str(r.DesiredState),
    state: str(status.State),
    ...(err && { err }),
    ...(containerId && { containerId }),
    at: Number.isFinite(at) ? at : 0,
  };
}

/**
 * The containerd image store shows in `/info` as a `driver-type` of `io.containerd.snapshotter.v1` in
 * `DriverStatus` (ENGINE-FACTS 28); any other answer is the graphdriver store.
 */
function imageStoreOf(r: Record<string, unknown>): EngineInfo['imageStore'] {
  const status = Array.isArray(r.DriverStatus) ? r.DriverStatus : [];
  const snapshotter = status.some(
    (pair) => Array.isArray(pair) && pair[0] === 'driver-type' && pair[1] === 'io.containerd.snapshotter.v1',
  );
  return snapshotter ? 'containerd' : 'graphdriver';
}

/** `/info`, with the API version spoken on the connection and the engine's own range (src/docker/negotiate.ts). */
export function decodeInfo(raw: unknown, apiVersion: string, apiRange?: EngineInfo['apiRange']): EngineInfo {
  const r = obj(raw);
  const swarm = obj(r.Swarm);
  const localState = str(swarm.LocalNodeState, 'inactive');
  return {
    id: str(r.ID),
    name: str(r.Name),
    serverVersion: str(r.ServerVersion),
    apiVersion,
    ...(apiRange && { apiRange }),
    dockerRootDir: str(r.DockerRootDir),
    swarm: (['active', 'inactive', 'pending', 'error', 'locked'].includes(localState)
      ? localState
      : 'error') as EngineInfo['swarm'],
    isManager: swarm.ControlAvailable === true,
    imageStore: imageStoreOf(r),
    ...(Number.isFinite(Date.parse(str(r.SystemTime))) && { systemTime: Date.parse(str(r.SystemTime)) }),
  };
}
