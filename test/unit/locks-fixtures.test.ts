/**
 * Golden tests: every fixture under test/fixtures/locks is analysed with the real
 * WASM grammar and its findings (rule, line, function) are compared with
 * `<fixture>.expected.json`. Regenerate with `UPDATE_GOLDEN=1 npm run test:unit`
 * (or `node --import tsx --test test/unit/locks-fixtures.test.ts -- --update`).
 * Independently of the goldens, every line marked `BUG` must carry a finding and
 * functions named `good_*` must have none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeParser } from '../../src/node/assets';
import { analyzeFile } from '../../src/core/analyze';
import { RULES } from '../../src/core/rules/registry';
import { REFCOUNT_RULES } from '../../src/core/rules/refcount/index';

const dir = join(__dirname, '..', 'fixtures', 'locks');
const update = process.env['UPDATE_GOLDEN'] === '1' || process.argv.includes('--update');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.c')).sort();

interface Golden {
  rule: string;
  line: number;
  function: string;
  message: string;
}

const seenRules = new Map<string, { pos: number }>();

for (const name of fixtures) {
  test(`fixture ${name}`, async () => {
    const parser = await nodeParser();
    const text = readFileSync(join(dir, name), 'utf8');
    const r = analyzeFile(parser, text, name);
    assert.equal(r.stats.functionsNotAnalysed, 0, 'every fixture function is analysed');
    const got: Golden[] = r.findings.map((f) => ({ rule: f.rule, line: f.span.start.line, function: f.function, message: f.message }));
    const goldenPath = join(dir, name.replace(/\.c$/, '.expected.json'));
    if (update || !existsSync(goldenPath)) writeFileSync(goldenPath, JSON.stringify(got, null, 2) + '\n');
    const want = JSON.parse(readFileSync(goldenPath, 'utf8')) as Golden[];
    assert.deepEqual(got, want);

    const lines = text.split('\n');
    lines.forEach((l, i) => {
      if (/\bBUG\b/.test(l)) assert.ok(got.some((g) => g.line === i + 1), `${name}:${i + 1} is marked BUG but has no finding`);
    });
    for (const g of got) assert.ok(!g.function.startsWith('good_'), `${name}:${g.line}: false positive in ${g.function}: ${g.message}`);
    assert.ok(got.length > 0, 'each fixture has a positive case');
    assert.ok(/\bgood_\w+\(/.test(text), 'each fixture has a negative case');
    for (const f of r.findings) {
      assert.ok(f.trace.length >= 1, 'findings carry a trace');
      assert.equal(f.scenario, RULES.find((x) => x.id === f.rule)?.scenario);
      assert.equal(f.severity, 'warning');
      seenRules.set(f.rule, { pos: (seenRules.get(f.rule)?.pos ?? 0) + 1 });
    }
  });
}

test('every lock rule fires on some lock fixture', async () => {
  const parser = await nodeParser();
  const rules = new Set<string>();
  for (const name of fixtures) for (const f of analyzeFile(parser, readFileSync(join(dir, name), 'utf8'), name).findings) rules.add(f.rule);
  // lock-order-inversion is workspace-wide (edges per file, aggregated): test/unit/lock-order.test.ts
  assert.deepEqual([...rules].sort(), RULES.map((r) => r.id).filter((id) => !(id in REFCOUNT_RULES) && id !== 'lock-order-inversion').sort());
});

test('rule registry: exact ids, help pages that exist, scenarios', () => {
  assert.deepEqual(RULES.map((r) => r.id), [
    'lock-leak', 'double-lock', 'unlock-unheld', 'sleep-in-atomic',
    'unchecked-get-unless-zero', 'get-unless-zero-outside-lookup', 'put-under-release-lock', 'free-without-grace-period',
    'ref-leak', 'use-after-put', 'unsafe-lookup-get', 'lock-order-inversion',
  ]);
  for (const r of RULES) {
    assert.equal(r.helpUri, `https://github.com/refscope/refscope/blob/main/docs/rules/${r.id}.md`);
    assert.ok(existsSync(join(__dirname, '..', '..', 'docs', 'rules', `${r.id}.md`)), `docs/rules/${r.id}.md`);
    assert.equal(r.defaultSeverity, 'warning');
    assert.ok(r.scenario && r.shortDescription && r.fullDescription && r.name);
    assert.match(readFileSync(join(__dirname, '..', '..', 'docs', 'rules', `${r.id}.md`), 'utf8'), new RegExp(`\`${r.scenario}\``));
  }
});
