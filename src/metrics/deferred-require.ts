import Module, { createRequire } from 'node:module';

/** What a deferred module's real exports are taken to be: properties read by name. */
type Exports = Record<PropertyKey, unknown>;

/**
 * Puts a stand-in for the CommonJS module `request`, as the module at `parentPath` resolves it, into
 * the require cache: requiring it then costs nothing, and the real module is loaded the first time
 * anything reads a property of the stand-in. `constructors` are the names a requirer reads when it
 * loads (`var Client = require('ssh2').Client`): those are forwarding constructors until one is
 * called. Returns whether a stand-in was put in place (not when the module is already loaded or does
 * not resolve, so a dependency that moved costs memory but never breaks).
 *
 * For dependencies of dependencies the agent never uses but would load at start for nothing (see
 * `src/metrics/metrics.ts`); a module loaded this way still behaves as itself once used.
 */
export function deferRequire(
  parentPath: string,
  request: string,
  constructors: readonly string[] = [],
): boolean {
  const requireFromParent = createRequire(parentPath);
  let filename: string;
  try {
    filename = requireFromParent.resolve(request);
  } catch {
    return false;
  }
  const cache = requireFromParent.cache;
  if (cache[filename]) return false;
  let real: Exports | undefined;
  const load = (): Exports => {
    if (!real) {
      delete cache[filename];
      real = requireFromParent(filename) as Exports;
    }
    return real;
  };
  const forwarding = new Map(
    constructors.map((name) => [
      name,
      function Deferred(...args: unknown[]) {
        return Reflect.construct(load()[name] as new (...a: unknown[]) => object, args);
      },
    ]),
  );
  const stand = new Module(filename);
  stand.filename = filename;
  stand.loaded = true;
  stand.exports = new Proxy({} as Exports, {
    get: (_target, key) => (real ? real[key] : (forwarding.get(key as string) ?? load()[key])),
    has: (_target, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_target, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d && { ...d, configurable: true };
    },
  });
  cache[filename] = stand;
  return true;
}
