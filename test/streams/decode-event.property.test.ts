import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KNOWN_ATTRIBUTES } from '../../src/docker/types.js';
import { decodeEvent, eventKey, nanoToSince } from '../../src/streams/decode-event.js';

const NANO_PLACEHOLDER = '__TIME_NANO__';

/** Attribute keys: known ones, look-alikes of our own fields (labels can be named anything), and noise. */
const attrKey = fc.oneof(
  fc.constantFrom(...KNOWN_ATTRIBUTES),
  fc.constantFrom('timeNano', 'time', 'Type', 'Action', 'status', 'id', 'from'),
  fc.string({ minLength: 1, maxLength: 12 }),
);

const wireEvent = fc.record({
  type: fc.oneof(
    fc.constantFrom('image', 'container', 'service', 'network', 'volume'),
    fc.string({ minLength: 1 }),
  ),
  action: fc.oneof(
    fc.constantFrom('pull', 'tag', 'untag', 'delete', 'start', 'die', 'exec_start: sh -c x'),
    fc.string({ minLength: 1 }),
  ),
  actorId: fc.string(),
  attributes: fc.dictionary(attrKey, fc.string(), { maxKeys: 8 }),
  // Beyond 2^53: JSON.parse would round these.
  timeNano: fc.bigInt({ min: 1_000_000_000_000_000_000n, max: 9_999_999_999_999_999_999n }),
  legacy: fc.boolean(),
  timeFirst: fc.boolean(),
});

type Gen = typeof wireEvent extends fc.Arbitrary<infer T> ? T : never;

/** The line as the engine writes it: timeNano a bare number; with or without the legacy fields (gone in API 1.52). */
function line(g: Gen): string {
  const actor = { ID: g.actorId, Attributes: g.attributes };
  const time = Number(g.timeNano / 1_000_000_000n);
  const legacy = g.legacy ? { status: g.action, id: g.actorId, from: 'x' } : {};
  const body = g.timeFirst
    ? {
        time,
        timeNano: NANO_PLACEHOLDER,
        ...legacy,
        Type: g.type,
        Action: g.action,
        Actor: actor,
        scope: 'local',
      }
    : {
        ...legacy,
        Type: g.type,
        Action: g.action,
        Actor: actor,
        scope: 'local',
        time,
        timeNano: NANO_PLACEHOLDER,
      };
  return JSON.stringify(body).replace(`"${NANO_PLACEHOLDER}"`, g.timeNano.toString());
}

describe('decode-event (property)', () => {
  it('decodes any well-formed event exactly: timeNano to the digit, only known attributes', () => {
    fc.assert(
      fc.property(wireEvent, (g) => {
        const d = decodeEvent(line(g));
        assert.ok(d.ok, JSON.stringify(d));
        assert.equal(d.event.type, g.type);
        assert.equal(d.event.action, g.action);
        assert.equal(d.event.actorId, g.actorId);
        assert.equal(d.event.timeNano, g.timeNano.toString());
        assert.equal(d.event.timeMs, Number(g.timeNano / 1_000_000n));
        const known = new Set<string>(KNOWN_ATTRIBUTES);
        const want = Object.fromEntries(Object.entries(g.attributes).filter(([k]) => known.has(k)));
        assert.deepEqual({ ...d.event.attributes }, want);
        assert.equal(nanoToSince(d.event.timeNano).replace('.', ''), g.timeNano.toString());
      }),
      { numRuns: 1000 },
    );
  });

  it('the legacy fields change nothing', () => {
    fc.assert(
      fc.property(wireEvent, (g) => {
        const a = decodeEvent(line({ ...g, legacy: true }));
        const b = decodeEvent(line({ ...g, legacy: false }));
        assert.deepEqual(a, b);
      }),
    );
  });

  it('every truncation of an event line is rejected, never thrown, never half-decoded', () => {
    fc.assert(
      fc.property(wireEvent, fc.double({ min: 0, max: 1, maxExcluded: true }), (g, at) => {
        const text = line(g);
        const cut = text.slice(0, Math.floor(at * text.length));
        const d = decodeEvent(cut);
        assert.equal(d.ok, false);
        if (!d.ok) assert.ok(d.sample.length <= 120);
      }),
      { numRuns: 500 },
    );
  });

  it('garbage never throws; whatever decodes has a Type, an Action and an exact time', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string({ unit: 'binary' }),
        ),
        (text) => {
          const d = decodeEvent(text);
          if (d.ok) {
            assert.ok(d.event.type.length > 0 && d.event.action.length > 0);
            assert.match(d.event.timeNano, /^\d+$/);
          } else assert.ok(d.reason.length > 0);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('two events differing only in time have different keys; the same event replayed has the same key', () => {
    fc.assert(
      fc.property(wireEvent, (g) => {
        const a = decodeEvent(line(g));
        const again = decodeEvent(line(g));
        const later = decodeEvent(line({ ...g, timeNano: g.timeNano + 1n }));
        assert.ok(a.ok && again.ok && later.ok);
        assert.equal(eventKey(a.event), eventKey(again.event));
        assert.notEqual(eventKey(a.event), eventKey(later.event));
      }),
    );
  });

  it('takes the digits of the first match of TIME_NANO, wherever and however timeNano is written', () => {
    const FIRST_MATCH = /"timeNano"\s*:\s*(\d+)/;
    fc.assert(
      fc.property(
        wireEvent,
        // Before the real one: a numeric timeNano nested in another member, a label named like it.
        fc.option(fc.bigInt({ min: 0n, max: 10n ** 25n }), { nil: undefined }),
        fc.constantFrom('', ' ', '\t', '  '),
        fc.constantFrom('', ' ', '\r', ' \t'),
        (g, nested, beforeColon, afterColon) => {
          const extra = nested === undefined ? '' : `"x":{"timeNano":${nested}},"yNano":"1",`;
          const text = `{${extra}${line(g).slice(1)}`.replace(
            `"timeNano":${g.timeNano}`,
            `"timeNano"${beforeColon}:${afterColon}${g.timeNano}`,
          );
          const digits = FIRST_MATCH.exec(text)?.[1] as string;
          const d = decodeEvent(text);
          assert.ok(d.ok, JSON.stringify(d));
          assert.equal(d.event.timeNano, digits);
          assert.equal(d.event.timeMs, digits.length > 6 ? Number(digits.slice(0, -6)) : 0);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
