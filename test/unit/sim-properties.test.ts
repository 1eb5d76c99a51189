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

type Gen = (next: number, end: number, src: SimSource, r: ReturnType<typeof prng>) => Instr;

/** Op generators over one object, one lock, one list; branches only jump forward (programs terminate). */
const OPS: Gen[] = [
  (next, _e, src) => ({ op: 'assign', dst: P, value: { var: G }, next, src }),
  (next, _e, src) => ({ op: 'lookup', struct: 0, key: 'k', dst: P, next, src }),
  (next, end, src, r) => ({ op: 'test', a: { var: P }, cmp: '==0', next: next + r.int(end - next + 1), alt: next, src }),
  (next, _e, src) => ({ op: 'inc', obj: P, next, src }),
  (next, end, src, r) => ({ op: 'inc_not_zero', obj: P, next, alt: next + r.int(end - next + 1), src }),
  (next, _e, src) => ({ op: 'dec', obj: P, next, src }),
  (next, end, src, r) => ({ op: 'dec_and_test', obj: P, next: next + r.int(end - next + 1), alt: next, src }),
  (next, _e, src, r) => ({ op: 'access', obj: P, write: r.next() < 0.5, next, src }),
  (next, _e, src) => ({ op: 'free', obj: P, next, src }),
  (next, _e, src) => ({ op: 'lock', lock: 0, mode: 'w', next, src }),
  (next, _e, src) => ({ op: 'unlock', lock: 0, mode: 'w', next, src }),
  (next, end, src, r) => ({ op: 'trylock', lock: 0, mode: 'w', interruptible: false, next, alt: next + r.int(end - next + 1), src }),
  (next, _e, src) => ({ op: 'rcu_lock', next, src }),
  (next, _e, src) => ({ op: 'rcu_unlock', next, src }),
  (next, _e, src) => ({ op: 'unpublish', struct: 0, field: 'node', obj: P, next, src }),
  (next, _e, src) => ({ op: 'assign', dst: G, value: { const: -1 }, next, src }),
  (next, end, src, r) => ({ op: 'choice', next, alt: next + r.int(end - next + 1), src }),
  (next, _e, src) => ({ op: 'sleep', next, src }),
];

function randomModel(seed: number): SimModel {
  const r = prng(seed);
  const programs: Program[] = [];
  const src = (prog: number, i: number, text: string): SimSource => ({ file: 'random.rsim', line: prog * 100 + i + 1, column: 1, text });
  // setup: allocate the object (count 1), publish it in the list and in the global
  programs.push({
    name: 'setup', role: 'thread', slots: ['obj'],
    instrs: [
      { op: 'alloc', dst: P, site: 0, sleeps: false, next: 1, src: src(0, 0, 'obj = alloc()') },
      { op: 'publish', struct: 0, key: 'k', obj: P, field: 'node', next: 2, src: src(0, 1, 'list_add(obj)') },
      { op: 'assign', dst: G, value: { var: P }, next: 3, src: src(0, 2, 'g = obj') },
      { op: 'ret', src: src(0, 3, 'return') },
    ],
  });
  const threads: number[] = [];
  const nThreads = 2 + r.int(2);
  for (let t = 1; t <= nThreads; t++) {
    const len = 2 + r.int(5);
    const instrs: Instr[] = [];
    for (let i = 0; i < len; i++) {
      const gen = OPS[r.int(OPS.length)]!;
      const ins = gen(i + 1, len, src(t, i, `op${i}`), r);
      instrs.push({ ...ins, src: { ...ins.src, text: ins.op } } as Instr);
    }
    instrs.push({ op: 'ret', src: src(t, len, 'return') });
    programs.push({ name: `t${t}`, role: 'thread', slots: ['p'], instrs });
    threads.push(programs.length - 1);
  }
  return {
    name: `random-${seed}`, file: 'random.rsim',
    locks: [{ name: 'lock', kind: r.next() < 0.5 ? 'mutex' : 'spinlock' }],
    structs: [{ name: 'list', kind: 'list', holdsRef: r.next() < 0.5 }],
    globals: [{ name: 'g', holdsRef: false }],
    sites: [{ name: 'obj', src: src(0, 0, 'obj = alloc()') }],
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
