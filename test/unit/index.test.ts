/**
 * Workspace index over hand-written kernel-style fixtures (test/fixtures/index),
 * parsed with the real WASM grammar: refcounted types, learned get/put wrappers
 * across files, wrapper of wrapper, recursion, lookup structures with their
 * protection and publish/unpublish sites, release callbacks, the seed's GEM case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeParser } from '../../src/node/assets';
import { parseKernelC } from '../../src/core/parse/source';
import {
  buildWorkspaceIndex, extractFactsFromParsed, extractFileFacts, learnedWrappers, summaryOf, type FileFacts, type FunctionFact, type WorkspaceIndex,
} from '../../src/core/index/index';

const DIR = join(__dirname, '..', 'fixtures', 'index');
const FILES = ['foo.h', 'foo.c', 'gem.c'];

let cached: { facts: FileFacts[]; index: WorkspaceIndex } | undefined;
async function fixtureIndex(): Promise<{ facts: FileFacts[]; index: WorkspaceIndex }> {
  if (cached) return cached;
  const parser = await nodeParser();
  const facts = FILES.map((f) => extractFileFacts(parser, readFileSync(join(DIR, f), 'utf8'), `fixtures/${f}`));
  cached = { facts, index: buildWorkspaceIndex(facts) };
  return cached;
}

test('facts are plain JSON and round-trip unchanged', async () => {
  const { facts } = await fixtureIndex();
  const again = JSON.parse(JSON.stringify(facts)) as FileFacts[];
  assert.deepEqual(again, facts);
  const header = facts[0]!;
  const get = header.functions.find((f) => f.name === 'foo_get');
  assert.ok(get, 'static inline functions in headers are definitions');
  assert.equal(get.inline, 1);
  assert.deepEqual(get.params, [{ n: 'obj', t: 'struct foo', p: 1 }]);
  assert.deepEqual(get.calls.map((c) => [c.c, c.a]), [['kref_get', ['obj.ref']]]);
  const foo = header.structs.find((s) => s.name === 'struct foo');
  assert.deepEqual(foo?.fields.slice(0, 2), [{ n: 'ref', t: 'struct kref', p: 0 }, { n: 'node', t: 'struct list_head', p: 0 }]);
});

test('refcounted types: direct kref, embedded base, atomic_t used with dec_and_test', async () => {
  const { index } = await fixtureIndex();
  assert.deepEqual(index.refcounted.get('struct foo'), { type: 'struct foo', field: 'ref', kind: 'kref' });
  assert.deepEqual(index.refcounted.get('struct bar'), { type: 'struct bar', field: 'base.ref', kind: 'kref', via: 'struct foo' });
  assert.equal(index.refcounted.get('struct gem_object')?.field, 'refcount');
  assert.equal(index.refcounted.has('struct foo_dev'), false);
  assert.equal(index.refcounted.has('struct holder'), false, 'a pointer to a refcounted object does not make the holder refcounted');
});

test('get/put wrappers are learned from their bodies, across files and through wrappers of wrappers', async () => {
  const { index } = await fixtureIndex();
  const w = learnedWrappers(index);
  for (const g of ['foo_get', 'bar_get', 'gem_reference', 'foo_tryget']) assert.ok(w.gets.includes(g), `${g} is a get wrapper`);
  for (const p of ['foo_put', 'bar_put', 'gem_unreference', 'gem_handle_put', 'foo_unhash']) assert.ok(w.puts.includes(p), `${p} is a put wrapper`);
  assert.deepEqual(summaryOf(index, 'bar_put')?.params.map((p) => [p.index, p.effect, p.via, p.counter]), [[0, 'put', 'foo_put', 'struct foo.ref']]);
  assert.equal(summaryOf(index, 'foo_put')?.release, 'foo_release');
  assert.equal(summaryOf(index, 'foo_tryget')?.params[0]?.effect, 'cond-get');
  assert.equal(summaryOf(index, 'bar_user'), undefined, 'get then put nets to no effect');
  assert.equal(summaryOf(index, 'holder_clear'), undefined, 'a put through a pointer field is not a put of the parameter');
  assert.ok(!w.gets.includes('foo_release') && !w.puts.includes('foo_publish'));
  // The get inside foo_publish_hash is the hash's own reference: stored, not handed to the caller.
  assert.equal(summaryOf(index, 'foo_publish_hash')?.params[0]?.effect, 'get-stored');
  assert.ok(!w.gets.includes('foo_publish_hash'));
  // A conditional get whose result is stored into a table slot: the table's reference, no conditional get for callers.
  assert.equal(summaryOf(index, 'foo_tryget_ptr')?.params[0]?.effect, 'cond-get');
  assert.notEqual(summaryOf(index, 'foo_table_link')?.params[0]?.effect ?? 'none', 'cond-get');
  assert.equal(summaryOf(index, 'foo_table_link')?.params.find((p) => p.index === 1)?.effect ?? 'none', 'get-stored');
  // Get or initialise (hwrng_init): a conditional get that fails only with an error, for its callers too;
  // a plain tryget is no such thing.
  assert.deepEqual(['foo_init_ref', 'foo_register'].map((n) => [summaryOf(index, n)?.params[0]?.effect, summaryOf(index, n)?.params[0]?.errorOnly]),
    [['cond-get', true], ['cond-get', true]]);
  assert.equal(summaryOf(index, 'foo_tryget')?.params[0]?.errorOnly, undefined);
});

test('recursion in the call graph: the fixpoint terminates and propagates through the cycle', async () => {
  const { index } = await fixtureIndex();
  assert.equal(summaryOf(index, 'walk_a', 'fixtures/foo.c')?.params[0]?.effect, 'put');
  assert.equal(summaryOf(index, 'walk_b', 'fixtures/foo.c')?.params[0]?.effect, 'put');
  assert.equal(summaryOf(index, 'depth', 'fixtures/foo.c'), undefined);
});

test('functions returning a new reference: allocation, lookup-and-get', async () => {
  const { index } = await fixtureIndex();
  assert.equal(summaryOf(index, 'foo_alloc')?.returnsRef, 'alloc');
  assert.equal(summaryOf(index, 'foo_find')?.returnsRef, 'lookup-get');
  assert.equal(summaryOf(index, 'foo_lookup_rcu')?.returnsRef, 'lookup-get');
  assert.equal(summaryOf(index, 'foo_find_idr')?.returnsRef, 'lookup-get');
  assert.equal(summaryOf(index, 'foo_find_xa')?.returnsRef, 'lookup-get');
  assert.equal(summaryOf(index, 'gem_mmap_lookup')?.returnsRef, 'lookup-get');
  assert.ok(learnedWrappers(index).returnsRef.includes('foo_alloc'));
  // Out-parameters: objects_lookup(..., objs) stores a got reference in objs[i]; the caller returns it.
  assert.deepEqual(summaryOf(index, 'foo_objects_lookup')?.outRefs, [3]);
  assert.equal(summaryOf(index, 'foo_lookup_one')?.returnsRef, 'lookup-get');
});

test('lookup structures: element types, protection, publish and unpublish sites', async () => {
  const { index } = await fixtureIndex();
  const list = index.lookups.get('struct foo_dev.objs');
  assert.ok(list);
  assert.equal(list.kind, 'list');
  assert.deepEqual(list.elements, [{ type: 'struct foo', member: 'node' }]);
  assert.deepEqual(list.publish.map((s) => [s.fn, s.via, s.held]), [['foo_publish', 'list_add_tail', ['struct foo_dev.lock']]]);
  assert.deepEqual(list.unpublish.map((s) => [s.fn, s.held]), [['foo_release', ['struct foo_dev.lock']]]);
  assert.deepEqual(list.lookup.map((s) => [s.fn, s.via, s.held]), [['foo_find', 'list_for_each_entry', ['struct foo_dev.lock']]]);
  assert.deepEqual(list.writeLocks, ['struct foo_dev.lock']);
  assert.deepEqual(list.readLocks, ['struct foo_dev.lock']);
  assert.equal(list.rcu, false);

  const idr = index.lookups.get('struct foo_dev.idr');
  assert.equal(idr?.kind, 'idr');
  assert.deepEqual(idr?.elements, [{ type: 'struct foo' }]);
  assert.deepEqual(idr?.writeLocks, ['struct foo_dev.idr_lock']);
  assert.deepEqual(idr?.lookup.map((s) => [s.fn, s.held]), [['foo_find_idr', ['struct foo_dev.idr_lock']], ['foo_objects_lookup', ['struct foo_dev.idr_lock']]]);

  const xa = index.lookups.get('struct foo_dev.xa');
  assert.equal(xa?.kind, 'xarray');
  assert.deepEqual(xa?.elements, [{ type: 'struct foo' }]);
  assert.deepEqual(xa?.publish.map((s) => s.fn), ['foo_publish_xa']);
  assert.deepEqual(xa?.unpublish.map((s) => s.fn), ['foo_release']);
  assert.deepEqual(xa?.lookup[0]?.held, ['struct foo_dev.xa'], 'xa_lock(&dev->xa) is held at xa_load');

  const hash = index.lookups.get('struct foo_dev.hash');
  assert.equal(hash?.kind, 'hlist');
  assert.equal(hash?.rcu, true);
  assert.deepEqual(hash?.readLocks, ['rcu']);
  assert.deepEqual(hash?.writeLocks, ['struct foo_dev.hash_lock']);
  assert.deepEqual(hash?.elements, [{ type: 'struct foo', member: 'hnode' }]);
  assert.deepEqual(hash?.unpublish.map((s) => s.fn), ['foo_unhash']);

  const ptr = index.lookups.get('struct foo_dev.current_obj');
  assert.equal(ptr?.kind, 'rcu-pointer');
  assert.equal(ptr?.rcu, true);
  assert.deepEqual(ptr?.publish.map((s) => s.via), ['rcu_assign_pointer']);

  const global = index.lookups.get('all_devs');
  assert.equal(global, undefined, 'a declared but unused global list is dropped');
  assert.equal(index.globals.get('all_devs')?.type.t, 'struct list_head');
});

test('release callbacks: what they lock, unpublish and how they free', async () => {
  const { index } = await fixtureIndex();
  const r = index.releases.get('foo_release');
  assert.ok(r);
  assert.deepEqual(r.types, ['struct foo']);
  assert.deepEqual(r.via, ['kref_put']);
  assert.deepEqual(r.locks.sort(), ['struct foo_dev.idr_lock', 'struct foo_dev.lock']);
  assert.deepEqual(r.unpublishes.sort(), ['struct foo_dev.idr', 'struct foo_dev.objs', 'struct foo_dev.xa']);
  assert.deepEqual(r.frees, ['kfree_rcu']);
});

test('seed GEM case: offset hash holds a pointer without a reference; struct_mutex around the unreference', async () => {
  const { index } = await fixtureIndex();
  const vma = index.lookups.get('struct gem_device.vma_manager');
  assert.ok(vma);
  assert.equal(vma.kind, 'vma-offset');
  assert.deepEqual(vma.elements, [{ type: 'struct gem_object', member: 'vma_node' }]);
  assert.deepEqual(vma.publish.map((s) => s.fn), ['gem_create_mmap_offset']);
  assert.deepEqual(vma.unpublish.map((s) => s.fn), ['gem_free']);
  assert.deepEqual(vma.lookup.map((s) => [s.fn, s.held]), [['gem_mmap_lookup', ['struct gem_device.struct_mutex']]]);
  // The publisher takes no reference for the hash: no get effect on its parameter.
  assert.equal(summaryOf(index, 'gem_create_mmap_offset'), undefined);
  const rel = index.releases.get('gem_free');
  assert.deepEqual(rel?.unpublishes, ['struct gem_device.vma_manager']);
  assert.deepEqual(rel?.frees, ['kfree']);
  assert.deepEqual(rel?.locks, [], 'the release itself takes no lock: the unreference does');
  const unref = index.functions.get('gem_unreference')![0]!.fact.calls.find((c) => c.c === 'kref_put');
  assert.deepEqual(unref?.h, ['dev.struct_mutex']);
  assert.equal(index.refcounted.get('struct gem_object')?.kind, 'kref');
});

test('syntactic held-lock scan: early-exit branches do not leak their unlock into the fall-through path', async () => {
  const parser = await nodeParser();
  const text = `
void f(struct d *d, int x)
{
	mutex_lock(&d->lock);
	if (x) {
		mutex_unlock(&d->lock);
		return;
	}
	g(d);
	mutex_unlock(&d->lock);
	h(d);
	scoped_guard(spinlock, &d->s) {
		k(d);
	}
	rcu_read_lock();
	m(d);
	rcu_read_unlock();
}`;
  const ff = extractFileFacts(parser, text, 't.c');
  const held = Object.fromEntries(ff.functions[0]!.calls.map((c) => [c.c, c.h ?? []]));
  assert.deepEqual(held['g'], ['d.lock']);
  assert.deepEqual(held['h'], []);
  assert.deepEqual(held['k'], ['d.s']);
  assert.deepEqual(held['m'], ['rcu']);
});

test('only the lifetime counter makes a wrapper; stored references and non-converters are not gets of the parameter', async () => {
  const parser = await nodeParser();
  const text = `
struct kref { refcount_t refcount; };
static inline void kref_get(struct kref *kref)
{
	refcount_inc(&kref->refcount);
}
struct obj {
	struct kref ref;
	atomic_t pin_count;
	void *priv;
};
struct buf { void *priv; };
struct clf { struct obj *obj; };
static inline void obj_get(struct obj *o)
{
	kref_get(&o->ref);
}
static inline struct obj *obj_get_ret(struct obj *o)
{
	kref_get(&o->ref);
	return o;
}
void obj_pin(struct obj *o)
{
	atomic_inc(&o->pin_count);
}
struct clf *clf_create(struct obj *o)
{
	struct clf *c = kmalloc(sizeof(*c), GFP_KERNEL);
	c->obj = obj_get_ret(o);
	return c;
}
static struct obj *buf_to_obj(struct buf *b)
{
	return b->priv;
}
void imp(struct buf *b)
{
	struct obj *o = buf_to_obj(b);
	obj_get(o);
}`;
  const index = buildWorkspaceIndex([extractFileFacts(parser, text, 'w.c')]);
  const w = learnedWrappers(index);
  assert.deepEqual(w.gets, ['obj_get', 'obj_get_ret']);
  assert.ok(!w.gets.includes('kref_get'), 'a primitive defined in the workspace is not a learned wrapper');
  assert.equal(summaryOf(index, 'obj_pin'), undefined, 'a pin count is not the lifetime counter');
  assert.equal(summaryOf(index, 'clf_create')?.params[0]?.effect, 'get-stored');
  assert.equal(summaryOf(index, 'imp'), undefined, 'buf_to_obj reads a pointer field: not a container_of converter');
  assert.equal(index.refcounted.get('struct obj')?.field, 'ref');
});

test('release through a function-pointer field: one driver callback\'s locks are not the release\'s, its unpublish and free are', async () => {
  const parser = await nodeParser();
  const core = `
struct blob;
struct blob_funcs { void (*free)(struct blob *b); };
struct blob_dev { struct mutex core_lock; struct idr names; };
struct blob { struct kref refcount; const struct blob_funcs *funcs; struct blob_dev *dev; int id; };

void blob_release_common(struct blob *b)
{
	idr_remove(&b->dev->names, b->id);
}

static void blob_free(struct kref *kref)
{
	struct blob *b = container_of(kref, struct blob, refcount);

	mutex_lock(&b->dev->core_lock);
	mutex_unlock(&b->dev->core_lock);
	b->funcs->free(b);
}

void blob_put(struct blob *b)
{
	kref_put(&b->refcount, blob_free);
}
`;
  const driver = `
struct drv_private { spinlock_t linear_lock; };
static struct drv_private *priv;

static void drv_blob_free(struct blob *b)
{
	spin_lock(&priv->linear_lock);
	spin_unlock(&priv->linear_lock);
	blob_release_common(b);
	kfree(b);
}

static const struct blob_funcs drv_funcs = {
	.free = drv_blob_free,
};
`;
  const facts = [extractFileFacts(parser, core, 'core.c'), extractFileFacts(parser, driver, 'drv.c')];
  const index = buildWorkspaceIndex(facts);
  const rel = index.releases.get('blob_free');
  assert.ok(rel);
  assert.deepEqual(rel.locks, ['struct blob_dev.core_lock'], 'the driver callback\'s linear_lock is not attributed to the release');
  assert.deepEqual(rel.unpublishes, ['struct blob_dev.names']);
  assert.deepEqual(rel.frees, ['kfree']);
});

test('extractFactsFromParsed on the ParsedFile the lock analysis uses equals extractFileFacts, and leaves the tree usable', async () => {
  const parser = await nodeParser();
  const root = join(__dirname, '..', 'fixtures');
  let files = 0;
  for (const dir of ['index', 'refcount', 'locks', 'lockorder', 'lifecycle']) {
    for (const f of readdirSync(join(root, dir)).filter((n) => /\.[ch]$/.test(n)).sort()) {
      const text = readFileSync(join(root, dir, f), 'utf8');
      const label = `${dir}/${f}`;
      const parsed = parseKernelC(parser, text);
      try {
        const fromParsed = extractFactsFromParsed(parsed, label);
        assert.deepEqual(fromParsed, extractFileFacts(parser, text, label), label);
        assert.equal(fromParsed.stats.functions, parsed.functions.length, `${label}: every listed definition has facts`);
        // Not disposed: the same tree goes on to the lock analysis.
        assert.equal(parsed.tree.rootNode.type, 'translation_unit');
        assert.equal(parsed.functions[0]?.node.type ?? 'function_definition', 'function_definition');
      } finally {
        parsed.dispose();
      }
      files++;
    }
  }
  assert.ok(files >= 40, `fixtures found (${files})`);
});

/*
 * Extraction reads simple statements (`f(x);`, `r = f(x);`, `o->f = g(x);`,
 * `return -EINVAL;`) from the text instead of the tree, in functions without
 * parse damage. A damaged twin of the same body (an ERROR at its end) takes
 * the tree for everything: both must give the same facts.
 */
const SHORTCUT_BODY = `
	struct foo *obj = foo_lookup(dev, id);
	int ret;

	mutex_lock(&dev->lock);
	ret = foo_check(obj);
	dev->cur = foo_get(obj);
	dev->cached =
		foo_lookup(dev, 0);
	pr_info("%s: )( %d\\n", __func__, ret);
	ret = ({ int tmp; tmp = 1; tmp; });
	if (ret)
		goto out;
	if (!foo_valid(obj))
		return -EINVAL;
	while (foo_busy(obj)) {
		guard(spinlock)(&obj->lock);
		foo_poll(obj);
	}
	(void)foo_touch(obj);
	*slot = foo_get(obj);
	obj->count++;
	return obj;
out:
	mutex_unlock(&dev->lock);
	return NULL;
`;

test('text shortcuts of the extraction give the facts the tree gives', async () => {
  const parser = await nodeParser();
  const text = `static struct foo *clean(struct foo_dev *dev, int id, struct foo **slot)\n{${SHORTCUT_BODY}}\n\n`
    + `static struct foo *twin(struct foo_dev *dev, int id, struct foo **slot)\n{${SHORTCUT_BODY}\tint @;\n}\n`;
  const ff = extractFileFacts(parser, text, 'shortcuts.c');
  const [clean, twin] = ff.functions as [FunctionFact, FunctionFact];
  assert.equal(clean.damaged, undefined);
  assert.equal(twin.damaged, 1, 'the twin goes through the tree');
  const rel = (f: FunctionFact) => ({
    vars: f.vars, returns: f.returns, params: f.params,
    calls: f.calls.map((c) => ({ ...c, l: c.l - f.line })),
    stores: f.stores.map((st) => ({ ...st, l: st.l - f.line })),
  });
  assert.deepEqual(rel(clean), rel(twin));
  // And what they are, so that both going wrong the same way fails too.
  const at = (name: string) => clean.calls.filter((c) => c.c === name).map((c) => ({ ...c, l: c.l - clean.line }));
  assert.deepEqual(at('foo_check'), [{ c: 'foo_check', l: 6, col: 8, a: ['obj'], h: ['dev.lock'], s: 'ret' }]);
  assert.deepEqual(at('foo_lookup').map((c) => [c.l, c.col, c.s]), [[2, 20, 'obj'], [9, 3, 'dev.cached']], 'a call on the next line keeps its own line and column');
  assert.deepEqual(at('foo_poll')[0]?.h, ['dev.lock', 'obj.lock'], 'guard() holds to the end of its block');
  assert.deepEqual(at('foo_valid')[0]?.cond, 1);
  assert.deepEqual(at('foo_touch')[0]?.ign, 1, 'a (void) cast result is ignored');
  assert.deepEqual(at('pr_info')[0]?.ign, 1);
  assert.deepEqual(at('mutex_unlock')[0]?.h, ['dev.lock']);
  assert.deepEqual(clean.stores.map((st) => [st.to, st.v]), [['dev.cur', 'call:foo_get'], ['dev.cached', 'call:foo_lookup'], ['*slot', 'call:foo_get']]);
  assert.deepEqual(clean.returns, ['-EINVAL', 'obj', 'NULL']);
  assert.deepEqual(Object.keys(clean.vars), ['obj', 'ret', 'tmp'], 'a declaration inside a statement expression is seen');
});
