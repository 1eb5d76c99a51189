/**
 * Sharding and the index artifact on real Linux 6.12 code (two PATHs with
 * lock, cross-file and refcount findings): the merged output of N shards is
 * the unsharded output, with and without a shared index built by
 * `refscope index`, and a warm run equals the cold one. Fails (never skips)
 * without the kernel tree.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureBuilt, kernelTree, runCli, type JsonReport } from '../unit/cli-support';

const DIRS = ['fs/ocfs2/dlm', 'drivers/nvme/target'];
const N = 3;
const TIMEOUT = 10 * 60_000;

let kernel = '';
let tmp = '';
before(() => {
  ensureBuilt();
  kernel = kernelTree();
  tmp = mkdtempSync(join(tmpdir(), 'refscope-corpus-shards-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]): string {
  const r = runCli(args, kernel, TIMEOUT);
  assert.ok(r.code === 0 || r.code === 1, `refscope ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe(`shards and the index artifact over ${DIRS.join(' ')}`, () => {
  test(`${N} shards merge into the unsharded SARIF and JSON; a shared index gives the same; warm = cold`, () => {
    const base = ['--no-cache', '--root', '.'];
    const sarif = run(['check', '--format', 'sarif', ...base, ...DIRS]);
    const json = JSON.parse(run(['check', '--format', 'json', ...base, ...DIRS])) as JsonReport;
    const rules = new Set(json.findings.map((f) => f.rule));
    assert.ok(json.findings.length >= 10 && rules.size >= 4, `the fixture directories have findings of several rules (${json.findings.length}: ${[...rules].join(', ')})`);

    const shard = (k: number, fmt: string, extra: string[] = []): string => {
      const p = join(tmp, `s${k}${extra.length ? 'i' : ''}.${fmt}`);
      writeFileSync(p, run(['check', '--format', fmt, ...base, ...extra, '--shard', `${k}/${N}`, ...DIRS]));
      return p;
    };
    const sarifParts = [1, 2, 3].map((k) => shard(k, 'sarif'));
    const jsonParts = [1, 2, 3].map((k) => shard(k, 'json'));
    const counts = jsonParts.map((p) => (JSON.parse(readFileSync(p, 'utf8')) as JsonReport).findings.length);
    assert.ok(counts.filter((c) => c > 0).length >= 2, `findings spread over shards: ${counts.join(', ')}`);
    assert.equal(run(['merge', '-', ...sarifParts]), sarif, 'merged SARIF = unsharded SARIF');
    const merged = JSON.parse(run(['merge', '-', ...jsonParts])) as JsonReport;
    assert.deepStrictEqual(merged.findings, json.findings, 'merged JSON findings = unsharded');
    assert.equal(merged.stats.files, json.stats.files);

    const idx = join(tmp, 'shared.idx');
    const built = runCli(['index', '--no-cache', '--root', '.', '--out', idx, ...DIRS], kernel, TIMEOUT);
    assert.equal(built.code, 0, built.stderr);
    const withIndex = [1, 2, 3].map((k) => shard(k, 'sarif', ['--index', idx]));
    assert.equal(run(['merge', '-', ...withIndex]), sarif, 'shards over a shared index merge into the unsharded SARIF');
    const warm = JSON.parse(run(['check', '--format', 'json', ...base, '--index', idx, ...DIRS])) as JsonReport & { stats: { indexFile?: { pass2Reused: boolean; analysedFiles: number } } };
    assert.deepStrictEqual(warm.findings, json.findings, 'warm run = cold run');
    assert.equal(warm.stats.indexFile?.pass2Reused, true);
    assert.equal(warm.stats.indexFile?.analysedFiles, 0);
  });
});
