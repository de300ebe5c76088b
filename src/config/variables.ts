import { OPTION_SPECS } from './options.js';

/** The config file's own variable: not an option, but ours. */
export const CONFIG_VARIABLE = 'LAYERWARDEN_CONFIG';

/**
 * `LAYERWARDEN_*` names that are not the agent's options but are ours all the same: deploy/stack.yml's
 * interpolation variables, set on the host that runs `docker stack deploy`.
 */
const DEPLOY_VARIABLES = ['LAYERWARDEN_IMAGE', 'LAYERWARDEN_DOCKER_SOCKET'];

/** Every variable the agent reads, from the option table (so a new option is known at once). */
export function knownVariables(): string[] {
  return [...OPTION_SPECS.map((s) => s.env), CONFIG_VARIABLE];
}

/** Edit distance of two names (insert, delete, substitute), for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length] as number;
}

/** The nearest known variable to a misspelt one (underscores ignored: `DISKHIGH` is `DISK_HIGH`). */
export function nearestVariable(name: string): string {
  const bare = (n: string) => n.replace(/_/g, '');
  const known = knownVariables();
  let best = known[0] as string;
  for (const k of known) if (distance(bare(name), bare(k)) < distance(bare(name), bare(best))) best = k;
  return best;
}

/**
 * The first `LAYERWARDEN_*` variable (in name order) that is not one of ours, with its one-line message:
 * the unit's env file is the main configuration of a service, and a typo there must not run the
 * default silently. An empty one counts as unset, like every option's.
 */
export function unknownVariable(env: NodeJS.ProcessEnv): { name: string; message: string } | undefined {
  const known = new Set([...knownVariables(), ...DEPLOY_VARIABLES]);
  const name = Object.keys(env)
    .filter((k) => k.startsWith('LAYERWARDEN_') && !known.has(k) && env[k] !== '')
    .sort()[0];
  return name ? { name, message: `no such variable (did you mean ${nearestVariable(name)}?)` } : undefined;
}
