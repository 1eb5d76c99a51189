/**
 * The index artifact (`refscope index`, `check --index FILE`), sharding
 * (`check --shard K/N`) and `refscope merge`: the built CLI on a small
 * workspace with lock, cross-file, header-knowledge and refcount findings.
 * Every warm, sharded or merged result is compared with a plain cold run on
 * the same tree.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureBuilt, REPO, runCli, sarifValidator, type JsonReport } from './cli-support';

interface ArtifactStats {
  reusedFiles: number;
  analysedFiles: number;
  reusedHeaders: number;
  analysedHeaders: number;
  pass2Reused: boolean;
  writtenBytes: number;
}
interface Report extends JsonReport {
  stats: JsonReport['stats'] & { indexFile?: ArtifactStats; shard?: { k: number; n: number } };
}

/** A header outside the PATH: a refcount wrapper pair (learned by the index) and a helper that sleeps. */
const OBJ_H = `#ifndef _FOO_OBJ_H
#define _FOO_OBJ_H
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/delay.h>
struct foo_obj { struct kref ref; int id; };
extern struct mutex foo_lock;
void foo_obj_release(struct kref *ref);
static inline void foo_obj_put(struct foo_obj *obj)
{
	kref_put(&obj->ref, foo_obj_release);
}
static inline void foo_settle(void)
{
	msleep(1);
}
#endif
`;

/** put-under-release-lock through the learned wrapper. */
const FOO_CORE = `#include <linux/slab.h>
#include <foo/obj.h>
DEFINE_MUTEX(foo_lock);
void foo_obj_release(struct kref *ref)
{
	struct foo_obj *obj = container_of(ref, struct foo_obj, ref);
	mutex_lock(&foo_lock);
	obj->id = -1;
	mutex_unlock(&foo_lock);
	kfree(obj);
}
void foo_forget(struct foo_obj *obj)
{
	mutex_lock(&foo_lock);
	foo_obj_put(obj);
	mutex_unlock(&foo_lock);
}
`;

/** sleep-in-atomic only through the header's foo_settle() (header knowledge in pass 1). */
const FOO_IRQ = `#include <linux/spinlock.h>
#include <foo/obj.h>
static DEFINE_SPINLOCK(foo_irq_lock);
void foo_irq_poke(void)
{
	spin_lock(&foo_irq_lock);
	foo_settle();
	spin_unlock(&foo_irq_lock);
}
`;

const ORDER = (name: string, first: string, second: string) => `#include <linux/mutex.h>
extern struct mutex bar_a_lock, bar_b_lock;
void ${name}(void)
{
	mutex_lock(&${first});
	mutex_lock(&${second});
	mutex_unlock(&${second});
	mutex_unlock(&${first});
}
`;

function workspace(): string {
  const root = mkdtempSync(join(tmpdir(), 'refscope-artifact-'));
  mkdirSync(join(root, 'include', 'foo'), { recursive: true });
  mkdirSync(join(root, 'drivers', 'foo'), { recursive: true });
  mkdirSync(join(root, 'drivers', 'bar'), { recursive: true });
  writeFileSync(join(root, 'include', 'foo', 'obj.h'), OBJ_H);
  writeFileSync(join(root, 'drivers', 'foo', 'foo_core.c'), FOO_CORE);
  writeFileSync(join(root, 'drivers', 'foo', 'foo_irq.c'), FOO_IRQ);
  writeFileSync(join(root, 'drivers', 'bar', 'bar_one.c'), ORDER('bar_one', 'bar_a_lock', 'bar_b_lock'));
  writeFileSync(join(root, 'drivers', 'bar', 'bar_two.c'), ORDER('bar_two', 'bar_b_lock', 'bar_a_lock'));
  cpSync(join(REPO, 'examples', 'blinkdev'), join(root, 'drivers', 'blink'), { recursive: true });
  return root;
}

function check(root: string, ...args: string[]): { report: Report; stderr: string } {
  const r = runCli(['check', '--format', 'json', '--no-cache', '--root', '.', ...args], root);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  return { report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

function sarif(root: string, ...args: string[]): string {
  const r = runCli(['check', '--format', 'sarif', '--no-cache', '--root', '.', ...args], root);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const rules = (r: Report): string[] => [...new Set(r.findings.map((f) => f.rule))].sort();

describe('index artifact, shards and merge', () => {
  let root: string;
  before(() => {
    ensureBuilt();
    root = workspace();
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('the fixture has findings of every kind the artifact must carry', () => {
    const cold = check(root, 'drivers').report;
    // pass-1 lock rules, header knowledge, lock-order over files, the index-based refcount rule
    for (const r of ['lock-leak', 'double-lock', 'unlock-unheld', 'sleep-in-atomic', 'lock-order-inversion', 'put-under-release-lock']) {
      assert.ok(rules(cold).includes(r), `${r} in ${rules(cold).join(', ')}`);
    }
    assert.ok(cold.findings.some((f) => f.rule === 'sleep-in-atomic' && f.file === 'drivers/foo/foo_irq.c'), 'the header-knowledge finding');
  });

  test('cold, then warm: the same findings; the warm run reuses everything and leaves the index as it is', () => {
    const idx = join(root, 'warm.idx');
    const plain = check(root, 'drivers').report;
    const cold = check(root, '--index', idx, 'drivers');
    assert.deepStrictEqual(cold.report.findings, plain.findings);
    const a = cold.report.stats.indexFile!;
    assert.equal(a.reusedFiles, 0);
    assert.equal(a.analysedFiles, cold.report.stats.files);
    assert.ok(a.writtenBytes > 0 && statSync(idx).size === a.writtenBytes, 'the index is written');
    assert.match(cold.stderr, /index .*warm\.idx written/);

    const before = readFileSync(idx);
    const warm = check(root, '--index', idx, 'drivers');
    assert.deepStrictEqual(warm.report.findings, plain.findings);
    const w = warm.report.stats.indexFile!;
    assert.equal(w.reusedFiles, plain.stats.files);
    assert.equal(w.analysedFiles, 0);
    assert.equal(w.analysedHeaders, 0);
    assert.ok(w.reusedHeaders >= 1, 'the header outside the PATH came from the index');
    assert.equal(w.pass2Reused, true);
    assert.equal(w.writtenBytes, 0);
    assert.match(warm.stderr, /unchanged/);
    assert.ok(readFileSync(idx).equals(before), 'a warm run with nothing changed does not rewrite the index');
  });

  test('a changed .c file is analysed again, alone, and the results equal a cold run', () => {
    const ws = workspace();
    try {
      const idx = join(ws, 'i.idx');
      check(ws, '--index', idx, 'drivers');
      // fix the lock leak in blink_core.c (an early return that kept the mutex)
      const f = join(ws, 'drivers', 'blink', 'blink_core.c');
      const text = readFileSync(f, 'utf8');
      const leak = '\tif (!p)\n\t\treturn -ENOENT;\n\tlist_del(&p->link);';
      assert.ok(text.includes(leak), 'the fixture edit applies');
      writeFileSync(f, text.replace(leak, '\tif (!p) {\n\t\tmutex_unlock(&bd->cfg_lock);\n\t\treturn -ENOENT;\n\t}\n\tlist_del(&p->link);'));
      const warm = check(ws, '--index', idx, 'drivers');
      const plain = check(ws, 'drivers').report;
      assert.deepStrictEqual(warm.report.findings, plain.findings);
      assert.ok(!plain.findings.some((x) => x.rule === 'lock-leak' && x.file.endsWith('blink_core.c')), 'the leak is fixed');
      const w = warm.report.stats.indexFile!;
      assert.equal(w.analysedFiles, 1);
      assert.equal(w.reusedFiles, plain.stats.files - 1);
      assert.equal(w.pass2Reused, false);
      assert.ok(w.writtenBytes > 0);
      // and the rewritten index is warm for the new state
      const again = check(ws, '--index', idx, 'drivers').report;
      assert.equal(again.stats.indexFile!.pass2Reused, true);
      assert.deepStrictEqual(again.findings, plain.findings);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });

  test('a changed header outside the PATH re-analyses the files that read it', () => {
    const ws = workspace();
    try {
      const idx = join(ws, 'i.idx');
      const before = check(ws, '--index', idx, 'drivers').report;
      assert.ok(before.findings.some((f) => f.rule === 'sleep-in-atomic' && f.file === 'drivers/foo/foo_irq.c'));
      writeFileSync(join(ws, 'include', 'foo', 'obj.h'), OBJ_H.replace('msleep(1);', 'udelay(1);'));
      const warm = check(ws, '--index', idx, 'drivers');
      const plain = check(ws, 'drivers').report;
      assert.deepStrictEqual(warm.report.findings, plain.findings);
      assert.ok(!plain.findings.some((f) => f.rule === 'sleep-in-atomic' && f.file === 'drivers/foo/foo_irq.c'), 'udelay() does not sleep');
      const w = warm.report.stats.indexFile!;
      assert.equal(w.analysedFiles, 2, 'foo_core.c and foo_irq.c include the header; nothing else is analysed');
      assert.equal(w.analysedHeaders, 1);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });

  test('a stale or corrupt index is rebuilt, with a note, never trusted', () => {
    const ws = workspace();
    try {
      const idx = join(ws, 'i.idx');
      const plain = check(ws, 'drivers').report;
      check(ws, '--index', idx, 'drivers');
      truncateSync(idx, statSync(idx).size - 10);
      const broken = check(ws, '--index', idx, 'drivers');
      assert.match(broken.stderr, /not used: .*not a Refscope index/);
      assert.deepStrictEqual(broken.report.findings, plain.findings);
      assert.equal(broken.report.stats.indexFile!.reusedFiles, 0);
      writeFileSync(idx, 'garbage');
      assert.match(check(ws, '--index', idx, 'drivers').stderr, /not used/);
      // another catalog: a .refscope.json that adds a lock pair
      writeFileSync(join(ws, '.refscope.json'), JSON.stringify({ locks: [{ acquire: 'foo_grab', release: 'foo_drop', kind: 'mutex' }] }));
      const stale = check(ws, '--index', idx, 'drivers');
      assert.match(stale.stderr, /stale \(made with another catalog/);
      assert.equal(stale.report.stats.indexFile!.reusedFiles, 0);
      assert.equal(check(ws, '--index', idx, 'drivers').report.stats.indexFile!.pass2Reused, true);
      // another build of the same version (other rules): the manifest's tool carries the build's source fingerprint
      const bytes = readFileSync(idx);
      const at = bytes.indexOf('"tool":"');
      const tool = /^"tool":"([^"]+)"/.exec(bytes.subarray(at, at + 80).toString('latin1'))![1]!;
      assert.match(tool, /^\d+\.\d+\.\d+\+[0-9a-f]{12}$/, 'the built CLI records version+fingerprint');
      const other = tool.slice(0, -1) + (tool.endsWith('0') ? '1' : '0');
      bytes.write(other, at + '"tool":"'.length, 'latin1');
      writeFileSync(idx, bytes);
      const rebuilt = check(ws, '--index', idx, 'drivers');
      assert.match(rebuilt.stderr, new RegExp(`stale \\(made by refscope ${other.replace(/[.+]/g, '\\$&')}`));
      assert.equal(rebuilt.report.stats.indexFile!.reusedFiles, 0);
      assert.deepStrictEqual(rebuilt.report.findings, check(ws, '--index', idx, 'drivers').report.findings);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });

  test('shards partition the files, and merged JSON and SARIF equal the unsharded output', () => {
    const N = 3;
    const plain = check(root, 'drivers').report;
    const full = sarif(root, 'drivers');
    const outDir = mkdtempSync(join(tmpdir(), 'refscope-shards-'));
    try {
      const shards: Report[] = [];
      for (let k = 1; k <= N; k++) {
        const r = check(root, '--shard', `${k}/${N}`, 'drivers').report;
        assert.deepStrictEqual(r.stats.shard, { k, n: N });
        shards.push(r);
        writeFileSync(join(outDir, `s${k}.json`), JSON.stringify(r));
        writeFileSync(join(outDir, `s${k}.sarif`), sarif(root, '--shard', `${k}/${N}`, 'drivers'));
      }
      assert.equal(shards.reduce((s, r) => s + r.stats.files, 0), plain.stats.files, 'every file in exactly one shard');
      assert.ok(shards.filter((r) => r.findings.length > 0).length >= 2, 'findings spread over the shards');
      const mj = runCli(['merge', join(outDir, 'merged.json'), ...[1, 2, 3].map((k) => join(outDir, `s${k}.json`))]);
      assert.equal(mj.code, 1, mj.stderr);
      const merged = JSON.parse(readFileSync(join(outDir, 'merged.json'), 'utf8')) as Report;
      assert.deepStrictEqual(merged.findings, plain.findings);
      assert.equal(merged.stats.files, plain.stats.files);
      assert.equal(merged.stats.functions, plain.stats.functions);
      const ms = runCli(['merge', join(outDir, 'merged.sarif'), ...[3, 1, 2].map((k) => join(outDir, `s${k}.sarif`))]);
      assert.equal(ms.code, 1, ms.stderr);
      const mergedSarif = readFileSync(join(outDir, 'merged.sarif'), 'utf8');
      assert.equal(mergedSarif, full, 'merged SARIF is byte-identical to the unsharded run');
      assert.deepStrictEqual(sarifValidator()(JSON.parse(mergedSarif)), []);
      // the same with a shared index built by `refscope index`, after a change the index does not know
      const idx = join(outDir, 'shared.idx');
      const built = runCli(['index', '--root', '.', '--out', idx, '--no-cache', 'drivers'], root);
      assert.equal(built.code, 0, built.stderr);
      assert.match(built.stdout, new RegExp(`^index .*shared\\.idx: ${plain.stats.files} files \\(0 unchanged, ${plain.stats.files} analysed\\)`));
      const indexBytes = readFileSync(idx);
      const shardIdx = [1, 2, 3].map((k) => {
        const r = runCli(['check', '--format', 'sarif', '--no-cache', '--root', '.', '--index', idx, '--shard', `${k}/${N}`, 'drivers'], root);
        assert.ok(r.code === 0 || r.code === 1, r.stderr);
        writeFileSync(join(outDir, `i${k}.sarif`), r.stdout);
        return join(outDir, `i${k}.sarif`);
      });
      assert.ok(readFileSync(idx).equals(indexBytes), 'shards read the shared index, never write it');
      const mi = runCli(['merge', '-', ...shardIdx]);
      assert.equal(mi.stdout, full, 'shards over a shared index merge into the unsharded SARIF');
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });

  test('usage errors: bad --shard, --index with --no-index, mixed merge inputs', () => {
    for (const bad of ['0/3', '4/3', '1/0', 'x', '1/']) {
      const r = runCli(['check', '--shard', bad, 'drivers'], root);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--shard needs K\/N/);
    }
    const both = runCli(['check', '--index', 'x.idx', '--no-index', 'drivers'], root);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /cannot be combined/);
    const dir = mkdtempSync(join(tmpdir(), 'refscope-merge-'));
    try {
      writeFileSync(join(dir, 'a.json'), JSON.stringify(check(root, 'drivers/bar').report));
      writeFileSync(join(dir, 'b.sarif'), sarif(root, 'drivers/bar'));
      writeFileSync(join(dir, 'c.txt'), 'not json');
      const mixed = runCli(['merge', join(dir, 'o.json'), join(dir, 'a.json'), join(dir, 'b.sarif')]);
      assert.equal(mixed.code, 2);
      assert.match(mixed.stderr, /merge inputs of one format/);
      assert.match(runCli(['merge', join(dir, 'o.json'), join(dir, 'c.txt')]).stderr, /is not JSON/);
      assert.match(runCli(['merge', join(dir, 'o.sarif'), join(dir, 'a.json')]).stderr, /does not convert/);
      assert.match(runCli(['merge', join(dir, 'o.json')]).stderr, /needs OUT and at least one IN/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
