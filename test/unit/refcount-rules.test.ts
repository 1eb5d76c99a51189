/**
 * The first refcount/RCU rules (issue 3) on hand-written kernel-style fixtures
 * (test/fixtures/refcount), with the real WASM grammar and a real workspace
 * index built from each fixture's facts: unchecked-get-unless-zero,
 * get-unless-zero-outside-lookup, put-under-release-lock, free-without-grace-period.
 * Positive and negative per rule, the seed's GEM offset-hash situations, the
 * kref.rst examples and rcuref.rst listing B.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeParser } from '../../src/node/assets';
import { analyzeFile } from '../../src/core/analyze';
import { parseKernelC } from '../../src/core/parse/source';
import { builtinCatalog } from '../../src/core/catalog';
import { buildWorkspaceIndex, extractFileFacts, type FileFacts } from '../../src/core/index/index';
import { REFCOUNT_RULES, runRefcountRules } from '../../src/core/rules/refcount/index';
import { ruleMeta } from '../../src/core/rules/registry';
import type { Finding } from '../../src/core/types';

const DIR = join(__dirname, '..', 'fixtures', 'refcount');
const IDS = ['unchecked-get-unless-zero', 'get-unless-zero-outside-lookup', 'put-under-release-lock', 'free-without-grace-period'];

async function run(names: string[], target = names[0]!, withIndex = true): Promise<Finding[]> {
  const parser = await nodeParser();
  const texts = names.map((n) => readFileSync(join(DIR, n), 'utf8'));
  const facts: FileFacts[] = names.map((n, i) => extractFileFacts(parser, texts[i]!, `refcount/${n}`));
  const index = buildWorkspaceIndex(facts);
  const parsed = parseKernelC(parser, texts[names.indexOf(target)]!);
  try {
    return runRefcountRules(parsed, `refcount/${target}`, withIndex ? { index, catalog: builtinCatalog() } : { catalog: builtinCatalog() });
  } finally {
    parsed.dispose();
  }
}

const brief = (fs: Finding[]): string[] => fs.map((f) => `${f.rule}@${f.span.start.line}:${f.function}`).sort();

test('rule ids, registry metadata and scenarios', () => {
  for (const id of IDS) assert.ok(REFCOUNT_RULES[id], `${id} is registered`); // other rule files register more ids
  const scenarios: Record<string, string> = {
    'unchecked-get-unless-zero': 'unchecked-get-unless-zero',
    'get-unless-zero-outside-lookup': 'get-unless-zero-outside-lookup',
    'put-under-release-lock': 'put-under-release-lock',
    'free-without-grace-period': 'kfree-instead-of-kfree-rcu',
  };
  for (const id of IDS) {
    const m = ruleMeta(id);
    assert.ok(m, id);
    assert.equal(m.scenario, scenarios[id]);
    assert.ok(m.helpUri.endsWith(`docs/rules/${id}.md`));
    assert.ok(readFileSync(join(__dirname, '..', '..', 'docs', 'rules', `${id}.md`), 'utf8').includes(scenarios[id]!), `${id} doc names its scenario`);
  }
});

test('unchecked-get-unless-zero: ignored and stored-but-untested results (no index needed)', async () => {
  const fs = await run(['unchecked-get-unless-zero-ignored.c'], undefined, false);
  assert.deepEqual(brief(fs), [
    'unchecked-get-unless-zero@27:session_find',
    'unchecked-get-unless-zero@38:session_use',
    'unchecked-get-unless-zero@45:session_live',
    'unchecked-get-unless-zero@56:session_touch',
  ]);
  const stored = fs.find((f) => f.function === 'session_use')!;
  assert.match(stored.message, /stored in `ok` but never tested/);
  assert.equal(stored.scenario, 'unchecked-get-unless-zero');
  assert.equal(stored.span.start.column, 12);
  assert.equal(stored.span.end.line, 38);
});

test('unchecked-get-unless-zero: tested, returned and later-tested results are silent', async () => {
  assert.deepEqual(brief(await run(['unchecked-get-unless-zero-tested.c'])), []);
});

test('unchecked-get-unless-zero: a get-or-initialise wrapper (hwrng_init) fails only with an error, its ignored result is silent; a real tryget ignored is reported', async () => {
  assert.deepEqual(brief(await run(['unchecked-get-unless-zero-get-or-init.c'])), ['unchecked-get-unless-zero@58:peek']);
});

test('unchecked-get-unless-zero: a wrapper most callers ignore is used as a plain get (silent); ignoring one most callers test is reported with the count; a primitive always', async () => {
  const fs = await run(['unchecked-get-unless-zero-convention.c']);
  assert.deepEqual(brief(fs), ['unchecked-get-unless-zero@61:conn_poke', 'unchecked-get-unless-zero@86:sess_kick']);
  const kick = fs.find((f) => f.function === 'sess_kick')!;
  assert.match(kick.message, /Its result is tested or used at 3 of its 4 call sites\.$/);
  assert.doesNotMatch(fs.find((f) => f.function === 'conn_poke')!.message, /call sites/);
  // without the index there is no learned wrapper and no count: only the primitive
  assert.deepEqual(brief(await run(['unchecked-get-unless-zero-convention.c'], undefined, false)), ['unchecked-get-unless-zero@61:conn_poke']);
});

test('seed design 1 / kref.rst get_entry: kref_get_unless_zero inside the lookup, lock only in release: no finding', async () => {
  assert.deepEqual(brief(await run(['kref-get-unless-zero-inside-lookup.c'])), []);
});

test('get-unless-zero-outside-lookup: get after mutex_unlock, with the lookup/unlock/get trace', async () => {
  const fs = await run(['get-unless-zero-after-unlock.c']);
  assert.deepEqual(brief(fs), ['get-unless-zero-outside-lookup@31:find_entry']);
  const f = fs[0]!;
  assert.deepEqual(f.trace.map((t) => t.line), [24, 30, 31]);
  assert.match(f.trace[0]!.message, /^lookup at line 24: found comes from list_for_each_entry under mutex/);
  assert.match(f.trace[1]!.message, /^unlock at line 30/);
  assert.match(f.trace[2]!.message, /^get at line 31: kref_get_unless_zero/);
  assert.equal(f.scenario, 'get-unless-zero-outside-lookup');
});

test('rcuref.rst listing B: atomic_inc_not_zero inside rcu_read_lock is silent, after rcu_read_unlock fires', async () => {
  assert.deepEqual(brief(await run(['rcuref-listing-b-inside-rcu.c'])), []);
  const fs = await run(['rcuref-listing-b-after-rcu-unlock.c']);
  assert.deepEqual(brief(fs), ['get-unless-zero-outside-lookup@47:search_and_reference', 'get-unless-zero-outside-lookup@59:first_element']);
  const deref = fs.find((f) => f.function === 'first_element')!;
  assert.match(deref.trace[0]!.message, /rcu_dereference under rcu_read_lock/);
  assert.match(deref.message, /RCU read-side critical section/);
});

test('put-under-release-lock: the seed offset-hash unreference under struct_mutex, directly and through a put wrapper', async () => {
  const fs = await run(['offset-hash-put-under-struct-mutex.c']);
  assert.deepEqual(brief(fs), ['put-under-release-lock@43:gem_object_unreference', 'put-under-release-lock@50:gem_close_object']);
  const direct = fs.find((f) => f.function === 'gem_object_unreference')!;
  assert.match(direct.message, /gem_object_free.*struct drm_device\.struct_mutex/);
  assert.deepEqual(direct.trace.map((t) => t.line), [42, 43, 22]);
  assert.match(fs.find((f) => f.function === 'gem_close_object')!.trace[1]!.message, /gem_object_put \(put wrapper\)/);
  // needs the index: without it the rule is silent rather than guessing
  assert.deepEqual(brief(await run(['offset-hash-put-under-struct-mutex.c'], undefined, false)), []);
});

test('put-under-release-lock: a lock the release takes only in a WARN_ON() branch does not count (btrfs_put_block_group)', async () => {
  assert.deepEqual(brief(await run(['put-under-release-lock-warn-only.c'])), ['put-under-release-lock@69:drop_item_locked']);
});

test('put-under-release-lock: a put wrapper whose put is a plain refcount_dec() runs no release (irdma_free_retrans_entry); its dec_and_test twin does', async () => {
  assert.deepEqual(brief(await run(['put-under-release-lock-plain-dec.c'])), ['put-under-release-lock@61:timer_tick_bad']);
});

test('put-under-release-lock: kref_put_mutex (seed fix, kref.rst) is silent', async () => {
  assert.deepEqual(brief(await run(['offset-hash-kref-put-mutex.c'])), []);
  assert.deepEqual(brief(await run(['kref-rst-put-mutex.c'])), []);
  // a release that drops and retakes the caller's lock (__releases/__acquires) expects it held
  assert.deepEqual(brief(await run(['release-drops-caller-lock.c'])), []);
});

test('put-under-release-lock: global mutex around kref_put, also through guard(mutex)', async () => {
  const fs = await run(['kref-put-under-release-mutex.c']);
  assert.deepEqual(brief(fs), ['put-under-release-lock@30:put_entry', 'put-under-release-lock@37:put_entry_guarded']);
});

test('free-without-grace-period: kfree of an RCU-read type in its release and after list_del_rcu', async () => {
  const fs = await run(['rcu-release-kfree.c']);
  assert.deepEqual(brief(fs), ['free-without-grace-period@27:gadget_release', 'free-without-grace-period@62:gadget_remove']);
  const rel = fs.find((f) => f.function === 'gadget_release')!;
  assert.equal(rel.scenario, 'kfree-instead-of-kfree-rcu');
  assert.deepEqual(rel.trace.map((t) => t.line), [47, 25, 27]);
  assert.match(rel.message, /struct gadget.*gadget_list/);
});

test('free-without-grace-period: only a removal from the structure the readers walk counts as an unpublish', async () => {
  const fs = await run(['rcu-unpublish-other-list.c']);
  // silent: a private scan list (another member), a second list by the same member (the cursor's
  // head says which), a list only the freeing function walks under RCU, another object unpublished, a list_del beside an
  // xarray, local LIST_HEAD lists, an RCU pointer to a bare list head; reported: list_del_rcu off
  // widget_list, and a list_del through a bare node pointer while walking widget_list
  assert.deepEqual(brief(fs), ['free-without-grace-period@175:widget_remove', 'free-without-grace-period@216:widget_list_flush']);
  const remove = fs.find((f) => f.function === 'widget_remove')!;
  assert.deepEqual(remove.trace.map((t) => t.line), [56, 173, 175]);
  assert.match(remove.message, /struct widget.*`widget_list`/);
  assert.deepEqual(fs.find((f) => f.function === 'widget_list_flush')!.trace.map((t) => t.line), [56, 215, 216]);
  // the index keeps neither the local lists nor a list head as an element
  const parser = await nodeParser();
  const index = buildWorkspaceIndex([extractFileFacts(parser, readFileSync(join(DIR, 'rcu-unpublish-other-list.c'), 'utf8'), 'refcount/rcu-unpublish-other-list.c')]);
  assert.deepEqual([...index.lookups.keys()].sort(), ['struct blob_table.blobs', 'struct widget_note.node', 'widget_addrs', 'widget_list', 'widget_pending', 'widget_rules']);
  assert.deepEqual(index.lookups.get('widget_rules')!.elements, []);
});

test('free-without-grace-period: a freed char buffer beside an RCU-read char array is silent', async () => {
  assert.deepEqual(brief(await run(['rcu-free-scalar-type.c'])), []);
});

test('free-without-grace-period: kfree_rcu, synchronize_rcu and call_rcu callbacks are silent', async () => {
  assert.deepEqual(brief(await run(['rcu-release-kfree-rcu.c'])), []);
  // el_free (a call_rcu callback) kfree()s an RCU-read type: after a grace period, so silent
  assert.deepEqual(brief(await run(['rcuref-listing-b-inside-rcu.c'])), []);
});

test('only: restricts the rules run', async () => {
  const parser = await nodeParser();
  const text = readFileSync(join(DIR, 'unchecked-get-unless-zero-ignored.c'), 'utf8');
  const parsed = parseKernelC(parser, text);
  try {
    const ctx = { catalog: builtinCatalog() };
    assert.equal(runRefcountRules(parsed, 'x.c', ctx, new Set(['put-under-release-lock'])).length, 0);
    assert.equal(runRefcountRules(parsed, 'x.c', ctx, new Set(['unchecked-get-unless-zero'])).length, 4);
  } finally {
    parsed.dispose();
  }
});

test('unchecked-get-unless-zero: a learned cond-get wrapper from a header, only with the index', async () => {
  const fs = await run(['cond-get-wrapper-ignored.c', 'session-tryget.h']);
  assert.deepEqual(brief(fs), ['unchecked-get-unless-zero@9:session_touch']);
  assert.match(fs[0]!.message, /session_tryget.*kref_get_unless_zero/);
  assert.deepEqual(brief(await run(['cond-get-wrapper-ignored.c', 'session-tryget.h'], undefined, false)), []);
});

test('analyzeFile (what refscope check and the editor run) reports the per-file refcount rules, and only where a get-unless-zero is used', async () => {
  const parser = await nodeParser();
  const fx = (name: string) => join(__dirname, '..', 'fixtures', 'refcount', name);
  const rulesOf = (name: string) => analyzeFile(parser, readFileSync(fx(name), 'utf8'), name).findings.map((f) => f.rule);
  assert.ok(rulesOf('unchecked-get-unless-zero-ignored.c').includes('unchecked-get-unless-zero'));
  assert.ok(rulesOf('get-unless-zero-after-unlock.c').includes('get-unless-zero-outside-lookup'));
  assert.ok(rulesOf('rcuref-listing-b-after-rcu-unlock.c').includes('get-unless-zero-outside-lookup'));
  for (const quiet of ['unchecked-get-unless-zero-tested.c', 'kref-get-unless-zero-inside-lookup.c', 'rcuref-listing-b-inside-rcu.c']) {
    assert.deepEqual(rulesOf(quiet).filter((r) => r.includes('unless-zero')), [], quiet);
  }
});
