/**
 * deploy/prometheus/: the rules load, and each alert has a `promtool test rules` case that passes
 * (Debian's `prometheus` package, installed by scripts/private-engine.sh install).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../deploy/prometheus/', import.meta.url));
const promtool = (...args: string[]) =>
  spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });

describe('deploy/prometheus rules', () => {
  it('pass promtool check rules', () => {
    const r = promtool('check', 'rules', 'layerwarden.rules.yml');
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('pass their promtool unit tests, one case at least per alert firing and one not firing', () => {
    const r = promtool('test', 'rules', 'layerwarden.rules.test.yml');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const alerts = [...readFileSync(`${DIR}layerwarden.rules.yml`, 'utf8').matchAll(/- alert: (\S+)/g)].map(
      (m) => m[1],
    );
    const tests = readFileSync(`${DIR}layerwarden.rules.test.yml`, 'utf8');
    assert.ok(alerts.length >= 8);
    for (const name of alerts) {
      const cases = tests.split(`- alertname: ${name}\n`).slice(1);
      assert.ok(
        cases.some((c) =>
          /^\s+eval_time: \S+\n\s+exp_alerts:\n\s+- exp_labels/.test(c.split('- alertname:')[0]!),
        ),
        `${name}: a case where it fires`,
      );
      assert.ok(
        cases.some((c) => /^\s+eval_time: \S+\n\s+exp_alerts: \[\]/.test(c)),
        `${name}: a case where it does not`,
      );
    }
  });
});
