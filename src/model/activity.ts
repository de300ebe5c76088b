import { shortId } from '../docker/short-id.js';
import type { Model, RecentActivity } from './types.js';

/**
 * Merges the replayed activity before the connect into the model's: the later of each wins. A container
 * start is named from the model (its list and inspect), never from the event's attributes.
 */
export function applyRecentActivity(model: Model, input: RecentActivity): void {
  const { activity } = model;
  if (input.pull && (!activity.pull || input.pull.at > activity.pull.at)) activity.pull = input.pull;
  const start = input.containerStart;
  if (start && (!activity.containerStart || start.at > activity.containerStart.at)) {
    const name = model.containers.get(start.id)?.name ?? shortId(start.id);
    activity.containerStart = { at: start.at, name, id: start.id };
  }
  if (input.unknown) activity.unknown = input.unknown;
}
