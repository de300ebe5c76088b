import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LayerwardenError } from '../../src/errors.js';
import {
  DEFAULT_WINDOW_MS,
  type Schedule,
  currentWindow,
  dueEvaluation,
  missedWindows,
  nextBoundary,
  parseSchedule,
  previousBoundary,
} from '../../src/prune/schedule.js';

const H = 3600_000;
const D = 24 * H;
const at = (iso: string) => Date.parse(iso);
const isoOf = (ms: number) => new Date(ms).toISOString();

/** Every boundary in [from, to), as ISO strings. */
function boundaries(schedule: Schedule, from: string, to: string): string[] {
  const out: string[] = [];
  for (let b = nextBoundary(schedule, at(from) - 1); b < at(to); b = nextBoundary(schedule, b))
    out.push(isoOf(b));
  return out;
}

type ClockKind = 'process' | 'format';

/**
 * Runs `read` on a schedule that reads wall-clock time from the process clock (the process has adopted the
 * zone, as every command does) or from a date-time format (it has not), then puts the process zone back.
 */
function inClock<T>(
  clock: ClockKind,
  config: Parameters<typeof parseSchedule>[0],
  read: (s: Schedule) => T,
): T {
  const saved = process.env.TZ;
  if (clock === 'process') process.env.TZ = config.tz;
  else Reflect.deleteProperty(process.env, 'TZ');
  try {
    const schedule = parseSchedule(config);
    assert.equal(schedule.clock, clock);
    return read(schedule);
  } finally {
    if (saved === undefined) Reflect.deleteProperty(process.env, 'TZ');
    else process.env.TZ = saved;
  }
}
const CLOCKS: ClockKind[] = ['process', 'format'];

describe('schedule: DST days', () => {
  const cases: Array<[string, string, string, string, string[]]> = [
    // zone, cron, from, to, expected boundaries (UTC)
    [
      'Europe/Berlin',
      '0 0 * * *',
      '2025-03-29T12:00Z',
      '2025-03-31T12:00Z',
      ['2025-03-29T23:00:00.000Z', '2025-03-30T22:00:00.000Z'],
    ],
    [
      'Europe/Berlin',
      '0 0 * * *',
      '2025-10-25T12:00Z',
      '2025-10-27T12:00Z',
      ['2025-10-25T22:00:00.000Z', '2025-10-26T23:00:00.000Z'],
    ],
    // 02:30 does not exist on 30 March in Berlin: one boundary at the jump (03:00 CEST)
    ['Europe/Berlin', '30 2 * * *', '2025-03-29T12:00Z', '2025-03-30T12:00Z', ['2025-03-30T01:00:00.000Z']],
    // 02:30 happens twice on 26 October in Berlin: one boundary, the first (CEST)
    ['Europe/Berlin', '30 2 * * *', '2025-10-25T12:00Z', '2025-10-26T12:00Z', ['2025-10-26T00:30:00.000Z']],
    [
      'America/New_York',
      '0 0 * * *',
      '2025-03-08T12:00Z',
      '2025-03-10T12:00Z',
      ['2025-03-09T05:00:00.000Z', '2025-03-10T04:00:00.000Z'],
    ],
    [
      'America/New_York',
      '0 0 * * *',
      '2025-11-01T12:00Z',
      '2025-11-03T12:00Z',
      ['2025-11-02T04:00:00.000Z', '2025-11-03T05:00:00.000Z'],
    ],
    [
      'America/New_York',
      '30 2 * * *',
      '2025-03-08T12:00Z',
      '2025-03-09T12:00Z',
      ['2025-03-09T07:00:00.000Z'],
    ],
    [
      'America/New_York',
      '30 1 * * *',
      '2025-11-01T12:00Z',
      '2025-11-02T12:00Z',
      ['2025-11-02T05:30:00.000Z'],
    ],
    // a list of hours is fixed-time too: once on the fall-back day, at the jump on spring-forward
    [
      'America/New_York',
      '30 1,13 * * *',
      '2025-11-02T00:00Z',
      '2025-11-02T12:00Z',
      ['2025-11-02T05:30:00.000Z'],
    ],
    [
      'America/New_York',
      '30 2,14 * * *',
      '2025-03-09T00:00Z',
      '2025-03-09T12:00Z',
      ['2025-03-09T07:00:00.000Z'],
    ],
    // croner runs a stepped pattern on both passes of the repeated hour; the second pass is dropped
    [
      'America/New_York',
      '*/30 1 * * *',
      '2025-11-02T00:00Z',
      '2025-11-02T12:00Z',
      ['2025-11-02T05:00:00.000Z', '2025-11-02T05:30:00.000Z'],
    ],
  ];
  for (const clock of CLOCKS) {
    for (const [tz, cron, from, to, expected] of cases) {
      it(`${tz} '${cron}' ${from.slice(0, 10)}, ${clock} clock`, () => {
        assert.deepEqual(
          inClock(clock, { cron, tz }, (s) => boundaries(s, from, to)),
          expected,
        );
      });
    }
  }

  it('looks back past the repeated hour to the first 01:30 (New York fall-back)', () => {
    const schedule = parseSchedule({ cron: '30 1 * * *', tz: 'America/New_York' });
    assert.equal(isoOf(previousBoundary(schedule, at('2025-11-02T07:00Z')) ?? 0), '2025-11-02T05:30:00.000Z');
    assert.deepEqual(currentWindow(schedule, at('2025-11-02T07:00Z')), {
      boundary: at('2025-11-02T05:30Z'),
      closesAt: at('2025-11-02T11:30Z'),
    });
  });

  it('evaluates once on the fall-back day even when the window spans the repeated hour', () => {
    const schedule = parseSchedule({ cron: '30 1 * * *', tz: 'America/New_York' });
    const first = dueEvaluation(schedule, at('2025-11-02T05:31Z'));
    assert.deepEqual(first, {
      due: true,
      boundary: at('2025-11-02T05:30Z'),
      closesAt: at('2025-11-02T11:30Z'),
    });
    const second = dueEvaluation(schedule, at('2025-11-02T06:31Z'), at('2025-11-02T05:30Z'));
    assert.deepEqual(second, { due: false, reason: 'evaluated', nextCheckAt: at('2025-11-03T06:30Z') });
  });
});

describe('schedule: the process clock reads what a date-time format reads', () => {
  // Half-hour DST (Lord Howe), a DST change at midnight (São Paulo, 2018), no DST (Kolkata), 45-minute
  // offsets with DST (Chatham), and the two everyday ones.
  const zones = [
    'Europe/Berlin',
    'America/New_York',
    'Australia/Lord_Howe',
    'America/Sao_Paulo',
    'Asia/Kolkata',
    'Pacific/Chatham',
  ];
  const crons = ['0 0 * * *', '30 2 * * *', '*/30 1 * * *', '0 2,14 * * *', '15 1 * * 0', '0 0 1 * *'];
  for (const tz of zones) {
    it(`${tz}: every boundary of 2018 and 2025, each pattern`, () => {
      for (const cron of crons) {
        for (const [from, to] of [
          ['2018-01-01T00:00Z', '2019-01-01T00:00Z'],
          ['2025-01-01T00:00Z', '2026-01-01T00:00Z'],
        ] as const) {
          const [viaProcess, viaFormat] = CLOCKS.map((clock) =>
            inClock(clock, { cron, tz }, (s) => boundaries(s, from, to)),
          );
          assert.ok((viaFormat?.length ?? 0) >= 12, `${tz} '${cron}' fires in ${from.slice(0, 4)}`);
          assert.deepEqual(viaProcess, viaFormat, `${tz} '${cron}' ${from.slice(0, 4)}`);
        }
      }
    });
  }

  it('the previous boundary and the due evaluation at any instant', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.constantFrom(...crons),
        fc.integer({ min: at('2018-01-01T00:00Z'), max: at('2027-01-01T00:00Z') }),
        (tz, cron, now) => {
          const read = (s: Schedule) => ({
            previous: previousBoundary(s, now),
            due: dueEvaluation(s, now, now - 2 * D),
          });
          assert.deepEqual(inClock('process', { cron, tz }, read), inClock('format', { cron, tz }, read));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('schedule: one evaluation per boundary', () => {
  const schedule = parseSchedule({ tz: 'Europe/Berlin' }); // midnight, 6 h window
  const b0 = at('2025-06-09T22:00Z'); // 10 June 00:00 CEST
  const b1 = b0 + D;
  const b2 = b1 + D;

  it('defaults to midnight and a 6 h window', () => {
    assert.equal(schedule.cron, '0 0 * * *');
    assert.equal(schedule.windowMs, DEFAULT_WINDOW_MS);
    assert.equal(nextBoundary(schedule, b0 - 1), b0);
    assert.equal(nextBoundary(schedule, b0), b1);
  });

  it('opens the window at the boundary and closes it after windowMs', () => {
    assert.equal(currentWindow(schedule, b0 - 1), undefined);
    assert.deepEqual(currentWindow(schedule, b0), { boundary: b0, closesAt: b0 + 6 * H });
    assert.equal(currentWindow(schedule, b0 + 6 * H), undefined);
  });

  it('is due inside a window never evaluated, also on a first start', () => {
    assert.deepEqual(dueEvaluation(schedule, b1 + H, b0), { due: true, boundary: b1, closesAt: b1 + 6 * H });
    assert.deepEqual(dueEvaluation(schedule, b1 + H), { due: true, boundary: b1, closesAt: b1 + 6 * H });
  });

  it('is not due after a restart inside the window already evaluated', () => {
    assert.deepEqual(dueEvaluation(schedule, b1 + 2 * H, b1), {
      due: false,
      reason: 'evaluated',
      nextCheckAt: b2,
    });
  });

  it('catches up a missed boundary while its window is open, not after', () => {
    assert.equal(dueEvaluation(schedule, b1 + 5 * H, b0).due, true);
    assert.deepEqual(dueEvaluation(schedule, b1 + 7 * H, b0), {
      due: false,
      reason: 'outside-window',
      nextCheckAt: b2,
    });
  });

  it('reports a window that closed unevaluated', () => {
    assert.deepEqual(missedWindows(schedule, b0, b1 + 7 * H), [{ boundary: b1, closesAt: b1 + 6 * H }]);
    assert.deepEqual(missedWindows(schedule, b0, b1 + 5 * H), []); // still open: not missed yet
    assert.deepEqual(missedWindows(schedule, b1, b1 + 7 * H), []);
    assert.deepEqual(missedWindows(schedule, undefined, b1 + 7 * H), []); // no history on a first start
  });

  it('repeats nothing when the clock jumps back', () => {
    // evaluated b1 at 01:00, then the clock goes back to before b1, and into b0's window
    assert.deepEqual(dueEvaluation(schedule, b1 - H, b1), {
      due: false,
      reason: 'outside-window',
      nextCheckAt: b2,
    });
    assert.deepEqual(dueEvaluation(schedule, b0 + H, b1), {
      due: false,
      reason: 'evaluated',
      nextCheckAt: b2,
    });
    assert.deepEqual(missedWindows(schedule, b1, b0 + H), []);
  });

  it('catches up once, for the latest boundary, when the clock jumps forward over two', () => {
    const now = b2 + H;
    assert.deepEqual(dueEvaluation(schedule, now, b0), { due: true, boundary: b2, closesAt: b2 + 6 * H });
    assert.deepEqual(missedWindows(schedule, b0, now), [{ boundary: b1, closesAt: b1 + 6 * H }]);
    assert.equal(dueEvaluation(schedule, now + 1, b2).due, false);
  });

  it('never asks for a check at or before now', () => {
    for (let now = b0 - 3 * H; now < b2; now += 37 * 60_000) {
      for (const last of [undefined, b0, b1]) {
        const d = dueEvaluation(schedule, now, last);
        if (!d.due) assert.ok(d.nextCheckAt > now, `${isoOf(now)} last ${last && isoOf(last)}`);
      }
    }
  });

  it('keeps only the most recent missed windows', () => {
    const missed = missedWindows(schedule, b0 - 100 * D, b0 + 7 * H, 3);
    assert.deepEqual(
      missed.map((w) => w.boundary),
      [b0 - 2 * D, b0 - D, b0],
    );
  });
});

describe('schedule: configuration errors', () => {
  const bad: Array<[string, Parameters<typeof parseSchedule>[0], RegExp]> = [
    ['garbage', { cron: 'nonsense', tz: 'UTC' }, /bad prune schedule 'nonsense'/],
    ['out of range', { cron: '61 * * * *', tz: 'UTC' }, /bad prune schedule '61 \* \* \* \*'/],
    ['years', { cron: '0 0 * * * * 2030', tz: 'UTC' }, /bad prune schedule/],
    ['never fires', { cron: '0 0 30 2 *', tz: 'UTC' }, /never fires/],
    ['unknown zone', { tz: 'Mars/Olympus' }, /unknown time zone 'Mars\/Olympus'/],
    ['zero window', { tz: 'UTC', windowMs: 0 }, /positive duration/],
  ];
  for (const [name, config, message] of bad) {
    it(`rejects ${name} as a one-line config error`, () => {
      assert.throws(
        () => parseSchedule(config),
        (err: unknown) =>
          err instanceof LayerwardenError &&
          err.code === 'config' &&
          message.test(err.message) &&
          !err.message.includes('\n'),
      );
    });
  }
});
