/** The primitive catalog and `.refscope.json` validation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinCatalog, catalogWithUserConfig, ConfigError, gfpMaySleep, indexCatalog, isSleepingName } from '../../src/core/catalog/index';
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
