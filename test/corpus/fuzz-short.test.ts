/**
 * Short fuzz run for CI (issue 8): bench/fuzz.mjs over 200 mutants of real
 * Linux 6.12 files (fixed seed, so the same mutants every run), analyzeFile and
 * every refcount rule with an index, in worker threads with a per-file timeout.
 * Zero crashes and zero hangs; the kernel tree is required (never skipped).
 * The long run is `npm run fuzz -- --count 10000 --seed 20261125 --max-kb 16 --jobs 3`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO } from '../unit/cli-support';

interface FuzzSummary {
  seed: number;
  files: number;
  crashes: number;
  hangs: number;
  maxFileMs: number;
  peakRssMb: number;
  baseFiles: number;
  mutators: Record<string, number>;
  failures: { kind: string; base: string; applied: string[]; detail: string }[];
}

test('fuzz: 200 mutated kernel files, seed 8, no crash and no hang', () => {
  const out = mkdtempSync(join(tmpdir(), 'refscope-fuzz-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'bench', 'fuzz.mjs'), '--count', '200', '--seed', '8', '--max-kb', '24', '--pool', '32', '--jobs', '2', '--timeout', '60000', '--out', out, '--json'], {
      cwd: REPO, encoding: 'utf8', timeout: 20 * 60_000, maxBuffer: 64 * 1024 * 1024,
    });
    if (r.error) throw r.error;
    const last = r.stdout.trim().split('\n').pop() ?? '';
    assert.ok(last.startsWith('{'), `fuzz printed no summary (exit ${r.status}): ${r.stderr.slice(-2000)}`);
    const s = JSON.parse(last) as FuzzSummary;
    assert.equal(s.files, 200);
    assert.equal(s.seed, 8);
    assert.deepEqual(s.failures, [], `failures (inputs in ${out}): ${JSON.stringify(s.failures).slice(0, 4000)}`);
    assert.equal(s.crashes, 0);
    assert.equal(s.hangs, 0);
    assert.ok(s.peakRssMb > 0);
    // every mutation kind was exercised
    assert.deepEqual(Object.keys(s.mutators).sort(), ['deleteLines', 'deleteToken', 'duplicateLines', 'duplicateToken', 'flip', 'splice', 'truncate']);
    assert.equal(r.status, 0);
    assert.deepEqual(readdirSync(out), [], 'no failure inputs saved');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
