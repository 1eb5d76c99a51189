import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeParser } from '../../src/node/assets';
import { parseScenario } from '../../src/core/scenarios/format';
import { explore, replayTrace } from '../../src/core/sim/explore';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POOL = [
  'mutex_lock(&m);',
  'mutex_unlock(&m);',
  'spin_lock(&s);',
  'spin_unlock(&s);',
  'rcu_read_lock();',
  'rcu_read_unlock();',
  'synchronize_rcu();',
  'p = list_first_or_null_rcu(&l, struct obj, node);',
  'p = idr_find(&ids, 1);',
  'if (p && !kref_get_unless_zero(&p->ref))\n\t\tp = NULL;',
  'if (p)\n\t\tkref_get(&p->ref);',
  'if (p)\n\t\tkref_put(&p->ref, rel);',
  'if (p)\n\t\tp->v++;',
  'list_del_rcu(&o0->node);',
  'idr_remove(&ids, 1);',
  'kref_put(&o0->ref, rel);',
  'call_rcu(&o0->rcu, cb);',
  'kfree_rcu(o0, rcu);',
  'if (cond())\n\t\treturn;',
  'p = o0;',
  'msleep(1);',
];

function randomScenario(seed: number): string {
  const r = rng(seed);
  const threads = 2 + Math.floor(r() * 2);
  const bodies: string[] = [];
  for (let t = 0; t < threads; t++) {
    const n = 2 + Math.floor(r() * 4);
    const lines = ['\tstruct obj *p = NULL;'];
    for (let i = 0; i < n; i++) lines.push(`\t${POOL[Math.floor(r() * POOL.length)]!}`);
    bodies.push(`void thread_${t}(void)\n{\n${lines.join('\n')}\n}\n`);
  }
  return `/*
 * title: random ${seed}
 * expect safe
 * holds-ref: l
 */
struct obj { struct kref ref; struct list_head node; struct rcu_head rcu; int v; };
static DEFINE_MUTEX(m);
static DEFINE_SPINLOCK(s);
static LIST_HEAD(l);
static DEFINE_IDR(ids);
static struct obj *o0;
static void rel(struct kref *ref)
{
	struct obj *o = container_of(ref, struct obj, ref);
	kfree(o);
}
static void cb(struct rcu_head *head)
{
	struct obj *o = container_of(head, struct obj, rcu);
	kref_put(&o->ref, rel);
}
void setup(void)
{
	o0 = kzalloc(sizeof(*o0), GFP_KERNEL);
	kref_init(&o0->ref);
	kref_get(&o0->ref);
	list_add_rcu(&o0->node, &l);
	idr_alloc(&ids, o0, 1, 2, GFP_KERNEL);
}
${bodies.join('\n')}`;
}

test('POR finds exactly the violation kinds of plain exploration on 150 random models', async () => {
  const parser = await nodeParser();
  let withViolations = 0;
  let reduced = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const text = randomScenario(seed);
    const s = parseScenario(parser, text, `random-${seed}.rsim`);
    const por = explore(s.model);
    const full = explore(s.model, { por: false });
    const k = (x: typeof por) => x.violations.map((v) => v.kind).sort();
    assert.deepEqual(k(por), k(full), `seed ${seed}:\n${text}`);
    assert.equal(por.verdict, full.verdict, `seed ${seed}`);
    assert.ok(por.states <= full.states, `seed ${seed}: POR ${por.states} > full ${full.states}`);
    if (por.states < full.states) reduced++;
    if (por.violations.length) withViolations++;
    for (const v of por.violations) assert.equal(replayTrace(s.model, v.trace).reached?.kind, v.kind, `seed ${seed} ${v.kind}`);
  }
  // The sample must exercise both outcomes and the reduction.
  assert.ok(withViolations > 30 && withViolations < 150, `${withViolations} models with violations`);
  assert.ok(reduced > 50, `POR reduced only ${reduced} models`);
});
