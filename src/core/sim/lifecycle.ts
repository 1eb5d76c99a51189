/**
 * Lifecycle extraction: from the workspace index, the model of one refcounted
 * struct type (its counter, get/put wrappers, lookup functions and what protects
 * them, publish/unpublish sites, release callbacks and what they do), turned
 * into roles (thread programs whose every op carries the real file and line),
 * and every pair of roles (or any combination a caller picks) decided by the
 * explorer.
 *
 * Roles are abstracted from the index's facts (the real bodies of kernel
 * functions rarely compile standalone): a lookup role is "lock (or RCU read
 * side) -> look up -> get (plain or unless-zero, inside or outside the critical
 * section, as the function does it) -> unlock -> use -> put"; an unpublish role
 * is "lock -> remove -> unlock -> put the structure's reference (when it holds
 * one)"; the owner's put role is "drop the last owner reference". A put that
 * reaches zero runs the release callback: the locks it takes, the structures it
 * unpublishes from, then kfree, kfree_rcu/call_rcu, or synchronize_rcu + kfree.
 * Branches (lookup miss, get-unless-zero failure, last reference or not) are
 * kept as branches of the program.
 *
 * Pure core: hosts pass the index and (optionally) a line reader for op texts.
 */
import { refOp } from '../catalog/refcount';
import { keyClass, summaryOf, resolveCallee, type LookupStructure, type ReleaseInfo, type WorkspaceIndex, type Site } from '../index/index';
import type { CallFact, FunctionFact } from '../index/facts';
import { explore } from './explore';
import type { ExploreOptions, Instr, LockDecl, LockKind, Program, SimModel, SimSource, StructDecl, StructKind, Verdict, Violation } from './types';

export type RoleKind = 'lookup' | 'unpublish' | 'put';

export interface LifecycleRole {
  /** Unique name: `lookup:objects_lookup`, `unpublish:drm_gem_handle_delete`, `put:drm_gem_object_put`. */
  name: string;
  kind: RoleKind;
  function: string;
  file: string;
  line: number;
  /** Lookup structure the role works on (lookup/unpublish). */
  structure?: string;
  /** One-line description of the abstracted program. */
  summary: string;
  program: Program;
}

export interface LifecycleLookup {
  function: string;
  file: string;
  line: number;
  structure: string;
  /** Lock classes (or `rcu`) held at the lookup; `none` when nothing is held. */
  protectedBy: string;
  /** How the reference is taken after the lookup: `get`, `get-unless-zero`, `none`, or `via NAME` for wrappers. */
  get: string;
  /** For wrappers (`drm_gem_object_lookup`): the lookup function it calls. */
  via?: string;
}

export interface LifecycleRelease {
  function: string;
  file: string;
  line: number;
  locks: string[];
  /** `kfree`, `kfree_rcu`, `call_rcu`, `synchronize_rcu+kfree`, or `kfree (not seen: assumed)` (e.g. via a function pointer). */
  frees: string;
  unpublishes: string[];
}

export interface LifecycleStructure {
  id: string;
  kind: string;
  rcu: boolean;
  /** The structure owns a reference on its objects (a get at the publish site). */
  holdsRef: boolean;
  publish: Site[];
  unpublish: Site[];
  readLocks: string[];
  writeLocks: string[];
}

export interface LifecycleModel {
  type: string;
  refcountField: string;
  counterKind: string;
  gets: string[];
  puts: string[];
  releaseCallbacks: LifecycleRelease[];
  lookups: LifecycleLookup[];
  structures: LifecycleStructure[];
  roles: LifecycleRole[];
  /** Internal: what model builders need (locks by class, release program pieces). */
  readonly ctx: ModelContext;
}

export interface CombinationResult {
  roles: string[];
  verdict: Verdict;
  states: number;
  violations: Violation[];
  /** The explored model (for replay). */
  model: SimModel;
}

export class UnknownTypeError extends Error {
  constructor(
    readonly type: string,
    readonly closeMatches: string[],
  ) {
    super(`unknown refcounted type '${type}'${closeMatches.length ? ` (close matches: ${closeMatches.join(', ')})` : ' (no refcounted type with a similar name in the indexed files)'}`);
  }
}

export interface ExtractOptions {
  /** Text of a source line (1-based), for op texts in traces. */
  sourceLine?: (file: string, line: number) => string | undefined;
  /** At most this many roles (default 16). */
  maxRoles?: number;
}

/* ------------------------------------------------------------ helpers */

function normalizeType(t: string): string {
  const s = t.trim().replace(/\s+/g, ' ');
  return /^(struct|union) /.test(s) ? s : `struct ${s}`;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** Refcounted types whose name is close to `type` (substring either way, or a small edit distance). */
export function closeTypeMatches(index: WorkspaceIndex, type: string, max = 6): string[] {
  const want = normalizeType(type).replace(/^(struct|union) /, '');
  const scored: Array<[number, string]> = [];
  for (const t of index.refcounted.keys()) {
    const bare = t.replace(/^(struct|union) /, '');
    const dist = editDistance(want, bare);
    const sub = bare.includes(want) || want.includes(bare);
    if (sub || dist <= Math.max(2, Math.floor(want.length / 4))) scored.push([sub ? Math.min(dist, 1) : dist, t]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
  return scored.slice(0, max).map((s) => s[1]);
}

function lockKindOf(name: string): { kind: LockKind; mode: 'r' | 'w' } | null {
  if (/^mutex_(lock|lock_nested|lock_interruptible|lock_killable|trylock)$/.test(name)) return { kind: 'mutex', mode: 'w' };
  if (/^(raw_)?spin_(lock|lock_irq|lock_irqsave|lock_bh|lock_nested|trylock)$/.test(name)) return { kind: 'spinlock', mode: 'w' };
  if (/^read_(lock|lock_irq|lock_irqsave|lock_bh)$/.test(name)) return { kind: 'rwlock', mode: 'r' };
  if (/^write_(lock|lock_irq|lock_irqsave|lock_bh)$/.test(name)) return { kind: 'rwlock', mode: 'w' };
  if (/^down_read(_interruptible|_killable|_nested)?$/.test(name)) return { kind: 'rwsem', mode: 'r' };
  if (/^down_write(_interruptible|_killable|_nested)?$/.test(name)) return { kind: 'rwsem', mode: 'w' };
  return null;
}

function isUnlock(name: string): boolean {
  return /^(mutex_unlock|(raw_)?spin_unlock(_irq|_irqrestore|_bh)?|read_unlock(_irq|_irqrestore|_bh)?|write_unlock(_irq|_irqrestore|_bh)?|up_read|up_write)$/.test(name);
}

const CONTAINER_KIND: Record<string, StructKind> = { list: 'list', hlist: 'hlist', idr: 'idr', xarray: 'xarray', hashtable: 'hash' };

/* ------------------------------------------------------------ op specs and assembly */

type Spec =
  | { k: 'plain'; ins: DistributiveOmit<Exclude<Instr, { alt: number }>, 'next'> }
  | { k: 'branch'; ins: DistributiveOmit<Extract<Instr, { alt: number }>, 'next' | 'alt'>; then: Spec[]; else: Spec[] }
  | { k: 'ret'; src: SimSource };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Assemble specs into a program (entry at 0; both arms of a branch rejoin at what follows, unless they return). */
function assemble(name: string, specs: Spec[], slots: string[], role: 'thread' | 'callback', end: SimSource): Program {
  const out: Instr[] = [];
  const emit = (i: Instr): number => out.push(i) - 1;
  const retIdx = emit({ op: 'ret', src: end });
  const compile = (list: Spec[], cont: number): number => {
    let c = cont;
    for (let i = list.length - 1; i >= 0; i--) {
      const s = list[i]!;
      if (s.k === 'ret') c = emit({ op: 'ret', src: s.src });
      else if (s.k === 'plain') c = emit({ ...s.ins, next: c } as Instr);
      else {
        const t = compile(s.then, c);
        const e = compile(s.else, c);
        c = emit({ ...s.ins, next: t, alt: e } as Instr);
      }
    }
    return c;
  };
  const entry = compile(specs, retIdx);
  // Renumber: entry first, then in emission order reversed (source order).
  const order: number[] = [];
  const seen = new Set<number>();
  const stack = [entry];
  while (stack.length) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    order.push(x);
    const i = out[x]!;
    if (i.op === 'ret') continue;
    if ('alt' in i) stack.push(i.alt);
    stack.push(i.next);
  }
  const map = new Map<number, number>();
  order.forEach((x, k) => map.set(x, k));
  const instrs = order.map((x) => {
    const i = { ...out[x]! } as Instr;
    if (i.op !== 'ret') {
      i.next = map.get(i.next)!;
      if ('alt' in i) i.alt = map.get(i.alt)!;
    }
    return i;
  });
  return { name, instrs, slots, role };
}

/* ------------------------------------------------------------ extraction */

interface LockSpec {
  cls: string;
  kind: LockKind | 'rcu';
  mode: 'r' | 'w';
  lockSrc: SimSource;
  unlockSrc: SimSource;
}

interface ReleaseSpec {
  info: ReleaseInfo;
  locks: LockSpec[];
  unpublish: Array<{ structure: string; src: SimSource; locks: LockSpec[] }>;
  frees: 'kfree' | 'kfree_rcu' | 'call_rcu' | 'synchronize_rcu' | 'assumed';
  freeSrc: SimSource;
  syncSrc?: SimSource;
}

interface ModelContext {
  release: ReleaseSpec | null;
  structures: Map<string, LifecycleStructure>;
  locks: Map<string, LockKind>;
  typeSrc: SimSource;
  putSrc: SimSource;
  releaseName: string;
}

/** Slot layout of every role: 0 = the object pointer. */
const OBJ = 0;
/** Global 0 is the owner's pointer (holds the owner's reference). */
const OWNER = -1;

class Extractor {
  constructor(
    readonly index: WorkspaceIndex,
    readonly type: string,
    readonly opts: ExtractOptions,
  ) {}

  src(file: string, line: number, fallback: string): SimSource {
    const text = this.opts.sourceLine?.(file, line)?.trim();
    return { file, line, column: 1, text: text && text.length ? text : fallback };
  }

  fnFact(name: string, file: string): FunctionFact | null {
    const d = resolveCallee(this.index, file, name);
    return d ? d.fact : null;
  }

  counterMatches(cls: string | null | undefined): boolean {
    if (!cls) return false;
    const rc = this.index.refcounted.get(this.type)!;
    return cls.startsWith(`${this.type}.`) || (rc.via !== undefined && cls.startsWith(`${rc.via}.`));
  }

  /** A get on the type: 'get' | 'cond' (unless-zero) | null. */
  getKind(fn: FunctionFact, file: string, c: CallFact): 'get' | 'cond' | null {
    const op = refOp(c.c, this.index.rc);
    if (op) {
      const k = c.a[op.counterArg];
      if (op.effect === 'get' && (op.objectArg || this.counterMatches(k ? keyClass(this.index, fn, k) : null))) return 'get';
      if (op.effect === 'get-unless-zero' && (op.objectArg || this.counterMatches(k ? keyClass(this.index, fn, k) : null))) return 'cond';
      return null;
    }
    const s = summaryOf(this.index, c.c, file);
    const p = s?.params.find((x) => (x.effect === 'get' || x.effect === 'cond-get' || x.effect === 'get-stored') && this.counterMatches(x.counter));
    if (p) return p.effect === 'cond-get' ? 'cond' : 'get';
    if (s?.returnsRef === 'cond-get') return 'cond';
    return null;
  }

  isPut(fn: FunctionFact, file: string, c: CallFact): boolean {
    const op = refOp(c.c, this.index.rc);
    if (op) {
      const k = c.a[op.counterArg];
      return (op.effect === 'put' || op.effect === 'put-release') && (op.objectArg === true || this.counterMatches(k ? keyClass(this.index, fn, k) : null));
    }
    const s = summaryOf(this.index, c.c, file);
    return !!s?.params.some((x) => x.effect === 'put' && this.counterMatches(x.counter));
  }

  /** Lock classes a function takes and does not release (a lock wrapper), or releases without taking (an unlock wrapper). */
  wrapperEffect(name: string, file: string): { takes: Array<{ cls: string; kind: LockKind; mode: 'r' | 'w' }>; drops: string[]; inner: Array<{ cls: string; kind: LockKind; mode: 'r' | 'w' }> } {
    const out = { takes: [] as Array<{ cls: string; kind: LockKind; mode: 'r' | 'w' }>, drops: [] as string[], inner: [] as Array<{ cls: string; kind: LockKind; mode: 'r' | 'w' }> };
    if (lockKindOf(name) || isUnlock(name)) return out;
    const d = resolveCallee(this.index, file, name);
    if (!d) return out;
    const locked = new Map<string, { kind: LockKind; mode: 'r' | 'w' }>();
    const unlocked = new Set<string>();
    for (const c of d.fact.calls) {
      const k0 = c.a[0];
      if (!k0) continue;
      const lk = lockKindOf(c.c);
      const cls = lk || isUnlock(c.c) ? keyClass(this.index, d.fact, k0) : null;
      if (!cls) continue;
      if (lk) locked.set(cls, lk);
      else unlocked.add(cls);
    }
    for (const [cls, lk] of locked) (unlocked.has(cls) ? out.inner : out.takes).push({ cls, ...lk });
    for (const cls of unlocked) if (!locked.has(cls)) out.drops.push(cls);
    return out;
  }

  /**
   * The locks held at a site: the classes the index saw held (with their lock and
   * unlock calls), lock wrappers called before it (`drm_vma_offset_lock_lookup`)
   * and locks the site's own primitive takes inside (`drm_vma_offset_remove`).
   */
  siteLocks(site: Site): LockSpec[] {
    const fn = this.fnFact(site.fn, site.file);
    const out = this.lockSpecs(fn, site.file, site.line, site.held);
    const have = new Set(out.map((l) => l.cls));
    if (fn) {
      for (const c of fn.calls) {
        if (c.l > site.line || (c.l === site.line && c.c === site.via)) continue;
        for (const t of this.wrapperEffect(c.c, site.file).takes) {
          if (have.has(t.cls)) continue;
          const un = fn.calls.find((u) => u.l >= site.line && u !== c && this.wrapperEffect(u.c, site.file).drops.includes(t.cls));
          if (!un) continue;
          have.add(t.cls);
          out.push({ cls: t.cls, kind: t.kind, mode: t.mode, lockSrc: this.src(site.file, c.l, `${c.c}(...)`), unlockSrc: this.src(site.file, un.l, `${un.c}(...)`) });
        }
      }
    }
    for (const t of this.wrapperEffect(site.via, site.file).inner) {
      if (have.has(t.cls)) continue;
      have.add(t.cls);
      const at = this.src(site.file, site.line, `${site.via}(...)`);
      out.push({ cls: t.cls, kind: t.kind, mode: t.mode, lockSrc: { ...at, text: `${at.text} [${site.via} takes ${t.cls}]` }, unlockSrc: { ...at, text: `${at.text} [${site.via} releases ${t.cls}]` } });
    }
    return out;
  }

  /** The lock/unlock calls around `line` in `fn` for each held class. */
  lockSpecs(fn: FunctionFact | null, file: string, line: number, held: string[]): LockSpec[] {
    const out: LockSpec[] = [];
    for (const cls of held) {
      let lockCall: CallFact | undefined;
      let unlockCall: CallFact | undefined;
      let kind: LockKind | 'rcu' = 'mutex';
      let mode: 'r' | 'w' = 'w';
      for (const c of fn?.calls ?? []) {
        if (cls === 'rcu') {
          if (/^rcu_read_lock/.test(c.c) && !/unlock/.test(c.c) && c.l <= line) lockCall = c;
          if (/^rcu_read_unlock/.test(c.c) && c.l >= line && !unlockCall) unlockCall = c;
          continue;
        }
        const lk = lockKindOf(c.c);
        const k0 = c.a[0];
        const same = (): boolean => !!fn && !!k0 && keyClass(this.index, fn, k0) === cls;
        if (lk && c.l <= line && same()) {
          lockCall = c;
          kind = lk.kind;
          mode = lk.mode;
        }
        if (isUnlock(c.c) && c.l >= line && !unlockCall && same()) unlockCall = c;
      }
      if (cls === 'rcu') kind = 'rcu';
      const short = cls.replace(/^.*\./, '');
      out.push({
        cls,
        kind,
        mode: cls === 'rcu' ? 'r' : mode,
        lockSrc: lockCall ? this.src(file, lockCall.l, `${lockCall.c}(${short})`) : this.src(file, line, `(caller holds ${cls})`),
        unlockSrc: unlockCall ? this.src(file, unlockCall.l, `${unlockCall.c}(${short})`) : this.src(file, line, `(caller releases ${cls})`),
      });
    }
    return out;
  }

  structures(): LifecycleStructure[] {
    const out: LifecycleStructure[] = [];
    for (const l of this.index.lookups.values()) {
      if (!l.elements.some((e) => e.type === this.type)) continue;
      if (!CONTAINER_KIND[l.kind] && l.kind !== 'vma-offset' && l.kind !== 'rbtree' && l.kind !== 'rhashtable' && l.kind !== 'radix' && l.kind !== 'rcu-pointer' && l.kind !== 'llist') continue;
      out.push({
        id: l.id,
        kind: l.kind,
        rcu: l.rcu,
        holdsRef: this.holdsRef(l),
        publish: l.publish,
        unpublish: l.unpublish,
        readLocks: l.readLocks,
        writeLocks: l.writeLocks,
      });
    }
    return out;
  }

  /** The publishing function takes a reference on the object (the structure owns it). */
  holdsRef(l: LookupStructure): boolean {
    if (!l.publish.length) return false;
    return l.publish.some((s) => {
      const fn = this.fnFact(s.fn, s.file);
      return !!fn && fn.calls.some((c) => this.getKind(fn, s.file, c) !== null);
    });
  }

  release(putWrapper: string | null): ReleaseSpec | null {
    const all = [...this.index.releases.values()].filter((r) => r.types.includes(this.type));
    if (!all.length) return null;
    const preferred = putWrapper ? this.releaseOfPut(putWrapper) : null;
    all.sort((a, b) => (a.name === preferred ? -1 : b.name === preferred ? 1 : a.name.localeCompare(b.name)));
    const r = all[0]!;
    const fn = this.fnFact(r.name, r.file);
    const locks: LockSpec[] = [];
    for (const cls of r.locks) {
      if (cls === 'rcu') continue;
      const specs = this.lockSpecs(fn, r.file, fn ? fn.endLine : r.line, [cls]);
      // Inside the release: unlock is the first unlock after the lock.
      const s = specs[0]!;
      const lockCall = fn?.calls.find((c) => lockKindOf(c.c) && c.a[0] && keyClass(this.index, fn, c.a[0]) === cls);
      const unlockCall = fn?.calls.find((c) => isUnlock(c.c) && c.a[0] && keyClass(this.index, fn, c.a[0]) === cls && (!lockCall || c.l >= lockCall.l));
      if (lockCall) {
        const lk = lockKindOf(lockCall.c)!;
        s.kind = lk.kind;
        s.mode = lk.mode;
        s.lockSrc = this.src(r.file, lockCall.l, `${lockCall.c}(...)`);
      } else s.lockSrc = this.src(r.file, r.line, `${r.name}: takes ${cls}`);
      s.unlockSrc = unlockCall ? this.src(r.file, unlockCall.l, `${unlockCall.c}(...)`) : this.src(r.file, r.line, `${r.name}: releases ${cls}`);
      locks.push(s);
    }
    const unpublish = r.unpublishes.map((id) => {
      const site = this.index.lookups.get(id)?.unpublish.find((u) => u.fn === r.name) ?? this.index.lookups.get(id)?.unpublish[0];
      const siteLocks = site ? this.siteLocks(site).filter((l) => !r.locks.includes(l.cls)) : [];
      return { structure: id, src: site && site.fn === r.name ? this.src(site.file, site.line, `${site.via}(...)`) : site ? this.src(site.file, site.line, `${site.via}(...) [via ${site.fn}]`) : this.src(r.file, r.line, `${r.name}: removes from ${id}`), locks: siteLocks };
    });
    const freeCall = (re: RegExp): CallFact | undefined => fn?.calls.find((c) => re.test(c.c));
    let frees: ReleaseSpec['frees'] = 'assumed';
    let freeSrc = this.src(r.file, r.line, `${r.name}: frees the object`);
    let syncSrc: SimSource | undefined;
    if (r.frees.includes('kfree_rcu') || r.frees.includes('call_rcu')) {
      frees = r.frees.includes('kfree_rcu') ? 'kfree_rcu' : 'call_rcu';
      const c = freeCall(/^(kfree_rcu|kvfree_rcu|kfree_rcu_mightsleep|call_rcu)$/);
      if (c) freeSrc = this.src(r.file, c.l, `${c.c}(...)`);
    } else if (r.frees.includes('synchronize_rcu')) {
      frees = 'synchronize_rcu';
      const s = freeCall(/^synchronize_rcu/);
      if (s) syncSrc = this.src(r.file, s.l, `${s.c}()`);
      const c = freeCall(/^(kfree|kvfree|vfree|kmem_cache_free|kfree_sensitive)$/);
      if (c) freeSrc = this.src(r.file, c.l, `${c.c}(...)`);
    } else if (r.frees.includes('kfree')) {
      frees = 'kfree';
      const c = freeCall(/^(kfree|kvfree|vfree|kmem_cache_free|kfree_sensitive)$/);
      if (c) freeSrc = this.src(r.file, c.l, `${c.c}(...)`);
    }
    return { info: r, locks, unpublish, frees, freeSrc, ...(syncSrc ? { syncSrc } : {}) };
  }

  releaseOfPut(name: string): string | null {
    let cur = name;
    for (let i = 0; i < 4; i++) {
      const s = summaryOf(this.index, cur);
      if (!s) return null;
      if (s.release) return s.release;
      const p = s.params.find((x) => x.effect === 'put');
      if (!p) return null;
      cur = p.via;
    }
    return null;
  }

  /** The put wrapper used by owners: `<bare>_put` if learned, else the shortest learned put. */
  putWrapper(): { name: string; file: string; line: number } | null {
    const bare = this.type.replace(/^(struct|union) /, '');
    const cands: Array<{ name: string; file: string; line: number }> = [];
    for (const s of this.index.summaries.values()) {
      if (this.index.rc.refOps.has(s.name)) continue;
      const p = s.params.find((x) => x.effect === 'put' && this.counterMatches(x.counter));
      if (p) cands.push({ name: s.name, file: s.file, line: p.line });
    }
    cands.sort((a, b) => {
      const ea = a.name === `${bare}_put` ? 0 : 1;
      const eb = b.name === `${bare}_put` ? 0 : 1;
      return ea - eb || a.name.length - b.name.length || a.name.localeCompare(b.name);
    });
    return cands[0] ?? null;
  }

  gets(): string[] {
    const out = new Set<string>();
    for (const s of this.index.summaries.values()) {
      if (this.index.rc.refOps.has(s.name)) continue;
      if (s.params.some((x) => (x.effect === 'get' || x.effect === 'cond-get') && this.counterMatches(x.counter))) out.add(s.name);
    }
    return [...out].sort();
  }

  puts(): string[] {
    const out = new Set<string>();
    for (const s of this.index.summaries.values()) {
      if (this.index.rc.refOps.has(s.name)) continue;
      if (s.params.some((x) => x.effect === 'put' && this.counterMatches(x.counter))) out.add(s.name);
    }
    return [...out].sort();
  }
}

/** Extract the lifecycle model of `type` (`struct NAME`) from the index. Throws UnknownTypeError. */
export function extractLifecycle(index: WorkspaceIndex, typeName: string, opts: ExtractOptions = {}): LifecycleModel {
  const type = normalizeType(typeName);
  const rc = index.refcounted.get(type);
  if (!rc) throw new UnknownTypeError(type, closeTypeMatches(index, type));
  const x = new Extractor(index, type, opts);
  const def = index.structs.get(type);
  const typeSrc = x.src(def?.file ?? '', def?.line ?? 0, `${type} { ... ${rc.field} ... }`);
  const putW = x.putWrapper();
  const release = x.release(putW?.name ?? null);
  const structs = x.structures();
  const ctx: ModelContext = {
    release,
    structures: new Map(structs.map((s) => [s.id, s])),
    locks: new Map(),
    typeSrc,
    putSrc: putW ? x.src(putW.file, putW.line, `${putW.name}(obj)`) : typeSrc,
    releaseName: release?.info.name ?? 'release',
  };
  const roles: LifecycleRole[] = [];
  const lookups: LifecycleLookup[] = [];
  const maxRoles = opts.maxRoles ?? 16;
  const seenRole = new Set<string>();
  const addRole = (r: Omit<LifecycleRole, 'program'>, specs: Spec[], end: SimSource): void => {
    if (seenRole.has(r.name)) return;
    seenRole.add(r.name);
    roles.push({ ...r, program: assemble(r.name, specs, ['obj'], 'thread', end) });
  };
  const putSpecs = (src: SimSource): Spec[] => [
    { k: 'branch', ins: { op: 'dec_and_test', obj: OBJ, src }, then: releaseSpecs(ctx), else: [] },
  ];

  // Lookup roles, one per function holding a lookup site on a structure of the type.
  for (const s of structs) {
    const l = index.lookups.get(s.id)!;
    for (const site of l.lookup) {
      const fn = x.fnFact(site.fn, site.file);
      const locks = x.siteLocks(site);
      for (const lk of locks) if (lk.kind !== 'rcu') ctx.locks.set(lk.cls, lk.kind);
      // The get after the lookup (in the same function).
      let get: { kind: 'get' | 'cond'; call: CallFact } | null = null;
      for (const c of fn?.calls ?? []) {
        if (c.l < site.line || (c.l === site.line && c.c === site.via)) continue;
        const k = x.getKind(fn!, site.file, c);
        if (k) {
          get = { kind: k, call: c };
          break;
        }
      }
      const g0 = get;
      // Inside when the syntactic scan saw the lock held at the get, or (lock wrappers) the get lies between lock and unlock.
      const within = (lk: LockSpec, l: number): boolean => lk.lockSrc.file === site.file && lk.unlockSrc.line > lk.lockSrc.line && lk.lockSrc.line <= l && l <= lk.unlockSrc.line;
      const getInside = g0 ? locks.every((lk) => (g0.call.h ?? []).some((h) => (h === 'rcu' ? 'rcu' : keyClass(index, fn!, h)) === lk.cls) || within(lk, g0.call.l)) : false;
      const lookSrc = x.src(site.file, site.line, `${site.via}(${s.id})`);
      const unlocks: Spec[] = [...locks].reverse().map((lk) => (lk.kind === 'rcu' ? { k: 'plain', ins: { op: 'rcu_unlock', src: lk.unlockSrc } } : { k: 'plain', ins: { op: 'unlock', lock: -1, mode: lk.mode, src: lk.unlockSrc, cls: lk.cls } as never }));
      const lockOps: Spec[] = locks.map((lk) => (lk.kind === 'rcu' ? { k: 'plain', ins: { op: 'rcu_lock', src: lk.lockSrc } } : { k: 'plain', ins: { op: 'lock', lock: -1, mode: lk.mode, src: lk.lockSrc, cls: lk.cls } as never }));
      const useSrc = get ? x.src(site.file, get.call.l, `${get.call.c}(obj)`) : lookSrc;
      const use: Spec = { k: 'plain', ins: { op: 'access', obj: OBJ, write: false, src: { ...useSrc, text: `use of the object (${site.fn})` } } };
      const afterGet: Spec[] = getInside ? [...unlocks, use, ...putSpecs(ctx.putSrc)] : [use, ...putSpecs(ctx.putSrc)];
      let found: Spec[];
      // No reference taken: the object is used inside the critical section only (debugfs walks, stats).
      if (!get) found = [use, ...unlocks];
      else {
        const getSrc = x.src(site.file, get.call.l, `${get.call.c}(obj)`);
        const pre: Spec[] = getInside ? [] : unlocks;
        if (get.kind === 'cond') found = [...pre, { k: 'branch', ins: { op: 'inc_not_zero', obj: OBJ, src: getSrc }, then: afterGet, else: getInside ? [...unlocks] : [] }];
        else found = [...pre, { k: 'plain', ins: { op: 'inc', obj: OBJ, src: getSrc } }, ...afterGet];
      }
      const specs: Spec[] = [
        ...lockOps,
        { k: 'plain', ins: { op: 'lookup', struct: -1, key: null, dst: OBJ, src: lookSrc, sid: s.id } as never },
        { k: 'branch', ins: { op: 'test', a: { var: OBJ }, cmp: '!=0', src: lookSrc }, then: found, else: [...unlocks] },
      ];
      const protectedBy = locks.length ? locks.map((lk) => lk.cls).join(' + ') : 'none';
      const getDesc = get ? (get.kind === 'cond' ? `${get.call.c} (get-unless-zero)` : get.call.c) : 'none';
      lookups.push({ function: site.fn, file: site.file, line: site.line, structure: s.id, protectedBy, get: getDesc });
      addRole(
        { name: `lookup:${site.fn}`, kind: 'lookup', function: site.fn, file: site.file, line: site.line, structure: s.id, summary: `${locks.map((k) => k.cls).join('+') || 'no lock'}: ${site.via}(${s.id}) -> ${get ? `${getDesc}${locks.length ? (getInside ? ' inside' : ' outside') + ' the critical section' : ''} -> use -> put` : 'use without a reference (inside the critical section)'}` },
        specs,
        lookSrc,
      );
    }
  }
  // Wrapper lookups: functions returning a reference through a lookup function.
  for (const sm of index.summaries.values()) {
    if (sm.returnsRef !== 'lookup-get' || !sm.returnsVia) continue;
    const inner = lookups.find((l) => l.function === sm.returnsVia);
    if (inner && !lookups.some((l) => l.function === sm.name)) lookups.push({ function: sm.name, file: sm.file, line: sm.line, structure: inner.structure, protectedBy: inner.protectedBy, get: `via ${inner.function}`, via: inner.function });
  }

  // Unpublish roles.
  for (const s of structs) {
    for (const site of s.unpublish) {
      if (release && site.fn === release.info.name) continue;
      const fn = x.fnFact(site.fn, site.file);
      const locks = x.siteLocks(site);
      for (const lk of locks) if (lk.kind !== 'rcu') ctx.locks.set(lk.cls, lk.kind);
      const src = x.src(site.file, site.line, `${site.via}(${s.id})`);
      let putSrc = ctx.putSrc;
      if (fn) {
        const put = fn.calls.find((c) => c.l >= site.line && x.isPut(fn, site.file, c)) ?? fn.calls.find((c) => x.isPut(fn, site.file, c));
        if (put) putSrc = x.src(site.file, put.l, `${put.c}(obj)`);
      }
      const specs: Spec[] = [
        ...locks.map((lk): Spec => (lk.kind === 'rcu' ? { k: 'plain', ins: { op: 'rcu_lock', src: lk.lockSrc } } : { k: 'plain', ins: { op: 'lock', lock: -1, mode: 'w', src: lk.lockSrc, cls: lk.cls } as never })),
        { k: 'plain', ins: { op: 'unpublish_key', struct: -1, key: '1', dst: OBJ, src, sid: s.id } as never },
        ...[...locks].reverse().map((lk): Spec => (lk.kind === 'rcu' ? { k: 'plain', ins: { op: 'rcu_unlock', src: lk.unlockSrc } } : { k: 'plain', ins: { op: 'unlock', lock: -1, mode: 'w', src: lk.unlockSrc, cls: lk.cls } as never })),
      ];
      if (s.holdsRef) specs.push({ k: 'branch', ins: { op: 'test', a: { var: OBJ }, cmp: '!=0', src: putSrc }, then: putSpecs(putSrc), else: [] });
      addRole(
        { name: `unpublish:${site.fn}`, kind: 'unpublish', function: site.fn, file: site.file, line: site.line, structure: s.id, summary: `${locks.map((k) => k.cls).join('+') || 'no lock'}: ${site.via}(${s.id})${s.holdsRef ? ' -> put the structure\'s reference' : ' (the structure holds no reference)'}` },
        specs,
        src,
      );
    }
  }

  // The owner's put.
  if (putW) {
    const src = ctx.putSrc;
    addRole(
      { name: `put:${putW.name}`, kind: 'put', function: putW.name, file: putW.file, line: putW.line, summary: `owner drops its reference -> ${ctx.releaseName} at zero` },
      [{ k: 'plain', ins: { op: 'assign', dst: OBJ, value: { var: OWNER }, src: { ...src, text: `obj = owner (the owner's reference, dropped by ${putW.name})` } } }, { k: 'plain', ins: { op: 'assign', dst: OWNER, value: { const: -1 }, src: { ...src, text: 'owner = NULL' } } }, ...putSpecs(src)],
      src,
    );
  }
  if (release) for (const lk of [...release.locks, ...release.unpublish.flatMap((u) => u.locks)]) if (lk.kind !== 'rcu') ctx.locks.set(lk.cls, lk.kind as LockKind);

  const chosen = selectRoles(roles, maxRoles, [release?.info.file, putW?.file]);

  const releaseCallbacks: LifecycleRelease[] = [...index.releases.values()]
    .filter((r) => r.types.includes(type))
    .map((r) => ({
      function: r.name,
      file: r.file,
      line: r.line,
      locks: r.locks,
      frees: r.frees.length ? (r.frees.includes('synchronize_rcu') && r.frees.includes('kfree') ? 'synchronize_rcu+kfree' : r.frees.join('+')) : 'kfree (not seen: assumed)',
      unpublishes: r.unpublishes,
    }));
  return { type, refcountField: rc.field, counterKind: rc.kind, gets: x.gets(), puts: x.puts(), releaseCallbacks, lookups, structures: structs, roles: chosen, ctx };
}

/**
 * At most `max` roles: the owner's put, then the unpublish roles and the lookups
 * that take a reference, those in the type's core files (release, put wrapper)
 * first; lookups without a reference (walks under the lock) last.
 */
function selectRoles(all: LifecycleRole[], max: number, coreFiles: Array<string | undefined>): LifecycleRole[] {
  if (all.length <= max) return all;
  const core = new Set(coreFiles.filter((f): f is string => !!f));
  const rank = (r: LifecycleRole): number => {
    if (r.kind === 'put') return 0;
    const inCore = core.has(r.file) ? 0 : 1;
    if (r.kind === 'unpublish') return 1 + inCore;
    const takesRef = /-> use -> put/.test(r.summary) ? 0 : 2;
    return 3 + inCore + takesRef;
  };
  const order = all.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i);
  const keep = new Set(order.slice(0, max).map((o) => o.r));
  return all.filter((r) => keep.has(r));
}

/** Release ops run at a put that reaches zero (lock/struct indices resolved later by name). */
function releaseSpecs(ctx: ModelContext): Spec[] {
  const r = ctx.release;
  if (!r) return [{ k: 'plain', ins: { op: 'free', obj: OBJ, src: { ...ctx.putSrc, text: `${ctx.putSrc.text} (release: free)` } } }];
  const out: Spec[] = [];
  for (const lk of r.locks) out.push({ k: 'plain', ins: { op: 'lock', lock: -1, mode: lk.mode, src: lk.lockSrc, cls: lk.cls } as never });
  for (const u of r.unpublish) {
    for (const lk of u.locks) out.push(lk.kind === 'rcu' ? { k: 'plain', ins: { op: 'rcu_lock', src: lk.lockSrc } } : { k: 'plain', ins: { op: 'lock', lock: -1, mode: 'w', src: lk.lockSrc, cls: lk.cls } as never });
    out.push({ k: 'plain', ins: { op: 'unpublish_key', struct: -1, key: '1', src: u.src, sid: u.structure } as never });
    for (const lk of [...u.locks].reverse()) out.push(lk.kind === 'rcu' ? { k: 'plain', ins: { op: 'rcu_unlock', src: lk.unlockSrc } } : { k: 'plain', ins: { op: 'unlock', lock: -1, mode: 'w', src: lk.unlockSrc, cls: lk.cls } as never });
  }
  for (const lk of [...r.locks].reverse()) out.push({ k: 'plain', ins: { op: 'unlock', lock: -1, mode: lk.mode, src: lk.unlockSrc, cls: lk.cls } as never });
  if (r.frees === 'kfree_rcu' || r.frees === 'call_rcu') out.push({ k: 'plain', ins: { op: 'call_rcu', obj: OBJ, cb: -1, src: r.freeSrc } });
  else {
    if (r.frees === 'synchronize_rcu' && r.syncSrc) out.push({ k: 'plain', ins: { op: 'sync_rcu', src: r.syncSrc } });
    out.push({ k: 'plain', ins: { op: 'free', obj: OBJ, src: r.frees === 'assumed' ? { ...r.freeSrc, text: `${r.info.name}() frees the object (the free itself is not seen, e.g. through a function pointer: assumed)` } : r.freeSrc } });
  }
  return out;
}

/* ------------------------------------------------------------ models and checking */

/** Build the simulator model for a combination of roles (by name). */
export function buildCombinationModel(lm: LifecycleModel, roleNames: string[]): SimModel {
  const roles = roleNames.map((n) => {
    const r = lm.roles.find((x) => x.name === n);
    if (!r) throw new Error(`unknown role '${n}'`);
    return r;
  });
  const ctx = lm.ctx;
  const locks: LockDecl[] = [];
  const structs: StructDecl[] = [];
  const structIds: string[] = [];
  const lockIdx = (cls: string): number => {
    let i = locks.findIndex((l) => l.name === cls);
    if (i < 0) i = locks.push({ name: cls, kind: ctx.locks.get(cls) ?? 'mutex' }) - 1;
    return i;
  };
  const structIdx = (id: string): number => {
    let i = structIds.indexOf(id);
    if (i < 0) {
      const s = ctx.structures.get(id);
      structIds.push(id);
      structs.push({ name: id, kind: CONTAINER_KIND[s?.kind ?? ''] ?? 'list', holdsRef: s?.holdsRef ?? false });
      i = structIds.length - 1;
    }
    return i;
  };
  // Structures the roles (or the release) touch: the object starts published in each.
  for (const r of roles) if (r.structure) structIdx(r.structure);
  const programs: Program[] = [];
  let kfreeCb = -1;
  const resolve = (p: Program): Program => ({
    ...p,
    instrs: p.instrs.map((i0) => {
      const i = { ...i0 } as Instr & { cls?: string; sid?: string };
      if ((i.op === 'lock' || i.op === 'unlock') && i.cls !== undefined) i.lock = lockIdx(i.cls);
      if ((i.op === 'lookup' || i.op === 'unpublish_key') && i.sid !== undefined) i.struct = structIdx(i.sid);
      if (i.op === 'call_rcu') {
        if (kfreeCb < 0) kfreeCb = -2;
        i.cb = -2;
      }
      delete i.cls;
      delete i.sid;
      return i as Instr;
    }),
  });
  const threadProgs = roles.map((r) => resolve(r.program));
  // Setup: allocate, count the owner's reference and one per structure holding one, publish.
  const setupSpecs: Spec[] = [
    { k: 'plain', ins: { op: 'alloc', dst: OWNER, site: 0, sleeps: false, src: ctx.typeSrc } },
  ];
  const holders = structs.filter((s) => s.holdsRef).length;
  setupSpecs.push({ k: 'plain', ins: { op: 'set', obj: OWNER, value: 1 + holders, src: ctx.typeSrc } });
  structIds.forEach((id, i) => {
    const s = ctx.structures.get(id);
    const p = s?.publish[0];
    const src = p ? { file: p.file, line: p.line, column: 1, text: `${p.via}(${id}) (setup: published)` } : { ...ctx.typeSrc, text: `published in ${id}` };
    setupSpecs.push({ k: 'plain', ins: { op: 'publish', struct: i, key: '1', obj: OWNER, field: '', src } });
  });
  const setup = assemble('setup', setupSpecs, [], 'thread', ctx.typeSrc);
  // Names must be unique per model (thread names show in traces).
  const names = new Map<string, number>();
  threadProgs.forEach((p) => {
    const k = (names.get(p.name) ?? 0) + 1;
    names.set(p.name, k);
    if (k > 1) p.name = `${p.name}#${k}`;
  });
  programs.push(...threadProgs);
  const threads = threadProgs.map((_, i) => i);
  programs.push(setup);
  const setupIdx = programs.length - 1;
  if (kfreeCb === -2) {
    const src = ctx.release?.freeSrc ?? ctx.putSrc;
    programs.push(assemble(ctx.release?.frees === 'call_rcu' ? `${ctx.releaseName} (rcu callback)` : 'kfree_rcu', [{ k: 'plain', ins: { op: 'free', obj: 0, src } }], ['ptr'], 'callback', src));
    kfreeCb = programs.length - 1;
    for (const p of programs) for (const i of p.instrs) if (i.op === 'call_rcu') i.cb = kfreeCb;
  }
  return {
    name: `${lm.type}: ${roleNames.join(' + ')}`,
    file: ctx.typeSrc.file,
    locks,
    structs,
    globals: [{ name: 'owner', holdsRef: true }],
    sites: [{ name: lm.type.replace(/^(struct|union) /, ''), src: ctx.typeSrc }],
    programs,
    threads,
    setup: setupIdx,
  };
}

/** Every pair of distinct roles (in role order). */
export function rolePairs(lm: LifecycleModel): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < lm.roles.length; i++) for (let j = i + 1; j < lm.roles.length; j++) out.push([lm.roles[i]!.name, lm.roles[j]!.name]);
  return out;
}

/** Resolve user-given role names (exact role name, or a function name, or a kind when unique). */
export function resolveRoleNames(lm: LifecycleModel, given: string[]): { roles: string[]; unknown: string[] } {
  const roles: string[] = [];
  const unknown: string[] = [];
  for (const g of given) {
    const exact = lm.roles.find((r) => r.name === g) ?? lm.roles.find((r) => r.function === g) ?? (lm.roles.filter((r) => r.kind === g).length === 1 ? lm.roles.find((r) => r.kind === g) : undefined);
    if (exact) roles.push(exact.name);
    else unknown.push(g);
  }
  return { roles, unknown };
}

/** Decide combinations (default: every pair of roles). */
export function checkCombinations(lm: LifecycleModel, combos: string[][] = rolePairs(lm), options: ExploreOptions = {}): CombinationResult[] {
  return combos.map((roles) => {
    const model = buildCombinationModel(lm, roles);
    const r = explore(model, { maxStates: 200_000, ...options });
    return { roles, verdict: r.verdict, states: r.states, violations: r.violations, model };
  });
}
