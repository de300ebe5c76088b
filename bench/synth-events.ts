/**
 * Engine event lines built from the shapes a real dockerd 20.10 sends (bench/record.ts records them;
 * field order, legacy status/id/from fields, labels merged into attributes, 19-digit timeNano), for runs
 * that need more events or more distinct objects than a recording can give.
 */
import { createHash } from 'node:crypto';

/** The labels CI images carry; the engine merges them into every container and image event. */
export const NOISE_LABELS: Record<string, string> = {
  'ci.job': 'build-and-test',
  'ci.pipeline': '4711',
  'org.opencontainers.image.revision': '0123456789abcdef0123456789abcdef01234567',
  'org.opencontainers.image.source': 'https://example.invalid/ci/app',
};

export const hex64 = (seed: string) => createHash('sha256').update(seed).digest('hex');

/** A clock in nanoseconds that advances a little with every event (timeNano must be unique-ish). */
export class NanoClock {
  constructor(private ns: bigint = BigInt(Date.now()) * 1_000_000n) {}
  tick(stepNs = 20_000n): bigint {
    this.ns += stepNs;
    return this.ns;
  }
  get ms(): number {
    return Number(this.ns / 1_000_000n);
  }
}

const tail = (scope: string, ns: bigint) =>
  `"scope":"${scope}","time":${ns / 1_000_000_000n},"timeNano":${ns}}`;

const attrs = (a: Record<string, string>) =>
  JSON.stringify(Object.fromEntries(Object.entries(a).sort(([x], [y]) => x.localeCompare(y))));

/** A container event line: `from` is the image string the container was created with. */
export function containerLine(
  action: string,
  id: string,
  image: string,
  attributes: Record<string, string>,
  ns: bigint,
): string {
  return (
    `{"status":"${action}","id":"${id}","from":${JSON.stringify(image)},"Type":"container","Action":"${action}",` +
    `"Actor":{"ID":"${id}","Attributes":${attrs({ image, ...attributes })}},${tail('local', ns)}`
  );
}

/** An image event line; for pull/push `actor` is the ref, for the rest the image id. */
export function imageLine(
  action: string,
  actor: string,
  attributes: Record<string, string>,
  ns: bigint,
): string {
  return (
    `{"status":"${action}","id":${JSON.stringify(actor)},"Type":"image","Action":"${action}",` +
    `"Actor":{"ID":${JSON.stringify(actor)},"Attributes":${attrs(attributes)}},${tail('local', ns)}`
  );
}

/** Network, volume and service events carry no legacy fields. */
export function plainLine(
  type: string,
  action: string,
  actor: string,
  attributes: Record<string, string>,
  ns: bigint,
  scope = 'local',
): string {
  return `{"Type":"${type}","Action":"${action}","Actor":{"ID":${JSON.stringify(actor)},"Attributes":${attrs(attributes)}},${tail(scope, ns)}`;
}
