import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { scheduleOf } from '../../src/cli/prune-config.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { nextBoundary } from '../../src/prune/schedule.js';
import { adoptZone, isUtcZone, resolveZone, systemZone } from '../../src/prune/zone.js';

const ZONEINFO = '/usr/share/zoneinfo';

/** Every zone name of the system's tzdata (not the posix/ and right/ copies). */
function zoneinfoNames(dir = ZONEINFO, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const name = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory())
      return name === 'posix' || name === 'right' ? [] : zoneinfoNames(join(dir, e.name), name);
    return /^[A-Z]/.test(e.name) ? [name] : [];
  });
}

/** What `Intl` makes of a name: its canonical zone, or undefined when it refuses it. */
function intlZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** Noon-ish of the first of every month, every third year from 1970 to 2029. */
const INSTANTS: number[] = [];
for (let y = 1970; y < 2030; y += 3) for (let m = 0; m < 12; m++) INSTANTS.push(Date.UTC(y, m, 1, 12, 17));

/** Day, hour and minute of each instant in `tz`, read by `Intl`. */
function readByFormat(tz: string): string[] {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    hourCycle: 'h23',
  });
  return INSTANTS.map((t) => {
    const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, Number(x.value)]));
    return `${p.day} ${p.hour}:${p.minute}`;
  });
}

/** The same, read by the process clock with `TZ` set to the zone. */
function readByProcess(tz: string): string[] {
  const saved = process.env.TZ;
  process.env.TZ = tz;
  try {
    return INSTANTS.map((t) => {
      const d = new Date(t);
      return `${d.getDate()} ${d.getHours()}:${d.getMinutes()}`;
    });
  } finally {
    if (saved === undefined) Reflect.deleteProperty(process.env, 'TZ');
    else process.env.TZ = saved;
  }
}

describe('zone: names checked without a date-time format', () => {
  it('the system has tzdata to check against', () => {
    assert.ok(
      existsSync(`${ZONEINFO}/Europe/Berlin`),
      'tzdata is installed (scripts/private-engine.sh install)',
    );
  });

  it('accepts exactly the zoneinfo names Intl accepts, as a zone the process clock reads the same', () => {
    const names = zoneinfoNames();
    assert.ok(names.length > 400, `${names.length} zoneinfo names`);
    const disagree: string[] = [];
    for (const name of names) {
      const resolved = resolveZone(name);
      const intl = intlZone(name);
      if ((resolved === undefined) !== (intl === undefined)) disagree.push(`${name}: ${resolved} vs ${intl}`);
      else if (resolved && readByProcess(resolved).join() !== readByFormat(name).join())
        disagree.push(`${name}: the process clock in ${resolved} reads other times than Intl`);
    }
    assert.deepEqual(disagree, []);
  });

  it('refuses what is not a zone, and leaves the process clock as it was', () => {
    const before = process.env.TZ;
    for (const name of [
      'Mars/Base',
      'ABC+3',
      '../Asia/Tokyo',
      'Asia/../Asia/Tokyo',
      'Asia/Tokyo/',
      '',
      '  ',
    ]) {
      assert.equal(resolveZone(name), undefined, JSON.stringify(name));
    }
    assert.equal(process.env.TZ, before);
  });

  it('trims, names a link as tzdata does, and canonicalizes what only Intl knows', () => {
    assert.equal(resolveZone(' Europe/Berlin '), 'Europe/Berlin');
    assert.equal(resolveZone('Asia/Kolkata'), 'Asia/Kolkata');
    // The process clock reads TZ=Eire an hour off in winter; tzdata's own name for it reads right.
    assert.equal(resolveZone('Eire'), 'Europe/Dublin');
    assert.equal(resolveZone('asia/tokyo'), 'Asia/Tokyo');
  });

  it('the zero-offset names are zones Intl knows, at offset zero', () => {
    const zero = zoneinfoNames().filter(isUtcZone);
    assert.ok(zero.includes('Etc/UTC') && zero.includes('UTC') && zero.includes('Etc/GMT-0'), zero.join());
    for (const name of zero) {
      assert.ok(intlZone(name), name);
      assert.deepEqual(readByFormat(name), readByFormat('UTC'), name);
    }
    assert.equal(isUtcZone('Etc/GMT+5'), false);
  });
});

describe('zone: the system zone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-zone-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is the zoneinfo name /etc/localtime links to', () => {
    symlinkSync('/usr/share/zoneinfo/Europe/Berlin', join(dir, 'absolute'));
    symlinkSync('../usr/share/zoneinfo/posix/Asia/Tokyo', join(dir, 'relative'));
    assert.equal(systemZone(join(dir, 'absolute')), 'Europe/Berlin');
    assert.equal(systemZone(join(dir, 'relative')), 'Asia/Tokyo');
  });

  it('is UTC without /etc/localtime, and Intl’s for a copied file', () => {
    assert.equal(systemZone(join(dir, 'missing')), 'UTC');
    writeFileSync(join(dir, 'copied'), 'TZif');
    assert.equal(systemZone(join(dir, 'copied')), Intl.DateTimeFormat().resolvedOptions().timeZone);
  });
});

describe('zone: a command adopts its schedule zone', () => {
  it('reads the schedule from the process clock, no date-time format made', () => {
    const saved = { tz: process.env.TZ, format: Intl.DateTimeFormat };
    const made: string[] = [];
    // Any date-time format the path makes is counted (and still made, so a failure reads plainly).
    Intl.DateTimeFormat = new Proxy(saved.format, {
      construct(target, args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
        made.push(JSON.stringify(args));
        return new target(...args);
      },
      apply(target, _this, args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
        made.push(JSON.stringify(args));
        return target(...args);
      },
    });
    try {
      Reflect.deleteProperty(process.env, 'TZ');
      const { config } = resolveConfig({ tz: 'Europe/Berlin' }, {});
      const schedule = scheduleOf(config);
      assert.equal(process.env.TZ, 'Europe/Berlin');
      assert.equal(schedule.clock, 'process');
      // Midnight in Berlin after the spring-forward day: 22:00 UTC.
      assert.equal(
        new Date(nextBoundary(schedule, Date.parse('2025-03-30T12:00Z'))).toISOString(),
        '2025-03-30T22:00:00.000Z',
      );
      const utc = scheduleOf(resolveConfig({ tz: 'Etc/UTC' }, {}).config);
      assert.equal(utc.clock, 'utc');
      assert.deepEqual(made, []);
    } finally {
      Intl.DateTimeFormat = saved.format;
      if (saved.tz === undefined) Reflect.deleteProperty(process.env, 'TZ');
      else process.env.TZ = saved.tz;
    }
  });

  it('leaves the zero-offset zones to the UTC clock', () => {
    const saved = process.env.TZ;
    adoptZone('UTC');
    assert.equal(process.env.TZ, saved);
  });
});
