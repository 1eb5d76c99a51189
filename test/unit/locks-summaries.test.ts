/** Interprocedural summaries, knowledge across files, traces and robustness of analyzeFile. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeParser } from '../../src/node/assets';
import { analyzeFile } from '../../src/core/analyze';
import { builtinCatalog } from '../../src/core/catalog/index';
import { summarizeFile, type FunctionSummary } from '../../src/core/index/summaries';

const header = `
struct foo { struct mutex lock; spinlock_t sl; int n; };
static inline void foo_lock(struct foo *f)
{
	mutex_lock(&f->lock);
}
static inline void foo_unlock(struct foo *f)
{
	mutex_unlock(&f->lock);
}
static inline int foo_trylock(struct foo *f)
{
	return mutex_trylock(&f->lock);
}
static inline void foo_wait(struct foo *f)
{
	if (f->n)
		msleep(1);
}
void foo_irq_lock(struct foo *f) __acquires(&f->sl);
extern void foo_irq_unlock(struct foo *f) __releases(&f->sl);
`;

test('summarizeFile learns wrappers, sleepers and annotated prototypes', async () => {
  const parser = await nodeParser();
  const sums = summarizeFile(parser, header, 'include/foo.h', builtinCatalog());
  const by = new Map(sums.map((s) => [s.name, s]));
  assert.deepEqual(by.get('foo_lock')?.acquires.map((e) => [e.lock, e.kind, e.cls]), [['$0.lock', 'mutex', 'struct foo.lock']]);
  assert.deepEqual(by.get('foo_unlock')?.releases.map((e) => e.lock), ['$0.lock']);
  assert.equal(by.get('foo_trylock')?.acquires.length, 0);
  assert.equal(by.get('foo_wait')?.maySleep, true);
  assert.equal(by.get('foo_wait')?.sleepReason, 'msleep()');
  assert.equal(by.get('foo_lock')?.maySleep, true, 'mutex_lock may sleep');
  const proto = by.get('foo_irq_lock')!;
  assert.equal(proto.definition, false);
  assert.deepEqual(proto.annotations.acquires, ['&f->sl']);
  assert.deepEqual(proto.acquires.map((e) => e.lock), ['$0.sl']);
  assert.deepEqual(by.get('foo_irq_unlock')?.releases.map((e) => e.lock), ['$0.sl']);
  assert.equal(by.get('foo_lock')?.file, 'include/foo.h');
  assert.equal(by.get('foo_lock')?.line, 3);
  assert.deepEqual(JSON.parse(JSON.stringify(sums)), sums, 'plain data');
});

const user = `
int use(struct foo *f, int x)
{
	foo_lock(f);
	if (x < 0)
		return -EINVAL;
	foo_unlock(f);
	return 0;
}
void irq(struct foo *f)
{
	foo_irq_lock(f);
	foo_wait(f);
	foo_irq_unlock(f);
}
`;

test('knowledge from another file drives the rules; without it nothing is guessed', async () => {
  const parser = await nodeParser();
  const knowledge = new Map<string, FunctionSummary>(summarizeFile(parser, header, 'include/foo.h', builtinCatalog()).map((s) => [s.name, s]));
  const r = analyzeFile(parser, user, 'drv.c', { knowledge });
  assert.deepEqual(r.findings.map((f) => [f.rule, f.span.start.line, f.function]), [
    ['lock-leak', 6, 'use'],
    ['sleep-in-atomic', 13, 'irq'],
  ]);
  const leak = r.findings[0]!;
  assert.match(leak.message, /'f.lock'.*line 4/);
  assert.equal(leak.scenario, 'error-path-lock-leak');
  assert.deepEqual(leak.trace.map((t) => t.line), [4, 5, 6]);
  assert.match(leak.trace[0]!.message, /acquired by foo_lock\(\)/);
  assert.match(leak.trace[1]!.message, /branch taken: condition 'x < 0' is true/);
  assert.match(leak.trace[2]!.message, /returns with/);
  assert.match(r.findings[1]!.message, /foo_wait\(\) \(may sleep: msleep\(\)\)/);
  assert.equal(analyzeFile(parser, user, 'drv.c').findings.length, 0);
});

test('same-file functions are summarised without knowledge (callees first)', async () => {
  const parser = await nodeParser();
  const r = analyzeFile(parser, header + user, 'all.c');
  assert.deepEqual(r.findings.map((f) => [f.rule, f.function]), [['lock-leak', 'use'], ['sleep-in-atomic', 'irq']]);
});

test('analyzeFile never throws on junk and counts what it saw', async () => {
  const parser = await nodeParser();
  for (const junk of ['', '}}}{{{', 'int f( { mutex_lock(&a); return', '\u0000\u0001binary\uFFFD', 'void f(void) { goto nowhere; break; continue; }']) {
    const r = analyzeFile(parser, junk, 'junk.c');
    assert.equal(r.file, 'junk.c');
    assert.ok(Array.isArray(r.findings));
    assert.ok(r.stats.functions >= 0);
  }
  const r = analyzeFile(parser, 'void f(void) { goto nowhere; }', 'g.c');
  assert.equal(r.stats.functions, 1);
  assert.equal(r.stats.functionsNotAnalysed, 0);
});
