/**
 * `refscope check` with the workspace index: facts of the PATH files and of the
 * headers they include (outside the PATHs too) are merged, wrappers are learned,
 * the refcount/RCU rules run in the second pass with the index, lock-order edges
 * of all files are compared, and the facts cache makes a second run reuse every
 * file's facts with identical results.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, runCli } from './cli-support';

interface IndexStats {
  files: number;
  headers: number;
  cachedFacts: number;
  refcountedTypes: number;
  learnedWrappers: { get: number; put: number; getNames: string[]; putNames: string[] };
  refcountFiles: number;
}
interface Report {
  findings: { rule: string; file: string; line: number; function: string; message: string; trace: { file: string; line: number; message: string }[] }[];
  stats: { files: number; index?: IndexStats; filesDirectivesOnly: number };
}

const HEADER = `/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _FOO_OBJ_H
#define _FOO_OBJ_H
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>

struct foo_obj {
	struct kref ref;
	struct list_head node;
	int id;
};

extern struct mutex foo_lock;
void foo_obj_release(struct kref *ref);

static inline void foo_obj_get(struct foo_obj *obj)
{
	kref_get(&obj->ref);
}

static inline void foo_obj_put(struct foo_obj *obj)
{
	kref_put(&obj->ref, foo_obj_release);
}
#endif
`;

const CORE = `// SPDX-License-Identifier: GPL-2.0
#include <linux/slab.h>
#include <foo/obj.h>

DEFINE_MUTEX(foo_lock);
static LIST_HEAD(foo_list);

void foo_obj_release(struct kref *ref)
{
	struct foo_obj *obj = container_of(ref, struct foo_obj, ref);

	mutex_lock(&foo_lock);
	list_del(&obj->node);
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

/** Two files taking the same two global locks in opposite orders. */
const ORDER_A = `#include <linux/mutex.h>
#include <linux/spinlock.h>
extern struct mutex bar_cfg_lock;
extern spinlock_t bar_stats_lock;
extern int bar_hits;

void bar_account(void)
{
	mutex_lock(&bar_cfg_lock);
	spin_lock(&bar_stats_lock);
	bar_hits++;
	spin_unlock(&bar_stats_lock);
	mutex_unlock(&bar_cfg_lock);
}
`;
const ORDER_B = `#include <linux/mutex.h>
#include <linux/spinlock.h>
extern struct mutex bar_cfg_lock;
extern spinlock_t bar_stats_lock;
extern int bar_cfg;

void bar_reconfigure(int v)
{
	spin_lock(&bar_stats_lock);
	mutex_lock(&bar_cfg_lock);
	bar_cfg = v;
	mutex_unlock(&bar_cfg_lock);
	spin_unlock(&bar_stats_lock);
}
`;

const REGS = `/* generated */
#ifndef _FOO_REGS_H
#define _FOO_REGS_H
#define FOO_CTRL 0x0000
#define FOO_CTRL__EN_MASK 0x00000001L
#endif
`;

function workspace(): string {
  const root = mkdtempSync(join(tmpdir(), 'refscope-index-'));
  mkdirSync(join(root, 'include', 'foo'), { recursive: true });
  mkdirSync(join(root, 'drivers', 'foo'), { recursive: true });
  mkdirSync(join(root, 'drivers', 'bar'), { recursive: true });
  writeFileSync(join(root, 'include', 'foo', 'obj.h'), HEADER);
  writeFileSync(join(root, 'drivers', 'foo', 'foo_core.c'), CORE);
  writeFileSync(join(root, 'drivers', 'foo', 'foo_regs.h'), REGS);
  writeFileSync(join(root, 'drivers', 'bar', 'bar_stats.c'), ORDER_A);
  writeFileSync(join(root, 'drivers', 'bar', 'bar_cfg.c'), ORDER_B);
  return root;
}

function check(root: string, ...args: string[]): Report {
  const r = runCli(['check', '--format', 'json', ...args], root);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Report;
}

const brief = (r: Report): string[] => r.findings.map((f) => `${f.rule}@${f.file}:${f.line}:${f.function}`).sort();

describe('refscope check with the workspace index', () => {
  ensureBuilt();

  test('a put wrapper from a header outside the PATHs is learned and its release lock seen: put-under-release-lock', () => {
    const root = workspace();
    try {
      const r = check(root, '--no-cache', 'drivers/foo');
      const put = r.findings.filter((f) => f.rule === 'put-under-release-lock');
      assert.deepEqual(put.map((f) => `${f.file}:${f.line}:${f.function}`), ['drivers/foo/foo_core.c:21:foo_forget']);
      assert.ok(put[0]!.trace.some((t) => t.file === 'drivers/foo/foo_core.c' && t.line === 8 && t.message.includes('takes foo_lock')), 'the trace shows the release and the lock it takes');
      const ix = r.stats.index;
      assert.ok(ix, 'stats.index present');
      assert.equal(ix.headers, 1, 'include/foo/obj.h (outside the PATH) feeds the index');
      assert.ok(ix.learnedWrappers.putNames.includes('foo_obj_put'), `put wrappers: ${ix.learnedWrappers.putNames.join(',')}`);
      assert.ok(ix.learnedWrappers.getNames.includes('foo_obj_get'), `get wrappers: ${ix.learnedWrappers.getNames.join(',')}`);
      assert.ok(ix.refcountedTypes >= 1);
      assert.equal(r.stats.filesDirectivesOnly, 1, 'foo_regs.h holds only directives');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('--no-index: no index, no index-based findings, lock rules unchanged', () => {
    const root = workspace();
    try {
      const r = check(root, '--no-cache', '--no-index', 'drivers/foo');
      assert.equal(r.stats.index, undefined);
      assert.deepEqual(r.findings.filter((f) => f.rule === 'put-under-release-lock'), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('lock-order-inversion across two files, reported once with both paths', () => {
    const root = workspace();
    try {
      const r = check(root, '--no-cache', 'drivers/bar');
      const inv = r.findings.filter((f) => f.rule === 'lock-order-inversion');
      assert.equal(inv.length, 1, JSON.stringify(brief(r)));
      const files = new Set(inv[0]!.trace.map((t) => t.file));
      assert.deepEqual([...files].sort(), ['drivers/bar/bar_cfg.c', 'drivers/bar/bar_stats.c']);
      // each file alone has no inversion
      assert.deepEqual(check(root, '--no-cache', 'drivers/bar/bar_cfg.c').findings.filter((f) => f.rule === 'lock-order-inversion'), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('the facts cache: a second run reuses every file\'s facts and reports the same', () => {
    const root = workspace();
    const cache = mkdtempSync(join(tmpdir(), 'refscope-cache-'));
    try {
      const cold = check(root, '--cache-dir', cache, 'drivers');
      assert.equal(cold.stats.index!.cachedFacts, 0);
      assert.ok(readdirSync(cache).length > 0, 'entries written');
      const warm = check(root, '--cache-dir', cache, 'drivers');
      assert.equal(warm.stats.index!.cachedFacts, warm.stats.index!.files);
      assert.deepEqual(brief(warm), brief(cold));
      assert.deepEqual(warm.stats.index!.learnedWrappers, cold.stats.index!.learnedWrappers);
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(cache, { recursive: true, force: true });
    }
  });

  test('--jobs 1 and --jobs 2 give the same findings and index', () => {
    const root = workspace();
    try {
      const a = check(root, '--no-cache', '--jobs', '1', 'drivers');
      const b = check(root, '--no-cache', '--jobs', '2', 'drivers');
      assert.deepEqual(brief(a), brief(b));
      assert.deepEqual(a.stats.index!.learnedWrappers, b.stats.index!.learnedWrappers);
      assert.ok(a.findings.length >= 2);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
