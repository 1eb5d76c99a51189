/**
 * Lifecycle extraction from hand-written kernel-style fixtures (real WASM parser,
 * real index): the extracted model (refcount field, release, lookups and their
 * protection, roles with their source lines), the explorer's verdict for every
 * pair of roles, and the replay of every violation trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeParser } from '../../src/node/assets';
import { buildWorkspaceIndex, extractFileFacts } from '../../src/core/index/index';
import {
  buildCombinationModel, checkCombinations, extractLifecycle, resolveRoleNames, rolePairs, UnknownTypeError, type CombinationResult, type LifecycleModel,
} from '../../src/core/sim/lifecycle';
import { replayTrace } from '../../src/core/sim/explore';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/io';

const FIX = 'test/fixtures/lifecycle';
const ROOT = join(__dirname, '..', '..');

async function model(name: string, type: string): Promise<LifecycleModel> {
  const parser = await nodeParser();
  const file = `${FIX}/${name}`;
  const text = readFileSync(join(ROOT, file), 'utf8');
  const index = buildWorkspaceIndex([extractFileFacts(parser, text, file)]);
  const lines = text.split('\n');
  return extractLifecycle(index, type, { sourceLine: (f, l) => (f === file ? lines[l - 1] : undefined) });
}

function lineOf(name: string, needle: string): number {
  const lines = readFileSync(join(ROOT, FIX, name), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `${needle} in ${name}`);
  return i + 1;
}

/** Every violation trace replays step by step and reaches its kind; each step names a real line. */
function assertReplays(c: CombinationResult, file: string): void {
  for (const v of c.violations) {
    const r = replayTrace(c.model, v.trace);
    assert.equal(r.failedAt, -1, r.reason);
    assert.equal(r.reached?.kind, v.kind);
    for (const s of v.trace) {
      assert.equal(s.file, file);
      assert.ok(s.line > 0, `step ${s.op} has a line`);
    }
  }
}

test('kref + mutex lookup with kref_get_unless_zero inside the lock: extracted and safe', async () => {
  const lm = await model('kref-mutex-safe.c', 'struct widget');
  assert.equal(lm.type, 'struct widget');
  assert.equal(lm.refcountField, 'ref');
  assert.equal(lm.counterKind, 'kref');
  assert.deepEqual(lm.releaseCallbacks.map((r) => [r.function, r.locks, r.frees, r.unpublishes]), [['widget_release', ['widget_lock'], 'kfree', ['widget_list']]]);
  assert.equal(lm.lookups.length, 1);
  assert.equal(lm.lookups[0]!.function, 'widget_find');
  assert.equal(lm.lookups[0]!.protectedBy, 'widget_lock');
  assert.match(lm.lookups[0]!.get, /kref_get_unless_zero/);
  assert.deepEqual(lm.roles.map((r) => [r.name, r.kind, r.function]), [['lookup:widget_find', 'lookup', 'widget_find'], ['put:widget_put', 'put', 'widget_put']]);
  assert.equal(lm.structures[0]!.holdsRef, false);
  // The lookup role's ops point at the real lines: lock, lookup, get-unless-zero, unlock.
  const prog = lm.roles[0]!.program;
  const at = (op: string) => prog.instrs.filter((i) => i.op === op).map((i) => i.src.line);
  const findStart = lineOf('kref-mutex-safe.c', 'struct widget *widget_find(int id)');
  assert.equal(at('lock')[0], findStart + 4, 'mutex_lock(&widget_lock) in widget_find');
  assert.ok(at('inc_not_zero').includes(lineOf('kref-mutex-safe.c', 'kref_get_unless_zero(&w->ref)')));
  assert.ok(at('lookup').includes(lineOf('kref-mutex-safe.c', 'list_for_each_entry')));
  assert.ok(at('free').includes(lineOf('kref-mutex-safe.c', 'kfree(w)')), 'the release is inlined at the put');
  const res = checkCombinations(lm);
  assert.equal(res.length, 1);
  assert.equal(res[0]!.verdict, 'safe');
  assert.ok(res[0]!.states > 10);
});

test('plain kref_get on an object found under the lock, put outside it: increment from zero', async () => {
  const lm = await model('kref-mutex-broken.c', 'struct widget');
  assert.equal(lm.lookups[0]!.get, 'kref_get');
  const [c] = checkCombinations(lm);
  assert.equal(c!.verdict, 'violation');
  assert.deepEqual(c!.violations.map((v) => v.kind), ['increment-from-zero']);
  const trace = c!.violations[0]!.trace;
  const last = trace[trace.length - 1]!;
  assert.equal(last.thread, 'lookup:widget_find');
  assert.equal(last.line, lineOf('kref-mutex-broken.c', 'kref_get(&w->ref)'));
  assert.ok(trace.some((s) => s.thread === 'put:widget_put' && /refcount 1 -> 0/.test(s.note)), 'the owner dropped the last reference first');
  assertReplays(c!, `${FIX}/kref-mutex-broken.c`);
});

test('RCU lookup with get-unless-zero: kfree_rcu is safe, kfree is a use after free', async () => {
  const good = await model('rcu-kfree-rcu.c', 'struct gadget');
  assert.equal(good.lookups[0]!.protectedBy, 'rcu');
  assert.equal(good.releaseCallbacks[0]!.frees, 'kfree_rcu');
  assert.deepEqual(good.releaseCallbacks[0]!.locks, ['gadget_lock']);
  const g = checkCombinations(good);
  assert.deepEqual(g.map((c) => c.verdict), ['safe']);
  assert.ok(g[0]!.model.programs.some((p) => p.role === 'callback'), 'kfree_rcu runs as an RCU callback');

  const bad = await model('rcu-kfree.c', 'struct gadget');
  assert.equal(bad.releaseCallbacks[0]!.frees, 'kfree');
  const [c] = checkCombinations(bad);
  assert.equal(c!.verdict, 'violation');
  assert.deepEqual(c!.violations.map((v) => v.kind), ['use-after-free']);
  assertReplays(c!, `${FIX}/rcu-kfree.c`);
});

test("seed GEM offset hash holding a pointer without a reference: increment from zero", async () => {
  const lm = await model('gem-offset-noref.c', 'gem_object');
  assert.equal(lm.refcountField, 'refcount');
  assert.deepEqual(lm.gets, ['gem_object_get']);
  assert.ok(lm.puts.includes('gem_object_put'));
  assert.equal(lm.structures.length, 1);
  assert.equal(lm.structures[0]!.id, 'offset_hash');
  assert.equal(lm.structures[0]!.holdsRef, false);
  assert.equal(lm.lookups[0]!.function, 'gem_mmap_lookup');
  assert.equal(lm.lookups[0]!.protectedBy, 'struct_mutex');
  assert.deepEqual(lm.releaseCallbacks[0]!.locks, ['struct_mutex']);
  const [c] = checkCombinations(lm);
  assert.deepEqual(c!.roles, ['lookup:gem_mmap_lookup', 'put:gem_object_put']);
  assert.equal(c!.verdict, 'violation');
  assert.ok(c!.violations.some((v) => v.kind === 'increment-from-zero'));
  assertReplays(c!, `${FIX}/gem-offset-noref.c`);
});

test('seed GEM offset hash holding its own reference (dropped at handle count zero): every combination safe', async () => {
  const lm = await model('gem-offset-ownref.c', 'struct gem_object');
  assert.equal(lm.structures[0]!.holdsRef, true);
  assert.deepEqual(lm.releaseCallbacks[0]!.locks, []);
  assert.deepEqual(lm.roles.map((r) => r.name), ['lookup:gem_mmap_lookup', 'unpublish:gem_handle_count_zero', 'put:gem_object_put']);
  const unpub = lm.roles[1]!;
  assert.equal(unpub.line, lineOf('gem-offset-ownref.c', 'hash_del(&obj->hnode)'));
  assert.ok(unpub.program.instrs.some((i) => i.op === 'dec_and_test' && i.src.line === lineOf('gem-offset-ownref.c', '\tgem_object_put(obj);')));
  const pairs = rolePairs(lm);
  assert.equal(pairs.length, 3);
  const all = checkCombinations(lm, [...pairs, lm.roles.map((r) => r.name)]);
  assert.deepEqual(all.map((c) => c.verdict), ['safe', 'safe', 'safe', 'safe']);
  // The model starts with the owner's reference and the structure's: 2.
  const m = buildCombinationModel(lm, ['lookup:gem_mmap_lookup', 'put:gem_object_put']);
  assert.equal(m.structs[0]!.holdsRef, true);
  assert.ok(m.programs[m.setup!]!.instrs.some((i) => i.op === 'set' && i.value === 2));
});

test('role names resolve by name or function; unknown types list close matches', async () => {
  const lm = await model('gem-offset-ownref.c', 'struct gem_object');
  assert.deepEqual(resolveRoleNames(lm, ['gem_mmap_lookup', 'put']).roles, ['lookup:gem_mmap_lookup', 'put:gem_object_put']);
  assert.deepEqual(resolveRoleNames(lm, ['nope']).unknown, ['nope']);
  await assert.rejects(model('gem-offset-ownref.c', 'struct gem_objekt'), (e: unknown) => e instanceof UnknownTypeError && e.closeMatches.includes('struct gem_object'));
});

function io(): CliIO & { out: string; err: string } {
  const o = { out: '', err: '', cwd: ROOT, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
  return o;
}

test('refscope lifecycle: JSON shape, exit codes, --roles, unknown type', async () => {
  const a = io();
  assert.equal(await main(['lifecycle', '--type', 'struct widget', '--format', 'json', '--no-cache', `${FIX}/kref-mutex-broken.c`], a), 1, a.err);
  const j = JSON.parse(a.out) as {
    type: string; refcountField: string;
    releaseCallbacks: Array<{ function: string; file: string; line: number; locks: string[]; frees: string }>;
    lookups: Array<{ function: string; file: string; line: number; structure: string; protectedBy: string }>;
    roles: Array<{ name: string; kind: string; function: string; file: string; line: number }>;
    combinations: Array<{ roles: string[]; verdict: string; states: number; violations: Array<{ kind: string; trace: Array<{ thread: string; op: string; file: string; line: number; state: unknown }> }> }>;
    stats: { files: number; ms: number };
  };
  assert.equal(j.type, 'struct widget');
  assert.equal(j.refcountField, 'ref');
  assert.deepEqual(j.releaseCallbacks.map((r) => [r.function, r.file, r.locks, r.frees]), [['widget_release', `${FIX}/kref-mutex-broken.c`, ['widget_lock'], 'kfree']]);
  assert.deepEqual(j.lookups.map((l) => [l.function, l.structure, l.protectedBy]), [['widget_find', 'widget_list', 'widget_lock']]);
  assert.deepEqual(j.roles.map((r) => [r.name, r.kind]), [['lookup:widget_find', 'lookup'], ['put:widget_put', 'put']]);
  assert.equal(j.combinations[0]!.verdict, 'violation');
  const step = j.combinations[0]!.violations[0]!.trace[0]!;
  assert.ok(step.thread && step.op && step.file && step.line > 0 && step.state);
  assert.equal(j.stats.files, 1);

  const b = io();
  assert.equal(await main(['lifecycle', '--type', 'struct gem_object', '--no-cache', '--roles', 'gem_mmap_lookup,gem_handle_count_zero,put', `${FIX}/gem-offset-ownref.c`], b), 0, b.err);
  assert.match(b.out, /refcount field 'refcount'/);
  assert.match(b.out, /lookup:gem_mmap_lookup \+ unpublish:gem_handle_count_zero \+ put:gem_object_put: safe/);
  assert.match(b.out, /1 combinations: 1 safe/);

  const c = io();
  assert.equal(await main(['lifecycle', '--type', 'struct widgt', '--no-cache', `${FIX}/kref-mutex-safe.c`], c), 2);
  assert.match(c.err, /^refscope: error: unknown refcounted type 'struct widgt' \(close matches: struct widget\)\n$/);

  const d = io();
  assert.equal(await main(['lifecycle', `${FIX}/kref-mutex-safe.c`], d), 2);
  assert.match(d.err, /--type/);
});
