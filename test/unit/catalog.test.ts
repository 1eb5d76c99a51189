/** The primitive catalog and `.refscope.json` validation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinCatalog, catalogWithUserConfig, ConfigError, configErrorRange, gfpMaySleep, indexCatalog, isSleepingName, layeredCatalog, primitiveLayers } from '../../src/core/catalog/index';
import { nodeParser } from '../../src/node/assets';
import { analyzeFile } from '../../src/core/analyze';

test('built-in catalog: conditional acquires and their success values', () => {
  const idx = indexCatalog(builtinCatalog());
  assert.equal(idx.lockOps.get('mutex_trylock')?.cond, 'nonzero');
  assert.equal(idx.lockOps.get('mutex_lock_interruptible')?.cond, 'zero');
  assert.equal(idx.lockOps.get('down_write_killable')?.cond, 'zero');
  assert.equal(idx.lockOps.get('atomic_dec_and_mutex_lock')?.lockArg, 1);
  assert.equal(idx.lockOps.get('refcount_dec_and_lock')?.cond, 'nonzero');
  assert.equal(idx.lockOps.get('spin_unlock_irqrestore')?.op, 'release');
  assert.equal(idx.lockOps.get('read_lock')?.mode, 'read');
  assert.equal(idx.lockOps.get('rcu_read_lock')?.lockArg, -1);
  assert.ok(idx.noreturn.has('BUG') && idx.noreturn.has('panic') && idx.noreturn.has('do_exit'));
  assert.equal(JSON.parse(JSON.stringify(builtinCatalog())).lockOps.length, builtinCatalog().lockOps.length, 'plain data');
});

test('sleeping calls: names, patterns, and the lock_irq wait_event exceptions', () => {
  const idx = indexCatalog(builtinCatalog());
  for (const n of ['msleep', 'mutex_lock', 'wait_event_interruptible', 'wait_for_completion_timeout', 'cancel_delayed_work_sync', 'synchronize_rcu', 'copy_from_user']) {
    assert.ok(isSleepingName(idx, n), n);
  }
  for (const n of ['wait_event_lock_irq', 'wait_event_interruptible_locked', 'wait_event_interruptible_lock_irq_timeout', 'try_wait_for_completion', 'spin_lock', 'udelay', 'cancel_work']) {
    assert.ok(!isSleepingName(idx, n), n);
  }
});

test('GFP flags: sleeping, atomic and unknown', () => {
  const idx = indexCatalog(builtinCatalog());
  assert.equal(gfpMaySleep(idx, 'GFP_KERNEL'), true);
  assert.equal(gfpMaySleep(idx, 'GFP_NOIO | __GFP_ZERO'), true);
  assert.equal(gfpMaySleep(idx, 'GFP_ATOMIC'), false);
  assert.equal(gfpMaySleep(idx, 'GFP_NOWAIT | __GFP_NOWARN'), false);
  assert.equal(gfpMaySleep(idx, 'gfp'), undefined);
  assert.equal(gfpMaySleep(idx, 'GFP_KERNEL & ~__GFP_DIRECT_RECLAIM'), undefined);
});

test('.refscope.json: valid config extends the catalog and is used by the analysis', async () => {
  const cat = catalogWithUserConfig(JSON.stringify({
    locks: [{ acquire: 'hw_lock', release: 'hw_unlock', kind: 'spinlock' }],
    sleeping: ['hw_wait'],
    noreturn: ['hw_fatal'],
    atomic: [{ enter: 'hw_irq_off', exit: 'hw_irq_on' }],
  }), '.refscope.json');
  const idx = indexCatalog(cat);
  assert.equal(idx.lockOps.get('hw_lock')?.kind, 'spinlock');
  assert.ok(idx.sleeping.has('hw_wait') && idx.noreturn.has('hw_fatal'));
  const parser = await nodeParser();
  const src = `void f(struct d *d)\n{\n\thw_lock(&d->l);\n\thw_wait(d);\n\thw_unlock(&d->l);\n}\nvoid g(struct d *d)\n{\n\thw_irq_off();\n\thw_wait(d);\n\thw_irq_on();\n}\n`;
  const with_ = analyzeFile(parser, src, 'x.c', { catalog: cat });
  assert.deepEqual(with_.findings.map((f) => [f.rule, f.span.start.line]), [['sleep-in-atomic', 4], ['sleep-in-atomic', 10]]);
  assert.equal(analyzeFile(parser, src, 'x.c').findings.length, 0, 'built-ins know nothing about hw_*');
});

test('.refscope.json: invalid configs give one-line ConfigErrors naming the file', () => {
  const bad: [string, RegExp][] = [
    ['{', /invalid JSON/],
    ['[]', /top level must be a JSON object/],
    ['{"lock": []}', /unknown key "lock"/],
    ['{"locks": [{"acquire": "a", "kind": "bogus"}]}', /kind/],
    ['{"locks": [{"acquire": "a", "extra": 1}]}', /unknown key "extra"/],
    ['{"locks": [{"acquire": "a b"}]}', /C identifier/],
    ['{"sleeping": "msleep"}', /array/],
    ['{"locks": [{"acquire": "a", "lockArg": 99}]}', /lockArg/],
    ['{"atomic": [{"enter": "x", "leave": "y"}]}', /unknown key "leave"/],
  ];
  for (const [text, re] of bad) {
    assert.throws(() => catalogWithUserConfig(text, 'ws/.refscope.json'), (e: unknown) => {
      assert.ok(e instanceof ConfigError, text);
      assert.match(e.message, /^ws\/\.refscope\.json: /);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });
  }
});

test('layered catalog sources: each valid layer extends the previous one, an invalid one is skipped with a located error', () => {
  const user = JSON.stringify({ sleeping: ['my_sleep'] });
  const ws = '{\n  "locks": [\n    { "acquire": "foo_lock", "release": "foo_unlock", "kind": "bogus" }\n  ]\n}\n';
  const ws2 = JSON.stringify({ locks: [{ acquire: 'foo_lock', release: 'foo_unlock', kind: 'spinlock' }] });
  const a = layeredCatalog([{ text: user, source: 'settings' }, { text: ws, source: '.refscope.json' }]);
  assert.ok(a.catalog.sleeping.includes('my_sleep'), 'the valid layer applies');
  assert.ok(!a.catalog.lockOps.some((o) => o.name === 'foo_lock'), 'the invalid layer does not');
  assert.ok(a.catalog.lockOps.some((o) => o.name === 'mutex_lock'), 'built-ins stay in force');
  assert.equal(a.errors.length, 1);
  assert.equal(a.errors[0]!.source, '.refscope.json');
  assert.match(a.errors[0]!.message, /locks\[0\]\.kind/);
  assert.equal(ws.slice(a.errors[0]!.range.start, a.errors[0]!.range.end), '"kind"');
  const b = layeredCatalog([{ text: user, source: 'settings' }, { text: ws2, source: '.refscope.json' }]);
  assert.deepEqual(b.errors, []);
  assert.ok(b.catalog.sleeping.includes('my_sleep') && b.catalog.lockOps.some((o) => o.name === 'foo_lock' && o.kind === 'spinlock'));
  // the base catalog is not modified by a later layer
  const base = builtinCatalog();
  catalogWithUserConfig(ws2, 'x', base);
  assert.ok(!base.lockOps.some((o) => o.name === 'foo_lock'));
});

test('configErrorRange: the JSON parser position, an unknown key, else the first line', () => {
  const broken = '{\n  "sleeping": [ "a", ]\n}';
  const e1 = layeredCatalog([{ text: broken, source: 'f' }]).errors[0]!;
  assert.match(e1.message, /invalid JSON/);
  assert.ok(e1.range.start > 0 && e1.range.start < broken.length, JSON.stringify(e1));
  const unknown = '{\n  "sleeping": [],\n  "lock": []\n}';
  const e2 = layeredCatalog([{ text: unknown, source: 'f' }]).errors[0]!;
  assert.equal(unknown.slice(e2.range.start, e2.range.end), '"lock"');
  assert.deepEqual(configErrorRange('[1, 2]\n', 'f: the top level must be a JSON object'), { start: 0, end: 6 });
});

test('primitive layers: user, then workspace setting, then .refscope.json; restricted mode keeps only the user layer', () => {
  const file = JSON.stringify({ noreturn: ['ws_die'] });
  const all = primitiveLayers({ user: { sleeping: ['u_sleep'] }, workspace: { sleeping: ['w_sleep'] }, file, fileName: '.refscope.json', trusted: true });
  assert.deepEqual(all.sources.map((s) => s.source), ['settings (user): refscope.primitives', 'settings (workspace): refscope.primitives', '.refscope.json']);
  assert.deepEqual(all.ignored, []);
  const cat = layeredCatalog(all.sources).catalog;
  assert.ok(cat.sleeping.includes('u_sleep') && cat.sleeping.includes('w_sleep') && cat.noreturn.includes('ws_die'));
  const restricted = primitiveLayers({ user: { sleeping: ['u_sleep'] }, workspace: { sleeping: ['w_sleep'] }, file, fileName: '.refscope.json', trusted: false });
  assert.deepEqual(restricted.sources.map((s) => s.source), ['settings (user): refscope.primitives']);
  assert.deepEqual(restricted.ignored, ['settings (workspace): refscope.primitives', '.refscope.json']);
  const rc = layeredCatalog(restricted.sources).catalog;
  assert.ok(rc.sleeping.includes('u_sleep') && !rc.sleeping.includes('w_sleep') && !rc.noreturn.includes('ws_die'));
  assert.ok(rc.lockOps.some((o) => o.name === 'spin_lock'), 'built-ins still work');
  // a broken workspace file in restricted mode is not even parsed: no error to show, nothing ignored silently
  const broken = primitiveLayers({ file: '{', trusted: false });
  assert.deepEqual(layeredCatalog(broken.sources).errors, []);
  assert.deepEqual(broken.ignored, ['.refscope.json']);
  assert.deepEqual(primitiveLayers({ user: {}, workspace: null, trusted: true }), { sources: [], ignored: [] });
});
