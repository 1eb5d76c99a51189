/** CFG construction on real trees (real WASM grammar, normaliser included). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeParser } from '../../src/node/assets';
import { parseKernelC } from '../../src/core/parse/source';
import { buildCfg, readGuard, readScopedGuard, splitArgs, type Cfg } from '../../src/core/cfg/build';

async function cfgOf(src: string, name?: string): Promise<{ cfg: Cfg; dispose: () => void }> {
  const parser = await nodeParser();
  const parsed = parseKernelC(parser, src);
  const fn = name ? parsed.functions.find((f) => f.name === name)! : parsed.functions[0]!;
  return { cfg: buildCfg(fn.node, { text: parsed.text, noreturn: new Set(['BUG', 'panic']) }), dispose: parsed.dispose };
}

/** Can `to` be reached from `from`? */
function reaches(cfg: Cfg, from: number, to: number): boolean {
  const seen = new Set<number>([from]);
  const stack = [from];
  while (stack.length) {
    const n = stack.pop()!;
    if (n === to) return true;
    for (const s of cfg.nodes[n]!.succ) {
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(s);
    }
  }
  return false;
}

function stmtAt(cfg: Cfg, line: number): number {
  const n = cfg.nodes.find((x) => (x.kind === 'stmt' || x.kind === 'return') && x.line === line);
  assert.ok(n, `no statement node at line ${line}`);
  return n.id;
}

test('if/else, return and fall-off-end reach the exit', async () => {
  const { cfg, dispose } = await cfgOf(`int f(int a)
{
	if (a)
		a = 1;
	else
		return 2;
	a++;
	return a;
}`);
  try {
    const branches = cfg.nodes.filter((n) => n.kind === 'branch');
    assert.equal(branches.length, 1);
    assert.equal(branches[0]!.succ.length, 2);
    assert.ok(reaches(cfg, stmtAt(cfg, 4), stmtAt(cfg, 7)));
    assert.ok(!reaches(cfg, stmtAt(cfg, 6), stmtAt(cfg, 7)), 'return does not fall through');
    assert.ok(reaches(cfg, stmtAt(cfg, 6), cfg.exit));
  } finally {
    dispose();
  }
});

test('short-circuit conditions split into one branch per atom, ! swaps the edges', async () => {
  const { cfg, dispose } = await cfgOf(`int f(int a, int b)
{
	if (!mutex_trylock(l) || b)
		return 1;
	return 0;
}`);
  try {
    const br = cfg.nodes.filter((n) => n.kind === 'branch');
    assert.deepEqual(br.map((b) => b.ast!.text), ['mutex_trylock(l)', 'b']);
    assert.equal(br[0]!.negated, true);
    // trylock true (i.e. !... false) goes on to test b; trylock false returns 1
    const ret1 = stmtAt(cfg, 4);
    assert.ok(reaches(cfg, br[0]!.succ[0]!, br[1]!.id));
    assert.ok(reaches(cfg, br[0]!.succ[1]!, ret1));
    assert.ok(!reaches(cfg, br[0]!.succ[1]!, br[1]!.id));
  } finally {
    dispose();
  }
});

test('switch: cases fall through, break leaves, missing default goes to the end', async () => {
  const { cfg, dispose } = await cfgOf(`void f(int c)
{
	switch (c) {
	case 1:
		a();
	case 2:
		b();
		break;
	case 3:
		d();
	}
	e();
}`);
  try {
    const sw = cfg.nodes.find((n) => n.kind === 'switch')!;
    assert.equal(sw.succ.length, 4, 'three cases + no default');
    assert.ok(reaches(cfg, stmtAt(cfg, 5), stmtAt(cfg, 7)), 'case 1 falls into case 2');
    assert.ok(!reaches(cfg, stmtAt(cfg, 7), stmtAt(cfg, 10)), 'break skips case 3');
    assert.ok(reaches(cfg, stmtAt(cfg, 7), stmtAt(cfg, 12)));
  } finally {
    dispose();
  }
});

test('loops: continue goes to the update, break leaves, back edge exists', async () => {
  const { cfg, dispose } = await cfgOf(`void f(int n)
{
	int i;
	for (i = 0; i < n; i++) {
		if (g(i))
			continue;
		if (h(i))
			break;
		k(i);
	}
	done();
}`);
  try {
    const upd = cfg.nodes.find((n) => n.kind === 'stmt' && n.ast?.text === 'i++')!;
    const cont = cfg.nodes.find((n) => n.kind === 'nop' && n.line === 6)!;
    assert.deepEqual(cont.succ, [upd.id], 'continue jumps to the update');
    const brk = cfg.nodes.find((n) => n.kind === 'nop' && n.line === 8)!;
    assert.ok(!reaches(cfg, brk.id, stmtAt(cfg, 9)) && reaches(cfg, brk.id, stmtAt(cfg, 11)), 'break leaves the loop');
    assert.ok(reaches(cfg, upd.id, stmtAt(cfg, 9)), 'back edge to the body');
    assert.ok(reaches(cfg, stmtAt(cfg, 9), stmtAt(cfg, 11)));
    const head = cfg.nodes.find((n) => n.kind === 'loopHead')!;
    assert.ok(reaches(cfg, upd.id, head.id));
  } finally {
    dispose();
  }
});

test('goto ladders jump to their labels; noreturn calls end the path', async () => {
  const { cfg, dispose } = await cfgOf(`int f(int a)
{
	if (a)
		goto out;
	if (a > 2)
		BUG();
	work();
out:
	return a;
}`);
  try {
    const work = stmtAt(cfg, 7);
    const bug = cfg.nodes.find((n) => n.kind === 'stmt' && n.line === 6)!;
    assert.deepEqual(bug.succ, [cfg.noreturn]);
    assert.ok(!reaches(cfg, bug.id, cfg.exit));
    const br = cfg.nodes.find((n) => n.kind === 'branch' && n.line === 3)!;
    assert.ok(reaches(cfg, br.succ[0]!, stmtAt(cfg, 9)));
    assert.ok(!reaches(cfg, br.succ[0]!, work), 'goto skips the work');
  } finally {
    dispose();
  }
});

test('guard() releases at every exit of its block, scoped_guard only around its body', async () => {
  const { cfg, dispose } = await cfgOf(`int f(struct s *s)
{
	if (s->a) {
		guard(mutex)(&s->lock);
		if (s->b)
			return -1;
		s->c++;
	}
	scoped_guard(spinlock_irqsave, &s->sl) {
		s->d++;
	}
	return 0;
}`);
  try {
    const acq = cfg.nodes.filter((n) => n.kind === 'guardAcquire');
    const rel = cfg.nodes.filter((n) => n.kind === 'guardRelease');
    assert.deepEqual(acq.map((a) => a.guard!.type), ['mutex', 'spinlock_irqsave']);
    assert.deepEqual(acq.map((a) => a.guard!.args[0]), ['&s->lock', '&s->sl']);
    // mutex guard: one release on the early return, one at the end of the block
    assert.equal(rel.filter((r) => r.guard!.type === 'mutex').length, 2);
    assert.equal(rel.filter((r) => r.guard!.type === 'spinlock_irqsave').length, 1);
    const early = cfg.nodes.find((n) => n.kind === 'return' && n.line === 6)!;
    assert.equal(cfg.nodes[early.succ[0]!]!.kind, 'guardRelease');
    const scopedRel = rel.find((r) => r.guard!.type === 'spinlock_irqsave')!;
    assert.ok(reaches(cfg, stmtAt(cfg, 10), scopedRel.id));
    assert.ok(reaches(cfg, scopedRel.id, stmtAt(cfg, 12)));
  } finally {
    dispose();
  }
});

test('__free() variables get a cleanup at scope exit', async () => {
  const { cfg, dispose } = await cfgOf(`int f(void)
{
	struct foo *p __free(kfree) = kzalloc(8, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	return 0;
}`);
  try {
    assert.deepEqual(cfg.cleanups.map((c) => [c.variable, c.fn]), [['p', 'kfree']]);
    assert.equal(cfg.nodes.filter((n) => n.kind === 'cleanup').length, 2, 'both returns run the cleanup');
  } finally {
    dispose();
  }
});

test('iterator macros become loops that reassign their cursor', async () => {
  const { cfg, dispose } = await cfgOf(`void f(struct list_head *h)
{
	struct foo *pos;
	list_for_each_entry(pos, h, node) {
		g(pos);
	}
}`);
  try {
    const head = cfg.nodes.find((n) => n.kind === 'loopHead')!;
    assert.equal(head.construct, 'list_for_each_entry');
    assert.deepEqual(head.assigns, ['pos']);
    assert.ok(reaches(cfg, stmtAt(cfg, 5), head.id), 'back edge');
  } finally {
    dispose();
  }
});

test('macro argument readers', () => {
  assert.deepEqual(splitArgs('(a, f(b, c), d[1,2])', 0)?.args, ['a', 'f(b, c)', 'd[1,2]']);
  assert.deepEqual(readGuard('guard(spinlock_irqsave)(&x->lock);', 0, 1, 1)?.args, ['&x->lock']);
  const sg = readScopedGuard('scoped_cond_guard(mutex_intr, return -EINTR, &l) {', 0, 1, 1)!;
  assert.equal(sg.type, 'mutex_intr');
  assert.deepEqual(sg.args, ['&l']);
});
