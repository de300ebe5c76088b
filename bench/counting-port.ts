import type { DockerPort } from '../src/docker/port.js';

/** The port with a count of calls per method (an image inspect is two API calls: json and history). */
export function countingPort(port: DockerPort): { port: DockerPort; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const wrapped = new Proxy(port, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => {
        counts.set(prop, (counts.get(prop) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { port: wrapped, counts };
}
