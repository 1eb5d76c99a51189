/**
 * unsafe-lookup-get on hand-written kernel-style fixtures (test/fixtures/refcount),
 * with the real WASM grammar and a real workspace index built from the fixtures'
 * facts: the seed's GEM situations (offset hash without a reference, struct_mutex
 * around the unreference, the structure holding its own reference dropped after
 * a grace period and its broken twin), kref.rst rule 3, rcuref.rst listings A,
 * B, C and the synchronize_rcu variant, a handle idr that owns a reference, and a
 * final put in another file (learned wrappers from a header).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeParser } from '../../src/node/assets';
import { parseKernelC } from '../../src/core/parse/source';
import { builtinCatalog } from '../../src/core/catalog';
import { buildWorkspaceIndex, extractFileFacts, type FileFacts } from '../../src/core/index/index';
import { REFCOUNT_RULES, REFCOUNT_RULES_NEEDING_INDEX, runRefcountRules } from '../../src/core/rules/refcount/index';
import { UNSAFE_LOOKUP_GET } from '../../src/core/rules/refcount/unsafe-lookup-get';
import { ruleMeta } from '../../src/core/rules/registry';
import type { Finding } from '../../src/core/types';

const DIR = join(__dirname, '..', 'fixtures', 'refcount');
const ONLY = new Set([UNSAFE_LOOKUP_GET]);

async function run(names: string[], target = names[0]!, withIndex = true): Promise<Finding[]> {
  const parser = await nodeParser();
  const texts = names.map((n) => readFileSync(join(DIR, n), 'utf8'));
  const facts: FileFacts[] = names.map((n, i) => extractFileFacts(parser, texts[i]!, `refcount/${n}`));
  const index = buildWorkspaceIndex(facts);
  const parsed = parseKernelC(parser, texts[names.indexOf(target)]!);
  try {
    return runRefcountRules(parsed, `refcount/${target}`, withIndex ? { index, catalog: builtinCatalog() } : { catalog: builtinCatalog() }, ONLY);
  } finally {
    parsed.dispose();
  }
}

const brief = (fs: Finding[]): string[] => fs.map((f) => `${f.rule}@${f.span.start.line}:${f.function}`).sort();

test('registered, needs the index, metadata and documentation', () => {
  assert.equal(REFCOUNT_RULES[UNSAFE_LOOKUP_GET] !== undefined, true);
  assert.ok(REFCOUNT_RULES_NEEDING_INDEX.includes(UNSAFE_LOOKUP_GET));
  const m = ruleMeta(UNSAFE_LOOKUP_GET)!;
  assert.equal(m.scenario, 'kref-rule3-lookup-get-without-lock');
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'rules', 'unsafe-lookup-get.md'), 'utf8');
  for (const s of ['kref-rule3-lookup-get-without-lock', 'kref.rst', 'rcuref.rst']) assert.ok(doc.includes(s), s);
});

test('seed: offset hash without a reference, plain kref_get, final put without struct_mutex', async () => {
  const fs = await run(['unsafe-lookup-get-offset-hash-no-ref.c']);
  assert.deepEqual(brief(fs), ['unsafe-lookup-get@48:gem_mmap_lookup']);
  const f = fs[0]!;
  assert.equal(f.scenario, 'kref-rule3-lookup-get-without-lock');
  assert.deepEqual(f.trace.map((t) => t.line), [45, 48, 36, 29]);
  assert.match(f.trace[3]!.message, /^still findable at zero: the release gem_object_free\(\) removes it from struct drm_device\.vma_offset_manager only once the count is zero/);
  assert.match(f.trace[0]!.message, /^lookup at line 45: obj comes from drm_vma_offset_lookup_locked \(struct drm_device\.vma_offset_manager\) under dev\.struct_mutex/);
  assert.match(f.trace[1]!.message, /^get at line 48: kref_get on obj \(struct gem_object\.refcount\) holding struct drm_device\.struct_mutex/);
  assert.match(f.trace[2]!.message, /^final put in gem_object_unreference\(\): kref_put without struct drm_device\.struct_mutex/);
  // silent without the index: the decision needs the type's lifecycle
  assert.deepEqual(await run(['unsafe-lookup-get-offset-hash-no-ref.c'], undefined, false), []);
});

test('seed, Linux 6.12 shape: the lookup lock taken and dropped by lock wrappers (drm_vma_offset_lock_lookup); plain get fires, get-unless-zero twin silent', async () => {
  const fs = await run(['unsafe-lookup-get-lock-wrapper.c']);
  assert.deepEqual(brief(fs), ['unsafe-lookup-get@64:gem_mmap']);
  assert.deepEqual(fs[0]!.trace.map((t) => t.line), [61, 64, 69, 46]);
  assert.match(fs[0]!.trace[0]!.message, /^lookup at line 61: obj comes from drm_vma_offset_exact_lookup_locked \(struct drm_device\.vma_offset_manager\) under struct vma_offset_manager\.vm_lock \(taken by offset_lock_lookup\(\)\)/);
  assert.match(fs[0]!.trace[1]!.message, /^get at line 64: gem_object_get \(get wrapper\) on obj \(struct gem_object\.refcount\) holding struct vma_offset_manager\.vm_lock$/);
  assert.match(fs[0]!.trace[2]!.message, /^final put in gem_mmap\(\): gem_object_put \(put wrapper\) without struct vma_offset_manager\.vm_lock/);
  assert.deepEqual(brief(await run(['unsafe-lookup-get-lock-wrapper-unless-zero.c'])), []);
  // the put side under the same wrapper lock (drivers/base/core.c's device links): silent
  assert.deepEqual(brief(await run(['unsafe-lookup-get-lock-wrapper-put-locked.c'])), []);
  const text = readFileSync(join(DIR, 'unsafe-lookup-get-lock-wrapper-put-locked.c'), 'utf8');
  const parser = await nodeParser();
  // its twin whose remove path drops the wrapper lock before the put fires
  const twin = text.replace('\t\t\tdevice_link_put_kref(link);\n\t\t\tbreak;', '\t\t\tdevice_links_write_unlock();\n\t\t\tdevice_link_put_kref(link);\n\t\t\treturn;');
  assert.notEqual(twin, text);
  // and its twin whose static helper's caller does not take the lock
  const twin2 = text.replace('\tdevice_links_write_lock();\n\t__device_links_no_driver(dev);\n\tdevice_links_write_unlock();', '\t__device_links_no_driver(dev);');
  assert.notEqual(twin2, text);
  const getLine = text.split('\n').findIndex((l) => l.includes('kref_get(&link->kref)')) + 1;
  for (const [src, line, put] of [[twin, getLine + 1, /^final put in device_link_remove\(\): device_link_put_kref \(put wrapper\)/], [twin2, getLine - 2, /^final put in __device_links_no_driver\(\): device_link_put_kref \(put wrapper\) without device_links_lock/]] as const) {
    const index = buildWorkspaceIndex([extractFileFacts(parser, src, 'refcount/twin.c')]);
    const parsed = parseKernelC(parser, src);
    try {
      const fs = runRefcountRules(parsed, 'refcount/twin.c', { index, catalog: builtinCatalog() }, ONLY);
      assert.deepEqual(brief(fs), [`unsafe-lookup-get@${line}:device_link_add`]);
      assert.match(fs[0]!.trace[2]!.message, put);
    } finally {
      parsed.dispose();
    }
  }
});

test('seed: struct_mutex taken around every unreference (directly and around a put helper) is silent', async () => {
  assert.deepEqual(brief(await run(['unsafe-lookup-get-struct-mutex-around-unref.c'])), []);
  // the existing fixture with the same lookup: unreference under struct_mutex (put-under-release-lock's business)
  assert.deepEqual(brief(await run(['offset-hash-put-under-struct-mutex.c'])), []);
});

test('seed design 1: kref_get_unless_zero inside the lookup is not this rule', async () => {
  assert.deepEqual(brief(await run(['kref-get-unless-zero-inside-lookup.c'])), []);
  assert.deepEqual(brief(await run(['offset-hash-kref-put-mutex.c'])), []);
});

test('seed design 2: the hash holds a reference dropped from call_rcu is silent; dropped at once fires', async () => {
  assert.deepEqual(brief(await run(['unsafe-lookup-get-offset-hash-holds-ref-rcu.c'])), []);
  const fs = await run(['unsafe-lookup-get-offset-hash-rcu-no-grace.c']);
  assert.deepEqual(brief(fs), ['unsafe-lookup-get@59:gem_mmap_lookup']);
  assert.match(fs[0]!.trace[0]!.message, /hlist_for_each_entry_rcu \(struct drm_device\.offset_hash\) under rcu_read_lock/);
  assert.match(fs[0]!.trace[2]!.message, /final put in gem_offset_unpublish\(\): gem_object_put \(put wrapper\)/);
  assert.match(fs[0]!.trace[3]!.message, /gem_offset_unpublish\(\) removes it from struct drm_device\.offset_hash and drops a reference at once \(gem_object_put, line 49\)/);
});

test('kref.rst rule 3: mutex around kref_put and kref_put_mutex are silent; plain kref_put with the lock only in release fires', async () => {
  assert.deepEqual(brief(await run(['unsafe-lookup-get-kref-rst-mutex.c'])), []);
  assert.deepEqual(brief(await run(['kref-rst-put-mutex.c'])), []);
  const fs = await run(['unsafe-lookup-get-kref-rst-no-lock.c']);
  assert.deepEqual(brief(fs), ['unsafe-lookup-get@34:get_entry']);
  assert.match(fs[0]!.trace[0]!.message, /container_of\(q\.next\) \(q\) under mutex/);
  assert.equal(fs[0]!.trace[2]!.line, 52);
});

test('rcuref.rst: listing A (rwlock, list owns a ref) silent; A made lock-free fires; B is not a plain get; C and synchronize_rcu silent', async () => {
  assert.deepEqual(brief(await run(['unsafe-lookup-get-rcuref-listing-a.c'])), []);
  const fs = await run(['unsafe-lookup-get-rcuref-listing-a-rcu.c']);
  assert.deepEqual(brief(fs), ['unsafe-lookup-get@50:search_and_reference']);
  assert.match(fs[0]!.message, /^`el_get` takes a plain reference on `el`/);
  assert.match(fs[0]!.trace[1]!.message, /el_get \(get wrapper\) on el \(struct element\.rc\) holding no lock/);
  assert.deepEqual(brief(await run(['rcuref-listing-b-inside-rcu.c'])), []);
  assert.deepEqual(brief(await run(['unsafe-lookup-get-rcuref-listing-c.c'])), []);
  assert.deepEqual(brief(await run(['unsafe-lookup-get-rcuref-synchronize-rcu.c'])), []);
});

test('a handle idr that takes a reference on publish and puts after removal is silent (drm_gem_object_lookup pattern)', async () => {
  assert.deepEqual(brief(await run(['unsafe-lookup-get-idr-handle-holds-ref.c'])), []);
});

test('final put in another file, through wrappers learned from a header', async () => {
  const files = ['unsafe-lookup-get-session-lookup.c', 'unsafe-lookup-get-session-close.c', 'unsafe-lookup-get-session.h'];
  const fs = await run(files);
  assert.deepEqual(brief(fs), ['unsafe-lookup-get@24:session_find']);
  const put = fs[0]!.trace[2]!;
  assert.equal(put.file, 'refcount/unsafe-lookup-get-session-close.c');
  assert.equal(put.line, 18);
  assert.match(put.message, /session_put \(put wrapper\) without struct session_table\.lock/);
  // without the file whose release unpublishes, session_add()'s kref_init before list_add reads as the
  // table owning the initial reference (rcuref.rst listing A): silent
  assert.deepEqual(brief(await run(['unsafe-lookup-get-session-lookup.c', 'unsafe-lookup-get-session.h'])), []);
});

test('regression from drm triage: a listed element owned elsewhere is silent; the twin whose release unlinks fires (own object only, _safe walk)', async () => {
  assert.deepEqual(brief(await run(['unsafe-lookup-get-owned-elsewhere.c'])), []);
  const fs = await run(['unsafe-lookup-get-release-unlinks.c']);
  // commit_get(c) at 76 fires; kref_get(&c->tl->ref) at 75 is a get on another object
  assert.deepEqual(brief(fs), ['unsafe-lookup-get@76:stall_checks']);
  assert.match(fs[0]!.trace[0]!.message, /list_for_each_entry_safe \(struct crtc\.commit_list\) under crtc\.commit_lock/);
  assert.deepEqual(fs[0]!.trace.map((t) => t.line), [74, 76, 65, 36]);
});

test('regression from infiniband triage: refcount_dec_and_test then unlink under the lock fires; refcount_dec_and_lock is silent', async () => {
  const fs = await run(['unsafe-lookup-get-dec-and-test-then-unlink.c']);
  assert.deepEqual(brief(fs), ['unsafe-lookup-get@37:find_listener']);
  assert.deepEqual(fs[0]!.trace.map((t) => t.line), [35, 37, 48, 50]);
  assert.match(fs[0]!.trace[3]!.message, /the release dec_refcnt_listen\(\) removes it from struct cm_core\.listen_list only once the count is zero/);
  assert.deepEqual(brief(await run(['unsafe-lookup-get-dec-and-lock.c'])), []);
});

test('a get on a counter the path already holds (a get-unless-zero that succeeded, an earlier get, an alias of either) is silent; after a put, or on the failed edge, it is reported', async () => {
  const fs = await run(['unsafe-lookup-get-after-unless-zero.c']);
  // pick_best (batman-adv: kref_get_unless_zero, then `best = gw; kref_get(&best->refcount)`) is silent;
  // pick_first's second get is not reported again
  assert.deepEqual(brief(fs), [
    'unsafe-lookup-get@104:pick_on_failure',
    'unsafe-lookup-get@68:pick_first',
    'unsafe-lookup-get@88:pick_after_put',
  ]);
  assert.match(fs.find((f) => f.function === 'pick_on_failure')!.message, /^`kref_get` takes a plain reference on `gw`, found by hlist_for_each_entry_rcu/);
});
