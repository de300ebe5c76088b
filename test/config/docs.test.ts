import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OPTION_SPECS } from '../../src/config/options.js';
import { attributeOf } from '../../src/config/resolve.js';
import { createAgentMetrics } from '../../src/metrics/metrics.js';
import { quietSources } from '../metrics/quiet-sources.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const doc = (name: string) => readFileSync(path.join(ROOT, name), 'utf8');

describe('the docs keep up with the code', () => {
  it('docs/configuration.md has a row for every option: its flag, variable and file key', () => {
    const text = doc('docs/configuration.md');
    for (const s of OPTION_SPECS) {
      const flag = s.flag.split(' ')[0] as string;
      const row = text
        .split('\n')
        .find((l) => l.startsWith(`| \`${flag} `) || l.startsWith(`| \`${flag}\` `));
      assert.ok(row, `a row for ${flag}`);
      assert.ok(row.includes(`\`${s.env}\``), `${flag}: ${s.env}`);
      assert.ok(row.includes(`\`${attributeOf(s.flag)}\``), `${flag}: file key ${attributeOf(s.flag)}`);
    }
  });

  it('the README states the same precedence', () => {
    assert.match(doc('README.md'), /flag > `LAYERWARDEN_\*` environment variable > config file > default/);
    assert.match(doc('docs/configuration.md'), /\*\*Precedence, highest first:\*\*/);
  });

  it('docs/metrics.md describes every metric the agent exports', async () => {
    const metrics = createAgentMetrics(quietSources(() => undefined));
    const names = [...(await metrics.render()).matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1] as string);
    assert.ok(names.length > 20);
    const text = doc('docs/metrics.md');
    for (const name of names) assert.ok(text.includes(`| \`${name}\` |`), name);
  });
});
