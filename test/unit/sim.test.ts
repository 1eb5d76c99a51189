import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { nodeParser } from '../../src/node/assets';
import { library, parseBuiltin } from '../../src/core/scenarios/library';
import { parseScenario } from '../../src/core/scenarios/format';
import { runCompiled } from '../../src/core/scenarios/run';
import { explore, replayTrace } from '../../src/core/sim/explore';
import type { ExploreResult } from '../../src/core/sim/types';

const REQUIRED_IDS = [
  'kref-rule1-get-before-handoff',
  'kref-rule3-lookup-get-without-lock',
  'kref-lookup-put-outside-lock-resurrection',
  'get-unless-zero-outside-lookup',
  'unchecked-get-unless-zero',
  'put-under-release-lock',
  'rcu-lookup-plain-get',
  'rcuref-listing-c-table-holds-ref',
  'kfree-instead-of-kfree-rcu',
  'double-call-rcu-resurrection',
  'seed-mmap-offset-hash-no-ref',
  'seed-struct-mutex-around-unref',
  'sleep-under-spinlock',
  'abba-lock-order',
  'error-path-lock-leak',
  'recursive-lock-self-deadlock',
  'double-unlock',
];

async function compile(text: string, file = 'inline.rsim') {
  return parseScenario(await nodeParser(), text, file);
}

const kinds = (r: ExploreResult): string[] => r.violations.map((v) => v.kind).sort();

test('the library has every required scenario, each with a safe design and a broken twin', () => {
  const lib = library();
  assert.ok(lib.length >= 16, `only ${lib.length} scenarios`);
  for (const id of REQUIRED_IDS) {
    const e = lib.find((x) => x.id === id);
    assert.ok(e, `missing scenario ${id}`);
    assert.ok(e.variants.some((v) => v.meta.expect === 'safe'), `${id} has no safe variant`);
    assert.ok(e.variants.some((v) => v.meta.expect !== 'safe'), `${id} has no broken variant`);
    for (const v of e.variants) {
      assert.ok(v.meta.what && v.meta.why && v.meta.fix, `${v.ref} lacks what/why/fix prose`);
      assert.ok(v.meta.doc.length > 0, `${v.ref} names no source document`);
      assert.ok(v.meta.rules.length > 0, `${v.ref} names no rule ids`);
    }
  }
});

test('every library scenario decides as its expect line says (with and without POR, same violation kinds)', async () => {
  const parser = await nodeParser();
  for (const e of library()) {
    for (const v of e.variants) {
      const s = parseBuiltin(parser, v);
      const r = runCompiled(s);
      assert.ok(r.matches, `${v.ref}: expected ${v.meta.expect}, got ${r.verdict} [${r.violations.map((x) => x.kind).join(', ')}]`);
      if (v.meta.expect === 'safe') assert.equal(r.verdict, 'safe', v.ref);
      else assert.equal(r.verdict, 'violation', v.ref);
      const full = explore(s.model, { por: false });
      assert.equal(full.verdict, r.verdict, `${v.ref}: POR changed the verdict`);
      assert.deepEqual(kinds(full), [...r.violations.map((x) => x.kind)].sort(), `${v.ref}: POR changed the violation kinds`);
      assert.ok(r.states <= full.states, `${v.ref}: POR explored more states`);
    }
  }
});

test('both seed designs are safe and their broken twins are not', async () => {
  const parser = await nodeParser();
  const get = (ref: string) => {
    const [id, variant] = ref.split('/');
    const v = library().find((e) => e.id === id)!.variants.find((x) => x.variant === variant)!;
    return explore(parseBuiltin(parser, v).model);
  };
  assert.equal(get('seed-mmap-offset-hash-no-ref/safe').verdict, 'safe');
  assert.equal(get('seed-struct-mutex-around-unref/safe').verdict, 'safe');
  assert.equal(get('seed-struct-mutex-around-unref/safe-struct-mutex').verdict, 'safe');
  assert.deepEqual(kinds(get('seed-mmap-offset-hash-no-ref/broken')), ['increment-from-zero']);
  assert.deepEqual(kinds(get('seed-struct-mutex-around-unref/broken')), ['increment-from-zero']);
});

test('every violation trace replays step by step against the model and reaches its violation', async () => {
  const parser = await nodeParser();
  let replayed = 0;
  for (const e of library()) {
    for (const v of e.variants) {
      const s = parseBuiltin(parser, v);
      for (const por of [true, false]) {
        const r = explore(s.model, { por });
        for (const viol of r.violations) {
          assert.ok(viol.trace.length > 0, `${v.ref}: empty trace for ${viol.kind}`);
          for (const step of viol.trace) {
            assert.ok(step.thread && step.op && step.file === v.file, `${v.ref}: incomplete step ${JSON.stringify(step)}`);
            assert.ok(Array.isArray(step.state.objects) && typeof step.state.locks === 'object', `${v.ref}: no state in step`);
          }
          const rr = replayTrace(s.model, viol.trace);
          assert.equal(rr.failedAt, -1, `${v.ref} ${viol.kind}: ${rr.reason}`);
          assert.equal(rr.reached?.kind, viol.kind, `${v.ref}: replay reached ${rr.reached?.kind}`);
          replayed++;
        }
      }
    }
  }
  assert.ok(replayed >= 34, `only ${replayed} traces replayed`);
  // A tampered trace must not replay.
  const v = library().find((e) => e.id === 'abba-lock-order')!.variants.find((x) => x.variant === 'broken')!;
  const s = parseBuiltin(parser, v);
  const trace = explore(s.model).violations[0]!.trace;
  const tampered = trace.map((st, i) => (i === 1 ? { ...st, thread: st.thread === 'thread_ioctl' ? 'thread_release' : 'thread_ioctl' } : st));
  assert.notEqual(replayTrace(s.model, tampered).failedAt, -1);
  assert.equal(replayTrace(s.model, trace.slice(0, -1)).reached, null);
});

test('traces carry thread, source op, file, line and the state after each step', async () => {
  const parser = await nodeParser();
  const v = library().find((e) => e.id === 'kref-lookup-put-outside-lock-resurrection')!.variants.find((x) => x.variant === 'broken')!;
  const r = explore(parseBuiltin(parser, v).model);
  const t = r.violations[0]!.trace;
  const last = t[t.length - 1]!;
  assert.equal(last.thread, 'thread_lookup');
  assert.equal(last.op, 'kref_get(&o->ref);'.slice(0, -1));
  assert.equal(v.text.split('\n')[last.line - 1]!.includes('kref_get(&o->ref)'), true);
  const put = t.find((s) => s.op.startsWith('kref_put(') && s.note.includes('1 -> 0'))!;
  assert.equal(put.thread, 'thread_owner');
  assert.deepEqual(put.state.objects[0], { name: 'creator', refcount: 0, state: 'released', in: ['obj_list'], rcuPending: false });
  const lockStep = t.find((s) => s.op === 'mutex_lock(&obj_lock)')!;
  assert.deepEqual(lockStep.state.locks, { obj_lock: [lockStep.thread] });
});

test('deadlock: ABBA finds both threads blocked, each holding one lock', async () => {
  const parser = await nodeParser();
  const v = library().find((e) => e.id === 'abba-lock-order')!.variants.find((x) => x.variant === 'broken')!;
  const r = explore(parseBuiltin(parser, v).model);
  assert.deepEqual(kinds(r), ['deadlock']);
  const d = r.violations[0]!;
  assert.match(d.message, /thread_ioctl waits at mutex_lock\(&obj_lock\) holding dev_lock/);
  assert.match(d.message, /thread_release waits at mutex_lock\(&dev_lock\) holding obj_lock/);
  assert.equal(d.trace.length, 2, 'shortest ABBA trace is two steps');
});

test('self-deadlock: a thread locking a mutex it holds is reported as deadlock', async () => {
  const s = await compile(`/*
 * title: self
 * expect deadlock
 */
static DEFINE_MUTEX(m);
void thread_a(void)
{
	mutex_lock(&m);
	mutex_lock(&m);
	mutex_unlock(&m);
	mutex_unlock(&m);
}
`);
  const r = explore(s.model);
  assert.deepEqual(kinds(r), ['deadlock']);
  assert.match(r.violations[0]!.message, /thread_a waits at mutex_lock\(&m\) holding m/);
});

test('synchronize_rcu waits for pre-existing readers; without it the reader sees freed memory', async () => {
  const mk = (sync: string) => `/*
 * title: sync
 * expect safe
 */
struct el { struct list_head list; int data; };
static LIST_HEAD(l);
static struct el *e0;
void setup(void)
{
	e0 = kzalloc(sizeof(*e0), GFP_KERNEL);
	list_add_rcu(&e0->list, &l);
}
void thread_reader(void)
{
	struct el *e;
	rcu_read_lock();
	e = list_first_or_null_rcu(&l, struct el, list);
	if (e)
		use(e->data);
	rcu_read_unlock();
}
void thread_updater(void)
{
	list_del_rcu(&e0->list);
	${sync}
	kfree(e0);
}
`;
  assert.equal(explore((await compile(mk('synchronize_rcu();'))).model).verdict, 'safe');
  const bad = explore((await compile(mk(''))).model);
  assert.deepEqual(kinds(bad), ['use-after-free']);
  // A reader that starts after synchronize_rcu began is not waited for (and cannot find the element).
  const inReader = explore((await compile(mk('rcu_read_lock(); synchronize_rcu(); rcu_read_unlock();'))).model);
  assert.deepEqual(kinds(inReader), ['sleep-in-atomic']);
});

test('reference accounting: leaked reference, underflow, double free', async () => {
  const mk = (body: string) => `/*
 * title: acct
 * expect safe
 */
struct obj { struct kref ref; };
static struct obj *o;
static void rel(struct kref *ref)
{
	struct obj *p = container_of(ref, struct obj, ref);
	kfree(p);
}
void setup(void)
{
	o = kzalloc(sizeof(*o), GFP_KERNEL);
	kref_init(&o->ref);
}
void thread_a(void)
{
${body}
}
`;
  assert.equal(explore((await compile(mk('kref_put(&o->ref, rel);'))).model).verdict, 'safe');
  assert.deepEqual(kinds(explore((await compile(mk('kref_get(&o->ref);\nkref_put(&o->ref, rel);'))).model)), ['leaked-reference']);
  assert.deepEqual(kinds(explore((await compile(mk('refcount_dec(&o->ref);\nrefcount_dec(&o->ref);'))).model)), ['underflow']);
  assert.deepEqual(kinds(explore((await compile(mk('kref_put(&o->ref, rel);\nkfree(o);'))).model)), ['double-free']);
  assert.deepEqual(kinds(explore((await compile(mk('kfree(o);\nkref_get(&o->ref);'))).model)), ['use-after-free']);
});

test('lock primitives: trylock and interruptible branches, rwlock readers share, unlock of an unheld lock', async () => {
  const mk = (decl: string, a: string, b: string) => `/*
 * title: locks
 * expect safe
 */
${decl}
void thread_a(void)
{
${a}
}
void thread_b(void)
{
${b}
}
`;
  // Two readers hold an rwlock together: no deadlock, even if each waits on the other at read level.
  const rw = explore((await compile(mk('static DEFINE_RWLOCK(rw);', 'read_lock(&rw);\nread_unlock(&rw);', 'read_lock(&rw);\nread_unlock(&rw);'))).model);
  assert.equal(rw.verdict, 'safe');
  const wr = explore((await compile(mk('static DECLARE_RWSEM(sem);', 'down_write(&sem);\nup_write(&sem);', 'down_read(&sem);\ndown_read(&sem);\nup_read(&sem);\nup_read(&sem);'))).model);
  assert.equal(wr.verdict, 'safe');
  const trylock = explore((await compile(mk('static DEFINE_MUTEX(m);', 'if (!mutex_trylock(&m))\n\treturn;\nmutex_unlock(&m);', 'mutex_lock(&m);\nmutex_unlock(&m);'))).model);
  assert.equal(trylock.verdict, 'safe');
  const intr = explore((await compile(mk('static DEFINE_MUTEX(m);', 'if (mutex_lock_interruptible(&m))\n\treturn;\nmutex_unlock(&m);', 'mutex_lock(&m);\nmutex_unlock(&m);'))).model);
  assert.equal(intr.verdict, 'safe');
  const intrBad = explore((await compile(mk('static DEFINE_MUTEX(m);', 'mutex_lock_interruptible(&m);\nmutex_unlock(&m);', 'mutex_lock(&m);\nmutex_unlock(&m);'))).model);
  assert.deepEqual(kinds(intrBad), ['unlock-unheld']);
  const held = explore((await compile(mk('static DEFINE_SPINLOCK(s);', 'spin_lock(&s);', 'spin_lock(&s);\nspin_unlock(&s);'))).model);
  assert.deepEqual(kinds(held), ['lock-held-at-exit']);
});

test('idr and xarray publish, look up and remove objects', async () => {
  const s = await compile(`/*
 * title: idr
 * expect safe
 * holds-ref: ids
 */
struct obj { struct kref ref; };
static DEFINE_MUTEX(m);
static DEFINE_IDR(ids);
static void rel(struct kref *ref)
{
	kfree(container_of(ref, struct obj, ref));
}
void thread_create(void)
{
	struct obj *o = kzalloc(sizeof(*o), GFP_KERNEL);
	if (!o)
		return;
	kref_init(&o->ref);
	mutex_lock(&m);
	idr_alloc(&ids, o, 1, 2, GFP_KERNEL);
	mutex_unlock(&m);
}
void thread_destroy(void)
{
	struct obj *o;
	mutex_lock(&m);
	o = idr_remove(&ids, 1);
	mutex_unlock(&m);
	if (o)
		kref_put(&o->ref, rel);
}
void thread_lookup(void)
{
	struct obj *o;
	mutex_lock(&m);
	o = idr_find(&ids, 1);
	if (o)
		kref_get(&o->ref);
	mutex_unlock(&m);
	if (!o)
		return;
	kref_put(&o->ref, rel);
}
`);
  const r = explore(s.model);
  assert.equal(r.verdict, 'safe', JSON.stringify(r.violations.map((v) => v.message)));
  assert.ok(r.states > 20);
});

test('list_for_each_entry_rcu lookups (normalised iterator macros) with break', async () => {
  const mk = (get: string) => `/*
 * title: iter
 * expect safe
 */
struct el { struct kref ref; struct list_head list; int key; };
static DEFINE_SPINLOCK(lock);
static LIST_HEAD(head);
static struct el *e0;
static void rel(struct kref *ref)
{
	kfree(container_of(ref, struct el, ref));
}
void setup(void)
{
	e0 = kzalloc(sizeof(*e0), GFP_KERNEL);
	kref_init(&e0->ref);
	list_add_rcu(&e0->list, &head);
}
void thread_search(void)
{
	struct el *e;
	struct el *found = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(e, &head, list) {
		if (e->key == 1 && ${get}) {
			found = e;
			break;
		}
	}
	rcu_read_unlock();
	if (found)
		kref_put(&found->ref, rel);
}
void thread_delete(void)
{
	spin_lock(&lock);
	list_del_rcu(&e0->list);
	spin_unlock(&lock);
	kref_put(&e0->ref, rel);
}
`;
  // The deleter frees without a grace period, so even get_unless_zero reads freed memory.
  const plain = explore((await compile(mk('(kref_get(&e->ref), 1)'))).model);
  assert.ok(kinds(plain).includes('increment-from-zero'), kinds(plain).join());
  const guarded = explore((await compile(mk('kref_get_unless_zero(&e->ref)'))).model);
  assert.deepEqual(kinds(guarded), ['use-after-free']);
  const withGp = explore((await compile(mk('kref_get_unless_zero(&e->ref)').replace('\tkref_put(&e0->ref, rel);\n}', '\tsynchronize_rcu();\n\tkref_put(&e0->ref, rel);\n}'))).model);
  assert.equal(withGp.verdict, 'safe', JSON.stringify(withGp.violations.map((v) => v.message)));
});

test('guard() and scoped_guard() release their lock at scope exit and on return', async () => {
  const mk = (a: string) => `/*
 * title: guards
 * expect safe
 * holds-ref: l
 */
struct obj { struct kref ref; struct list_head node; int v; };
static DEFINE_MUTEX(m);
static DEFINE_SPINLOCK(s);
static LIST_HEAD(l);
static struct obj *o0;
void setup(void)
{
	o0 = kzalloc(sizeof(*o0), GFP_KERNEL);
	kref_init(&o0->ref);
	list_add_rcu(&o0->node, &l);
}
void thread_a(void)
{
${a}
}
void thread_b(void)
{
	mutex_lock(&m);
	spin_lock(&s);
	spin_unlock(&s);
	mutex_unlock(&m);
}
`;
  const early = await compile(mk('\tguard(mutex)(&m);\n\tif (o0->v)\n\t\treturn;\n\to0->v++;'));
  const r1 = explore(early.model);
  assert.equal(r1.verdict, 'safe', JSON.stringify(r1.violations.map((v) => v.message)));
  const prog = early.model.programs[early.model.threads[0]!]!;
  assert.equal(prog.instrs.filter((i) => i.op === 'unlock').length, 2, 'one release on the early return, one at the closing brace');
  const scoped = explore((await compile(mk('\tscoped_guard(spinlock, &s) {\n\t\to0->v = 1;\n\t}\n\tmutex_lock(&m);\n\tmutex_unlock(&m);'))).model);
  assert.equal(scoped.verdict, 'safe');
  // Sleeping inside scoped_guard(spinlock) is still caught, and guard(rcu)() is a read-side section.
  const sleepy = explore((await compile(mk('\tscoped_guard(spinlock, &s) {\n\t\tmsleep(1);\n\t}'))).model);
  assert.deepEqual(kinds(sleepy), ['sleep-in-atomic']);
  const rcu = explore((await compile(mk('\tguard(rcu)();\n\tsynchronize_rcu();'))).model);
  assert.deepEqual(kinds(rcu), ['sleep-in-atomic']);
  const rcuOk = explore((await compile(mk('\t{\n\t\tguard(rcu)();\n\t\to0->v++;\n\t}\n\tsynchronize_rcu();'))).model);
  assert.equal(rcuOk.verdict, 'safe');
});

test('exploration is deterministic', async () => {
  const parser = await nodeParser();
  for (const e of library().slice(0, 6)) {
    for (const v of e.variants) {
      const s = parseBuiltin(parser, v);
      const a = explore(s.model);
      const b = explore(parseBuiltin(parser, v).model);
      assert.equal(JSON.stringify(a), JSON.stringify(b), v.ref);
    }
  }
});

const big = readFileSync(new URL('../fixtures/sim/three-by-twelve.rsim', import.meta.url), 'utf8');

test('bounded exploration reports incomplete, never safe', async () => {
  const s = await compile(big, 'three-by-twelve.rsim');
  const r = explore(s.model, { maxStates: 200 });
  assert.equal(r.verdict, 'incomplete');
  assert.equal(r.stoppedBecause, 'max-states');
  assert.ok(r.states <= 200);
});

test('cancelled exploration reports incomplete (shouldStop and AbortSignal)', async () => {
  const s = await compile(big, 'three-by-twelve.rsim');
  let calls = 0;
  const r = explore(s.model, { shouldStop: () => ++calls > 2 });
  assert.equal(r.verdict, 'incomplete');
  assert.equal(r.stoppedBecause, 'cancelled');
  const ac = new AbortController();
  ac.abort();
  const r2 = explore(s.model, { signal: ac.signal, por: false });
  assert.equal(r2.verdict, 'incomplete');
  assert.equal(r2.stoppedBecause, 'cancelled');
});

test('partial-order reduction on 3 threads x 12 operations: same verdict, at least 5x fewer states', async () => {
  const s = await compile(big, 'three-by-twelve.rsim');
  const por = explore(s.model);
  const full = explore(s.model, { por: false });
  assert.equal(por.verdict, 'safe');
  assert.equal(full.verdict, 'safe');
  assert.ok(full.states >= 5 * por.states, `POR ${por.states} vs full ${full.states}`);
});
