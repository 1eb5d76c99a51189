/**
 * Property tests of the lifecycle simulator (issue 8, scope 2) over random
 * small models generated with a fixed seed (the same models every run):
 *  - every violation trace replays (replayTrace reaches the same violation kind);
 *  - a safe verdict has no violating replay (no violation traces at all, and the
 *    plain exploration, which sees every interleaving, agrees);
 *  - partial-order reduction never visits more states than plain exploration;
 *  - with and without POR the verdict and the set of violation kinds agree.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { explore, replayTrace } from '../../src/core/sim/explore';
import type { Instr, Program, SimModel, SimSource, VarRef } from '../../src/core/sim/types';

function prng(seed: number): { next: () => number; int: (n: number) => number } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n) };
}

const G: VarRef = -1; // global 0: the published pointer
const P: VarRef = 0; // the thread's own slot

type Block = (at: number, src: (i: number, text: string) => SimSource, r: ReturnType<typeof prng>) => Instr[];

/**
 * Well-formed kernel idioms (get under the lock, get_unless_zero then put,
 * RCU read, unpublish then put...) and a few broken ones (unlocked access,
 * an extra put, sleeping under a spinlock); `at` is the index of the block's
 * first instruction, branches jump to the block's end at the latest.
 */
const BLOCKS: Block[] = [
  (at, src) => [
    { op: 'lock', lock: 0, mode: 'w', next: at + 1, src: src(at, 'lock') },
    { op: 'inc', obj: P, next: at + 2, src: src(at + 1, 'get') },
    { op: 'unlock', lock: 0, mode: 'w', next: at + 3, src: src(at + 2, 'unlock') },
    { op: 'access', obj: P, write: false, next: at + 4, src: src(at + 3, 'use') },
    { op: 'dec_and_test', obj: P, next: at + 5, alt: at + 6, src: src(at + 4, 'put') },
    { op: 'free', obj: P, next: at + 6, src: src(at + 5, 'free') },
  ],
  (at, src) => [
    { op: 'inc_not_zero', obj: P, next: at + 1, alt: at + 4, src: src(at, 'get_unless_zero') },
    { op: 'access', obj: P, write: true, next: at + 2, src: src(at + 1, 'use') },
    { op: 'dec_and_test', obj: P, next: at + 3, alt: at + 4, src: src(at + 2, 'put') },
    { op: 'free', obj: P, next: at + 4, src: src(at + 3, 'free') },
  ],
  (at, src) => [
    { op: 'rcu_lock', next: at + 1, src: src(at, 'rcu_read_lock') },
    { op: 'access', obj: P, write: false, next: at + 2, src: src(at + 1, 'read') },
    { op: 'rcu_unlock', next: at + 3, src: src(at + 2, 'rcu_read_unlock') },
  ],
  (at, src) => [
    { op: 'lock', lock: 0, mode: 'w', next: at + 1, src: src(at, 'lock') },
    { op: 'access', obj: P, write: true, next: at + 2, src: src(at + 1, 'write') },
    { op: 'unlock', lock: 0, mode: 'w', next: at + 3, src: src(at + 2, 'unlock') },
  ],
  (at, src) => [
    { op: 'lock', lock: 0, mode: 'w', next: at + 1, src: src(at, 'lock') },
    { op: 'unpublish', struct: 0, field: 'node', obj: P, next: at + 2, src: src(at + 1, 'list_del') },
    { op: 'unlock', lock: 0, mode: 'w', next: at + 3, src: src(at + 2, 'unlock') },
    { op: 'sync_rcu', next: at + 4, src: src(at + 3, 'synchronize_rcu') },
    { op: 'dec_and_test', obj: P, next: at + 5, alt: at + 6, src: src(at + 4, 'put') },
    { op: 'free', obj: P, next: at + 6, src: src(at + 5, 'free') },
  ],
  (at, src, r) => [
    { op: 'choice', next: at + 1, alt: at + 2 + r.int(2), src: src(at, 'if (cond)') },
    { op: 'sleep', next: at + 2, src: src(at + 1, 'msleep') },
    { op: 'nop', next: at + 3, src: src(at + 2, ';') },
  ],
  // broken idioms
  (at, src) => [{ op: 'access', obj: P, write: true, next: at + 1, src: src(at, 'unlocked write') }],
  (at, src) => [
    { op: 'dec_and_test', obj: P, next: at + 1, alt: at + 2, src: src(at, 'extra put') },
    { op: 'free', obj: P, next: at + 2, src: src(at + 1, 'free') },
  ],
  (at, src) => [
    { op: 'trylock', lock: 0, mode: 'w', interruptible: false, next: at + 1, alt: at + 3, src: src(at, 'trylock') },
    { op: 'sleep', next: at + 2, src: src(at + 1, 'sleep under lock') },
    { op: 'unlock', lock: 0, mode: 'w', next: at + 3, src: src(at + 2, 'unlock') },
  ],
];
const BROKEN_FROM = 6;
const TAME = [1, 2, 3, 5];

function randomModel(seed: number): SimModel {
  const r = prng(seed);
  const programs: Program[] = [];
  const srcOf = (prog: number) => (i: number, text: string): SimSource => ({ file: 'random.rsim', line: prog * 100 + i + 1, column: 1, text });
  // setup: allocate the object (count 1: the reference the global owns) and publish it
  const s0 = srcOf(0);
  programs.push({
    name: 'setup', role: 'thread', slots: ['obj'],
    instrs: [
      { op: 'alloc', dst: P, site: 0, sleeps: false, next: 1, src: s0(0, 'obj = alloc()') },
      { op: 'set', obj: P, value: 1, next: 2, src: s0(1, 'kref_init(obj)') },
      { op: 'publish', struct: 0, key: 'k', obj: P, field: 'node', next: 3, src: s0(2, 'list_add(obj)') },
      { op: 'assign', dst: G, value: { var: P }, next: 4, src: s0(3, 'g = obj') },
      { op: 'ret', src: s0(4, 'return') },
    ],
  });
  const threads: number[] = [];
  const nThreads = 2 + r.int(2);
  // tame models use only the idioms that need no lock discipline across threads
  const tame = r.next() < 0.4;
  for (let t = 1; t <= nThreads; t++) {
    const src = srcOf(t);
    const instrs: Instr[] = [{ op: 'assign', dst: P, value: { var: G }, next: 1, src: src(0, 'p = g') }];
    const blocks = 1 + r.int(2);
    for (let b = 0; b < blocks; b++) {
      // broken blocks in about one model thread out of four
      const pick = tame ? TAME[r.int(TAME.length)]! : r.next() < 0.25 ? BROKEN_FROM + r.int(BLOCKS.length - BROKEN_FROM) : r.int(BROKEN_FROM);
      instrs.push(...BLOCKS[pick]!(instrs.length, src, r));
    }
    instrs.push({ op: 'ret', src: src(instrs.length, 'return') });
    programs.push({ name: `t${t}`, role: 'thread', slots: ['p'], instrs });
    threads.push(programs.length - 1);
  }
  return {
    name: `random-${seed}`, file: 'random.rsim',
    locks: [{ name: 'lock', kind: r.next() < 0.5 ? 'mutex' : 'spinlock' }],
    structs: [{ name: 'list', kind: 'list', holdsRef: false }],
    globals: [{ name: 'g', holdsRef: true }],
    sites: [{ name: 'obj', src: s0(0, 'obj = alloc()') }],
    programs, threads, setup: 0,
  };
}

const MODELS = 250;
const SEED = 20261125;

describe('simulator properties over random models', () => {
  const results = Array.from({ length: MODELS }, (_, i) => {
    const model = randomModel(SEED + i);
    return { model, por: explore(model, { por: true }), full: explore(model, { por: false }) };
  });

  it('explores every model to a verdict (none stopped early)', () => {
    for (const { model, por, full } of results) {
      assert.equal(por.stoppedBecause, null, model.name);
      assert.equal(full.stoppedBecause, null, model.name);
    }
    // the generator produces both outcomes, so the properties below are not vacuous
    const verdicts = new Set(results.map((r) => r.full.verdict));
    assert.ok(verdicts.has('safe') && verdicts.has('violation'), [...verdicts].join(','));
    const kinds = new Set(results.flatMap((r) => r.full.violations.map((v) => v.kind)));
    assert.ok(kinds.size >= 4, `violation kinds seen: ${[...kinds].join(', ')}`);
  });

  it('every violation trace replays to its violation (with and without POR)', () => {
    let replayed = 0;
    for (const { model, por, full } of results) {
      for (const v of [...por.violations, ...full.violations]) {
        const rp = replayTrace(model, v.trace);
        assert.equal(rp.failedAt, -1, `${model.name} ${v.kind}: ${rp.reason}`);
        assert.equal(rp.reached?.kind, v.kind, `${model.name}: trace of ${v.kind} replays to ${rp.reached?.kind ?? 'nothing'}`);
        replayed++;
      }
    }
    assert.ok(replayed > 50, `${replayed} traces replayed`);
  });

  it('a safe verdict never has a violating trace, and the plain exploration agrees', () => {
    let safe = 0;
    for (const { model, por, full } of results) {
      if (por.verdict !== 'safe') continue;
      safe++;
      assert.deepEqual(por.violations, [], model.name);
      assert.equal(full.verdict, 'safe', `${model.name}: POR says safe, plain exploration finds ${full.violations.map((v) => v.kind).join(', ')}`);
    }
    assert.ok(safe > 10, `${safe} safe models`);
  });

  it('POR never visits more states than plain exploration, and both agree on verdict and violation kinds', () => {
    let smaller = 0;
    for (const { model, por, full } of results) {
      assert.ok(por.states <= full.states, `${model.name}: POR ${por.states} states > plain ${full.states}`);
      if (por.states < full.states) smaller++;
      assert.equal(por.verdict, full.verdict, model.name);
      assert.deepEqual(new Set(por.violations.map((v) => v.kind)), new Set(full.violations.map((v) => v.kind)), model.name);
    }
    assert.ok(smaller > 0, 'POR reduces some models');
  });
});
