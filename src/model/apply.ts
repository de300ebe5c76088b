import { applyRecentActivity } from './activity.js';
import { applyEvent } from './apply-event.js';
import type { ApplyContext } from './context.js';
import { applyContainers, applyCreatedImage, applyImages, applySnapshot } from './sync/snapshot.js';
import { setContainer, toEntry } from './containers/containers.js';
import { BURST_QUIET_MS, recordEviction, settleEvictions } from './evictions/evictions.js';
import { announceOwnRemoval, answerOwnRemoval } from './evictions/own-removals.js';
import { touchImage } from './images/images.js';
import { drainPulls, resolvePulls } from './images/pulls.js';
import { safeSample } from './safe-sample.js';
import { anyUnsettled, putServices } from './services/services.js';
import { settleStacks } from './services/stacks.js';
import type { Model, ModelInput, Note, Step, Want } from './types.js';

/** What an operator needs to read when the socket refuses us: the fix is theirs, the agent keeps retrying. */
export const PERMISSION_HINT =
  "permission denied on the Docker socket: run the agent as root or as a member of the socket's group (usually docker), or fix the socket's mode; retrying slowly until then";

/** Polling interval for service lists while a service converges (there are no task events). */
export const CONVERGE_POLL_MS = 1000;

/**
 * Applies one input to the model. The model is updated in place (the scan in src/streams owns the only
 * instance; copying maps of thousands of entries per event would cap ingest far below the engine's rate).
 * Deterministic, no I/O and no clock of its own: everything it needs comes in `input` and `ctx`.
 * Returns the log-worthy notes and the work it wants done (lists, inspects), never done inline.
 */
export function apply(model: Model, input: ModelInput, ctx: ApplyContext): Step {
  const notes: Note[] = [];
  const wants: Want[] = [];
  const { now, policy } = ctx;
  switch (input.kind) {
    case 'event':
      applyEvent(model, input.event, ctx, notes, wants);
      break;
    case 'recent-activity':
      applyRecentActivity(model, input);
      break;
    case 'snapshot':
      applySnapshot(model, input.snapshot, input.reason, input.startedAt, ctx, notes, wants);
      break;
    case 'images':
      applyImages(model, input.images, ctx, notes, input.engineTimeMs);
      break;
    case 'containers':
      applyContainers(model, input.containers, now);
      break;
    case 'image':
      applyCreatedImage(model, input.image, input.engineTimeMs, now);
      break;
    case 'container': {
      const prev = model.containers.get(input.id);
      if (input.container) {
        // New to the model, or its create event named an image the model resolved otherwise (or not).
        if (prev?.imageId !== input.container.imageId) touchImage(model, input.container.imageId, now);
        const start = model.activity.containerStart;
        if (start?.id === input.id) start.name = input.container.name;
        setContainer(model, input.id, toEntry(input.container, prev));
      } else setContainer(model, input.id, undefined);
      break;
    }
    case 'services':
      putServices(model, input.services, input.tasks, now, notes);
      break;
    case 'pull.resolved':
      resolvePulls(model, input, ctx, notes);
      break;
    case 'own-removal': {
      if (input.answer === undefined) {
        announceOwnRemoval(model, input.id);
        break;
      }
      // Who removed it is known only now: an eviction seen before the answer waited for it.
      const held = answerOwnRemoval(model, input.id, input.answer === 'removed');
      if (held) recordEviction(model, held.note, held.atMs, now, notes);
      break;
    }
    case 'evictions.settle':
      settleEvictions(model, now, input.final === true, notes, wants);
      break;
    case 'stream.up':
      // Connected is not in sync: only the re-list that follows every connect makes it so.
      model.sync = {
        ...model.sync,
        connected: true,
        invalidatedAt: now,
        inSync: false,
        reason: 'listing after connect',
      };
      notes.push({ event: 'stream.up', attempt: input.attempt });
      wants.push({
        kind: 'resync',
        reason: input.attempt === 0 && model.sync.lastResyncAt === undefined ? 'start' : 'reconnect',
      });
      break;
    case 'stream.down':
      model.sync = {
        ...model.sync,
        connected: false,
        inSync: false,
        reason: `events stream down: ${input.reason}`,
      };
      notes.push({
        event: 'stream.down',
        level: 'warn',
        reason: input.reason,
        ...(input.code && { code: input.code }),
        ...((input.code === 'EACCES' || input.code === 'EPERM') && { hint: PERMISSION_HINT }),
        retryInMs: input.retryInMs,
        attempt: input.attempt,
      });
      break;
    case 'malformed':
      model.sync = {
        ...model.sync,
        inSync: false,
        invalidatedAt: now,
        reason: `malformed event line: ${input.reason}`,
      };
      notes.push({
        event: 'stream.malformed',
        level: 'warn',
        reason: input.reason,
        sample: safeSample(input.sample),
      });
      wants.push({ kind: 'resync', reason: 'malformed event' });
      break;
    case 'overflow':
      model.sync = {
        ...model.sync,
        inSync: false,
        invalidatedAt: now,
        reason: `more than ${input.limit} events during a full list; events dropped`,
      };
      notes.push({ event: 'stream.overflow', level: 'warn', limit: input.limit });
      wants.push({ kind: 'resync', reason: 'event buffer overflowed during list' });
      break;
    case 'refresh.failed':
      model.sync = {
        ...model.sync,
        inSync: false,
        invalidatedAt: now,
        reason: `${input.what} failed: ${input.message}`,
      };
      notes.push({ event: 'refresh.failed', level: 'warn', what: input.what, message: input.message });
      wants.push({ kind: 'resync', reason: `${input.what} failed` });
      break;
  }
  // A pull whose inspect never came must not hold the queue (it is given up after PULL_STALL_MS).
  if (input.kind !== 'pull.resolved' && model.pendingPulls.size > 0) drainPulls(model, ctx, notes);
  if (input.kind !== 'pull.resolved' && input.kind !== 'own-removal' && input.kind !== 'evictions.settle')
    settleStacks(model, policy, now, notes);
  // A burst that grew in this step is logged once it has been quiet for BURST_QUIET_MS (the loop's timer).
  if (model.heldEvictions?.lastAt === now && input.kind !== 'evictions.settle')
    wants.push({ kind: 'settle-evictions', delayMs: BURST_QUIET_MS });
  if (input.kind === 'services' || input.kind === 'snapshot') {
    if (anyUnsettled(model)) wants.push({ kind: 'list-services', delayMs: CONVERGE_POLL_MS });
  }
  return { notes, wants };
}
