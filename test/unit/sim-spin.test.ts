import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(new URL('.', import.meta.url).pathname, '..', '..');

// spin (and gcc) are installed by .ci/run; a missing spin is a failure, not a skip.
test('spin cross-check: every Promela twin gives the same verdict as Refscope', () => {
  const spin = spawnSync('spin', ['-V'], { encoding: 'utf8' });
  assert.equal(spin.status, 0, 'spin is not installed: apt-get install -y spin gcc');
  const models = readdirSync(join(root, 'bench', 'spin')).filter((f) => f.endsWith('.pml'));
  assert.ok(models.length >= 6, `only ${models.length} Promela models`);
  const scenarios = new Set(models.map((m) => m.split('.')[0]));
  assert.ok(scenarios.size >= 3, `only ${scenarios.size} scenarios cross-checked`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'spin', 'run.mjs')], { cwd: root, encoding: 'utf8', timeout: 240_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, new RegExp(`${models.length}/${models.length} Promela models agree with Refscope`));
  assert.equal((r.stdout.match(/^SAME /gm) ?? []).length, models.length);
  assert.match(r.stdout, /SAME abba-lock-order\/broken: refscope violation \[deadlock\].*spin violation \[deadlock\]/);
});
