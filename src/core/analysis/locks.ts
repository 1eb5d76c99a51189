/**
 * Path-sensitive lock-state dataflow over the CFG.
 *
 * A state is one "path fact" set: the multiset of held locks (with acquire site),
 * locks this function released on the path, locks released that the caller held,
 * and a few correlated facts about local variables that conditions test
 * (`ret = mutex_lock_interruptible(l)` pending until `if (ret)`, `locked = 1`...).
 * States are propagated without merging (equal states are deduplicated); a node
 * that collects more than MAX_STATES states collapses to imprecise states that
 * never produce findings. Events (double lock, unheld release, sleep in atomic)
 * and exit records (for lock-leak and summaries) are plain data.
 */
import type { SyntaxNode as Node } from '../parse/syntax';
import {
  ATOMIC_KINDS, CHECKED_KINDS, gfpMaySleep, indexCatalog, isSleepingName, type FlagGatedSleeper,
  type Catalog, type CatalogIndex, type LockKind,
} from '../catalog/index';
import { Allowance } from '../budget';
import { buildCfg, splitArgs, type Cfg, type CfgNode, type GuardInfo } from '../cfg/build';
import type { FunctionSummary, LockEffect, LockTake } from '../index/summaries';
import type { ParsedFile } from '../parse/source';
import type { TraceStep } from '../types';
import { lineStarts, posOf } from '../util/text';
import { keyField, keyIdentifiers, keyRoot, lockClass, lockKey, rerootKey } from './lockid';

export const MAX_STATES = 32;
/** States kept apart per lock part when they differ only in value facts. */
const VARIANTS = 4;
const MAX_WORK = 40000;
const MAX_TRACE = 24;

export type LockRule = 'double-lock' | 'unlock-unheld' | 'sleep-in-atomic';

export interface Loc {
  line: number;
  column: number;
  offset: number;
  endLine: number;
  endColumn: number;
  endOffset: number;
}

export interface LockEvent {
  rule: LockRule;
  at: Loc;
  message: string;
  lockKey: string;
  trace: TraceStep[];
}

export interface HeldLock {
  key: string;
  text: string;
  cls: string;
  kind: LockKind | 'unknown';
  mode?: 'read' | 'write';
  line: number;
  /** Might or might not be held (conditional acquire not yet resolved, stale identity...). */
  uncertain: boolean;
  /** Held by the caller on entry (annotation, lockdep_assert_held). */
  fromCaller: boolean;
  via?: string;
}

export interface ExitRecord {
  held: HeldLock[];
  released: string[];
  callerReleased: string[];
  at: Loc | null;
  /** What the return statement returns: a constant error/NULL, 0, a variable known non-zero (an error code after `if (ret) goto`), or unknown. */
  retClass: 'error' | 'success' | 'nonzero' | 'unknown' | 'void';
  /** The returned value when it is a literal 0, 1, true or false (conditional-lock functions signalling with it). */
  retConst?: '0' | '1' | 'true' | 'false';
  /** The returned variable, when the return returns one (`return head;`). */
  retIdent?: string;
  trace: TraceStep[];
  imprecise: boolean;
}

/**
 * One lock-order pair seen in a function (recorded only when asked, see
 * analyzeFunctions' `lockOrder`): class `from` was certainly held when class `to`
 * was acquired, here or inside a callee (`callee` then says where).
 */
export interface LockOrderRecord {
  from: string;
  to: string;
  fromLine: number;
  fromText: string;
  fromVia: string;
  /** The acquire (or the call whose callee acquires). */
  at: Loc;
  toText: string;
  via: string;
  fromShared?: boolean;
  toShared?: boolean;
  callee?: LockTake;
}

export interface FunctionAnalysis {
  name: string;
  line: number;
  events: LockEvent[];
  /** Lock-order pairs (only when analyzeFunctions was asked for them). */
  order?: LockOrderRecord[];
  exits: ExitRecord[];
  annotations: FunctionSummary['annotations'];
  summary: FunctionSummary;
  /** Analysis gave up (too complex / internal error): no findings from this function. */
  failed?: string;
  analysed: boolean;
  /** Lock expressions stored through a pointer parameter (`*ptlp = ptl`): handed to the caller. */
  handedOut?: string[];
}

export interface FileAnalysis {
  functions: FunctionAnalysis[];
  summaries: FunctionSummary[];
  failures: number;
}

/**
 * Names called in a file that had no summary (same file, knowledge) and are not
 * catalog primitives when it was analysed: hosts that learn summaries later (the
 * CLI's second pass over other `.c` files) use them to decide whether a re-analysis
 * could change the result.
 */
export interface UnresolvedCallees {
  /** Called anywhere in the file. */
  any: Set<string>;
  /** Called (directly, or through same-file functions) while a lock was held or had been released on the path. */
  held: Set<string>;
  /** Called (directly, or through same-file functions) while an atomic context was certainly held. */
  atomic: Set<string>;
}

/**
 * What a path knows about a tested integer or pointer: its sign, as a set of
 * {negative, zero, positive} (`if (n < 0) return; ... if (n > 0) lock(); ...
 * if (n > 0) unlock();` pairs the two tests on n >= 0 known).
 */
type Val = 'Z' | 'NZ' | 'NEG' | 'POS' | 'NONNEG' | 'NONPOS';
const SIGNS: Record<Val, number> = { NEG: 4, Z: 2, POS: 1, NZ: 5, NONNEG: 3, NONPOS: 6 };
const OF_SIGNS: (Val | null)[] = [null, 'POS', 'Z', 'NONNEG', 'NEG', 'NZ', 'NONPOS', null];
interface Pending {
  held: HeldLock;
  success: 'zero' | 'nonzero';
}
type Fact = { v: Val } | { p: Pending };

interface State {
  held: HeldLock[];
  released: string[];
  /** Locks whose conditional acquisition failed on this path. */
  failed: string[];
  callerReleased: string[];
  facts: Map<string, Fact>;
  trace: TraceStep[];
  ret: Loc | null;
  retClass: ExitRecord['retClass'];
  retConst?: ExitRecord['retConst'];
  retIdent?: string;
  imprecise: boolean;
  /** Cached lockPart (states are not mutated after being pushed). */
  lp?: string;
}

/* ------------------------------------------------------------------ effects */

interface CallEffect {
  t: 'call';
  name: string;
  node: Node;
  args: Node[];
  assignTo: string | null;
  /** The call's value is used by something else than a plain assignment/statement. */
  valueUsed: boolean;
  /** Per-function memo (location, sleep reason, lock reference): does not depend on the state. */
  memo?: { loc: Loc; sleep: string | null; ref: LockRefT | null | undefined; warn?: boolean };
}
interface AssignEffect {
  t: 'assign';
  name: string;
  value: Val | 'unknown' | 'call';
}
type Effect = CallEffect | AssignEffect;

function stripParens(n: Node): Node {
  let cur = n;
  while (cur.type === 'parenthesized_expression' && cur.namedChildCount === 1) cur = cur.namedChild(0)!;
  return cur;
}

function constValue(n: Node): Val | 'unknown' {
  const e = stripParens(n);
  const t = e.text;
  if (e.type === 'number_literal') return /^0+[uUlL]*$|^0x0+$/i.test(t) ? 'Z' : 'NZ';
  if (e.type === 'true') return 'NZ';
  if (e.type === 'false' || e.type === 'null' || t === 'NULL') return 'Z';
  if (e.type === 'unary_expression' && e.child(0)?.type === '-') {
    const a = e.childForFieldName('argument');
    if (a && (a.type === 'number_literal' || /^E[A-Z0-9]+$/.test(a.text))) return 'NEG';
  }
  if (e.type === 'call_expression' && e.childForFieldName('function')?.text === 'ERR_PTR') return 'NZ';
  return 'unknown';
}

function collectEffects(n: Node, out: Effect[], used: boolean): void {
  switch (n.type) {
    case 'compound_statement': // statement expressions: conservative, not looked into
    case 'sizeof_expression':
    case 'string_literal':
    case 'comment':
      return;
    case 'parenthesized_expression':
      for (const c of n.namedChildren) if (c) collectEffects(c, out, used);
      return;
    case 'call_expression': {
      const fn = n.childForFieldName('function');
      const argl = n.childForFieldName('arguments');
      const args = argl ? argl.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment') : [];
      if (fn && fn.type !== 'identifier') collectEffects(fn, out, true);
      for (const a of args) collectEffects(a, out, true);
      if (fn && fn.type === 'identifier') out.push({ t: 'call', name: fn.text, node: n, args, assignTo: null, valueUsed: used });
      return;
    }
    case 'assignment_expression': {
      const l = n.childForFieldName('left');
      const r = n.childForFieldName('right');
      const op = n.childForFieldName('operator')?.text ?? '=';
      if (r) collectEffects(r, out, true);
      if (l && l.type !== 'identifier') collectEffects(l, out, true);
      if (l && l.type === 'field_expression') out.push({ t: 'assign', name: l.text.replace(/\s+/g, '').replace(/->/g, '.'), value: 'unknown' });
      if (l && l.type === 'identifier') {
        const last = out[out.length - 1];
        const rr = r ? stripParens(r) : null;
        if (op === '=' && rr && rr.type === 'call_expression' && last && last.t === 'call' && last.node.id === rr.id) {
          last.assignTo = l.text;
          last.valueUsed = false;
          out.push({ t: 'assign', name: l.text, value: 'call' });
        } else out.push({ t: 'assign', name: l.text, value: op === '=' && r ? constValue(r) : 'unknown' });
      }
      return;
    }
    case 'update_expression': {
      const a = n.childForFieldName('argument');
      if (a && a.type === 'identifier') out.push({ t: 'assign', name: a.text, value: 'unknown' });
      else if (a) collectEffects(a, out, true);
      return;
    }
    case 'init_declarator': {
      const d = n.childForFieldName('declarator');
      const v = n.childForFieldName('value');
      if (v) collectEffects(v, out, true);
      const name = d ? declName(d) : null;
      if (name) {
        const last = out[out.length - 1];
        const vv = v ? stripParens(v) : null;
        if (vv && vv.type === 'call_expression' && last && last.t === 'call' && last.node.id === vv.id) {
          last.assignTo = name;
          last.valueUsed = false;
          out.push({ t: 'assign', name, value: 'call' });
        } else out.push({ t: 'assign', name, value: v ? constValue(v) : 'unknown' });
      }
      return;
    }
    case 'declaration': {
      for (const c of n.namedChildren) {
        if (!c) continue;
        if (c.type === 'init_declarator') collectEffects(c, out, false);
        else if (c.type === 'identifier' || c.type.endsWith('declarator')) {
          const name = declName(c);
          if (name) out.push({ t: 'assign', name, value: 'unknown' });
        }
      }
      return;
    }
    case 'expression_statement':
    case 'return_statement':
      for (const c of n.namedChildren) if (c) collectEffects(c, out, n.type === 'return_statement');
      return;
    default:
      for (const c of n.namedChildren) if (c) collectEffects(c, out, true);
  }
}

function declName(d: Node): string | null {
  let cur: Node | null = d;
  for (let i = 0; cur && i < 8; i++) {
    if (cur.type === 'identifier') return cur.text;
    cur = cur.childForFieldName('declarator');
  }
  return null;
}

/* ------------------------------------------------------------ function ctx */

interface FnCtx {
  name: string;
  idx: CatalogIndex;
  text: string;
  starts: number[];
  file: string;
  params: string[];
  types: Map<string, string>;
  aliases: Map<string, string>;
  locals: Set<string>;
  /** Locals the function never gives a value itself (no initialiser, never assigned, never `&`-taken): iterator cursors. */
  macroOnly: Set<string>;
  tracked: Set<string>;
  summaries: ReadonlyMap<string, FunctionSummary>;
  knowledge: ReadonlyMap<string, FunctionSummary> | undefined;
  events: Map<string, LockEvent>;
  maySleep: { reason: string; dropsLock: boolean } | null;
  effects: Map<number, Effect[]>;
  relevant: Map<number, Effect[]>;
  atoms: Map<number, Atom>;
  atomTexts: Map<number, { where: { line: number; column: number }; short: string; loc: Loc }>;
  returns: Map<number, { loc: Loc; cls: ExitRecord['retClass']; ident: string | null; konst: ExitRecord['retConst'] }>;
  fieldKinds: ReadonlyMap<string, LockKind>;
  /** Parameters passed by value (flags, bools): paths chosen by them are caller-dependent. */
  scalarParams: Set<string>;
  /** When collecting unresolved callees: names called in atomic context / with a lock held or released. */
  atomicCalls: Set<string> | null;
  heldCalls: Set<string> | null;
  /** Lock-order pairs by `from>to` (null: not recorded). */
  order: Map<string, LockOrderRecord> | null;
  /** Classes this function acquires itself (for FunctionSummary.takes). */
  takes: Map<string, LockTake>;
  /**
   * Callees with lock takes, by name: true while every visit of a call to it came
   * after the function released a lock its caller holds (the callee's takes are
   * then no order against the caller's locks: jffs2_find_nextblock() drops
   * erase_completion_lock around jffs2_erase_pending_blocks()).
   */
  callsAfterRelease: Map<string, boolean>;
}

function locOf(ctx: FnCtx, start: number, end: number): Loc {
  const a = posOf(ctx.starts, start);
  const b = posOf(ctx.starts, end);
  return { line: a.line, column: a.column, offset: start, endLine: b.line, endColumn: b.column, endOffset: end };
}

function nodeLoc(ctx: FnCtx, n: Node): Loc {
  return locOf(ctx, n.startIndex, n.endIndex);
}

function orig(ctx: FnCtx, n: Node): string {
  return ctx.text.slice(n.startIndex, n.endIndex);
}

function structTypeOf(typeNode: Node | null): string | null {
  if (!typeNode) return null;
  if (typeNode.type === 'struct_specifier' || typeNode.type === 'union_specifier') return typeNode.childForFieldName('name')?.text ?? null;
  if (typeNode.type === 'type_identifier') return typeNode.text;
  return null;
}

function prepass(fn: Node, ctx: FnCtx): void {
  const decl = fn.childForFieldName('declarator');
  const fdecl = decl ? findFunctionDeclarator(decl) : null;
  const plist = fdecl?.childForFieldName('parameters');
  if (plist) {
    for (const p of plist.namedChildren) {
      if (!p || p.type !== 'parameter_declaration') continue;
      const d = p.childForFieldName('declarator');
      const name = d ? declName(d) : null;
      ctx.params.push(name ?? '');
      if (name && d && d.type === 'identifier') ctx.scalarParams.add(name);
      const t = structTypeOf(p.childForFieldName('type'));
      if (name && t) ctx.types.set(name, t);
    }
  }
  const body = fn.childForFieldName('body');
  if (!body) return;
  const assigned = new Map<string, number>();
  for (const a of body.descendantsOfType('assignment_expression')) {
    const l = a?.childForFieldName('left');
    if (l && l.type === 'identifier') assigned.set(l.text, (assigned.get(l.text) ?? 0) + 1);
  }
  const updated = new Set<string>();
  for (const u of body.descendantsOfType('update_expression')) {
    const a = u?.childForFieldName('argument');
    if (a && a.type === 'identifier') updated.add(a.text);
  }
  const bodyText = body.text;
  for (const d of body.descendantsOfType('declaration')) {
    if (!d) continue;
    const t = structTypeOf(d.childForFieldName('type'));
    for (const c of d.namedChildren) {
      if (!c) continue;
      const inner = c.type === 'init_declarator' ? c.childForFieldName('declarator') : c;
      const name = inner ? declName(inner) : null;
      if (!name) continue;
      ctx.locals.add(name);
      if (t) ctx.types.set(name, t);
      if (c.type !== 'init_declarator' && !assigned.has(name) && !updated.has(name) && !new RegExp(`&\\s*${name}\\b(?!\\s*(?:->|\\.|\\[))`).test(bodyText)) ctx.macroOnly.add(name);
      if (c.type === 'init_declarator' && !assigned.has(name)) {
        const v = c.childForFieldName('value');
        const vs = v ? stripParens(v) : null;
        if (vs && (vs.type === 'pointer_expression' || vs.type === 'field_expression') && /->|\./.test(vs.text)) {
          ctx.aliases.set(name, lockKey(orig(ctx, vs)));
        }
      }
    }
  }
}

function findFunctionDeclarator(d: Node): Node | null {
  let cur: Node | null = d;
  for (let i = 0; cur && i < 8; i++) {
    if (cur.type === 'function_declarator') return cur;
    cur = cur.childForFieldName('declarator');
  }
  return null;
}

/* --------------------------------------------------------------- lock refs */

function refFromText(ctx: FnCtx, text: string, kind: LockKind | 'unknown', mode?: 'read' | 'write'): { key: string; cls: string; text: string; kind: LockKind | 'unknown'; mode?: 'read' | 'write' } {
  let key = lockKey(text);
  const root = keyRoot(key);
  if (root && ctx.aliases.has(root) && !key.slice(key.indexOf(root) + root.length).startsWith('(')) key = rerootKey(key, ctx.aliases.get(root)!);
  return { key, cls: lockClass(key, ctx.types), text: text.trim(), kind, ...(mode ? { mode } : {}) };
}

type LockRefT = ReturnType<typeof refFromText>;

function memoOf(ctx: FnCtx, e: CallEffect): NonNullable<CallEffect['memo']> {
  if (!e.memo) {
    const op = ctx.idx.lockOps.get(e.name);
    let ref: LockRefT | null | undefined;
    if (op) {
      const arg = op.lockArg >= 0 ? e.args[op.lockArg] : undefined;
      ref = op.lockArg >= 0 ? (arg ? refFromText(ctx, orig(ctx, arg), op.kind, op.mode) : null)
        : op.global ? refFromText(ctx, op.global, op.kind, op.mode) : noIdentityRef(op.kind);
    }
    e.memo = { loc: nodeLoc(ctx, e.node), sleep: sleepReason(ctx, e), ref };
  }
  return e.memo;
}

/** Kind of a lock from the declared type of its field in this file (`spinlock_t sl;`), else unknown. */
function kindOfField(ctx: FnCtx, text: string): LockKind | 'unknown' {
  return ctx.fieldKinds.get(keyField(lockKey(text))) ?? 'unknown';
}

const FIELD_KIND_RE = /\b(raw_spinlock_t|spinlock_t|rwlock_t|seqlock_t|local_lock_t|struct\s+mutex|struct\s+rw_semaphore)\s+(\w+)\s*[;,[]/g;

/** Lock-typed fields and globals declared in a file, by name (names declared with two kinds are dropped). */
export function lockFieldKinds(text: string): Map<string, LockKind> {
  const out = new Map<string, LockKind>();
  const bad = new Set<string>();
  for (const m of text.matchAll(FIELD_KIND_RE)) {
    const t = m[1]!.replace(/\s+/g, ' ');
    const kind: LockKind = t.includes('spinlock') ? 'spinlock' : t === 'rwlock_t' ? 'rwlock' : t === 'seqlock_t' ? 'seqlock' : t === 'local_lock_t' ? 'local_lock' : t === 'struct mutex' ? 'mutex' : 'rwsem';
    const name = m[2]!;
    if (out.has(name) && out.get(name) !== kind) bad.add(name);
    out.set(name, kind);
  }
  for (const b of bad) out.delete(b);
  return out;
}

function noIdentityRef(kind: LockKind): { key: string; cls: string; text: string; kind: LockKind } {
  return { key: `<${kind}>`, cls: `<${kind}>`, text: kind === 'rcu' ? 'rcu_read_lock' : kind === 'irq' ? 'interrupts disabled' : kind === 'bh' ? 'bottom halves disabled' : 'preemption disabled', kind };
}

/** Translate a summary's param-relative key to a key at the call site. */
function effectKey(ctx: FnCtx, lock: string, args: Node[]): string | null {
  const conv = CONVERTED_PARAM.exec(lock);
  if (conv) {
    // `EXT4_I($0).i_data_sem`: the caller's argument through the same converter
    const a = args[Number(conv[3])];
    const base = a ? lockKey(orig(ctx, a)) : '';
    return /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$/.test(base) && base !== 'NULL' ? `${conv[1]}${conv[2]}(${base})${conv[4]}` : null;
  }
  const m = /^(\*?)\$(\d+)(.*)$/.exec(lock);
  if (!m) return lock;
  const a = args[Number(m[2])];
  if (!a) return null;
  const base = lockKey(orig(ctx, a));
  if (!/^\*?[A-Za-z_]/.test(base) || base === 'NULL') return null;
  if (m[1]) return m[3] ? null : `*${base}`;
  return base + m[3]!;
}

/* ------------------------------------------------------------ state utils */

/** Lock-relevant part of a state: states that agree on it are merged (value facts intersected). */
function lockPart(s: State): string {
  if (s.lp !== undefined) return s.lp;
  s.lp = computeLockPart(s);
  return s.lp;
}

function computeLockPart(s: State): string {
  let k = s.imprecise ? 'I|' : '|';
  if (s.imprecise) {
    for (const h of s.held) if (!h.uncertain) k += `${h.key},`;
    return k;
  }
  for (const h of s.held) k += `${h.key}${h.uncertain ? '?' : ''}${h.fromCaller ? '^' : ''},`;
  k += '|';
  k += s.released.join(',') + '|' + s.failed.join(',') + '|' + s.callerReleased.join(',') + '|';
  for (const [n, f] of s.facts) if ('p' in f) k += `${n}~${f.p.held.key},`;
  k += `|${s.retClass}@${s.ret ? s.ret.offset : -1}`;
  return k;
}

/** Intersection of value facts; null when `b` adds nothing new to `a` (a's facts all hold in b). */
function mergeFacts(a: Map<string, Fact>, b: Map<string, Fact>): Map<string, Fact> | null {
  let changed = false;
  const out = new Map<string, Fact>();
  for (const [n, f] of a) {
    if ('p' in f) {
      out.set(n, f);
      continue;
    }
    const g = b.get(n);
    const joined = g && 'v' in g ? OF_SIGNS[SIGNS[g.v] | SIGNS[f.v]] : null; // (NEG joined with NZ is NZ; Z with POS, NONNEG)
    if (joined === f.v) out.set(n, f);
    else if (joined) {
      out.set(n, { v: joined });
      changed = true;
    } else changed = true;
  }
  return changed ? out : null;
}

function clone(s: State): State {
  return {
    held: s.held.slice(),
    released: s.released.slice(),
    failed: s.failed.slice(),
    callerReleased: s.callerReleased.slice(),
    facts: new Map(s.facts),
    trace: s.trace.slice(),
    ret: s.ret,
    retClass: s.retClass,
    ...(s.retConst ? { retConst: s.retConst } : {}),
    ...(s.retIdent ? { retIdent: s.retIdent } : {}),
    imprecise: s.imprecise,
  };
}

function addSorted(list: string[], v: string): string[] {
  if (list.includes(v)) return list;
  return [...list, v].sort();
}

function pushTrace(ctx: FnCtx, s: State, line: number, column: number, message: string): void {
  s.trace.push({ file: ctx.file, line, column, message });
  if (s.trace.length > MAX_TRACE) {
    const i = s.trace.findIndex((t) => !t.message.includes(' acquired'));
    s.trace.splice(i >= 0 ? i : 0, 1);
  }
}

function emit(ctx: FnCtx, s: State, rule: LockRule, at: Loc, message: string, key: string, final: string): void {
  if (s.imprecise) return;
  const id = `${rule}:${at.offset}:${key}`;
  if (ctx.events.has(id)) return;
  const trace = [...s.trace, { file: ctx.file, line: at.line, column: at.column, message: final }];
  ctx.events.set(id, { rule, at, message, lockKey: key, trace });
}

const NESTABLE: ReadonlySet<string> = new Set(['rcu', 'srcu', 'preempt', 'irq', 'bh', 'unknown', 'semaphore']);

function describe(h: { kind: string; text: string }): string {
  if (h.kind === 'rcu' || h.kind === 'irq' || h.kind === 'bh' || h.kind === 'preempt') return h.text;
  return `${h.kind === 'unknown' ? 'lock' : h.kind} '${h.text}'`;
}

const ORDER_KINDS: ReadonlySet<string> = new Set([...CHECKED_KINDS, 'semaphore', 'unknown']);
const MAX_TAKES = 24;

/**
 * Lock class for lock ordering: `struct T.field` through a typed parameter or
 * local, a global's name (`dev_list_lock`, `drm_global.lock`), with a `/nested`
 * subclass for `*_nested`/`*_nest_lock` acquires (lockdep subclasses: intended
 * nesting). Null for a lock known only by an expression (an untyped or bare
 * local/parameter, a call, a dereference).
 */
function orderClass(ctx: FnCtx, key0: string, text: string, kind: string, via: string | undefined): string | null {
  // the expression as written names the class best when its root is typed (`dev->lock` with `dev = q->dev`
  // aliased to `q.dev.lock` is `struct fake_dev.lock`)
  const written = lockKey(text);
  const wr = keyRoot(written);
  const key = wr && ctx.types.has(wr) && written.startsWith(wr) && written.slice(wr.length).startsWith('.') ? written : key0;
  if (!ORDER_KINDS.has(kind) || key.startsWith('<') || key.startsWith('*') || key.includes('(') || key.includes('#')) return null;
  const root = keyRoot(key);
  if (!root) return null;
  let cls: string;
  if (ctx.params.includes(root) || ctx.locals.has(root)) {
    const t = ctx.types.get(root);
    const rest = key.slice(key.indexOf(root) + root.length);
    if (!t || !rest.startsWith('.')) return null;
    cls = `struct ${t}${rest.replace(/\[[^\]]*\]/g, '[]')}`;
  } else cls = key.replace(/\[[^\]]*\]/g, '[]');
  return via && /_nest(ed|_lock)$/.test(via) ? `${cls}/nested` : cls;
}

function isTrylock(via: string): boolean {
  return /trylock/.test(via);
}

/** Record `held -> acquired` lock-order pairs and the function's own takes (for summaries). */
function noteOrder(ctx: FnCtx, s: State, ref: ReturnType<typeof refFromText>, at: Loc, via: string, callee?: LockTake): void {
  if (s.imprecise || (!callee && isTrylock(via))) return;
  const to = callee ? callee.cls : orderClass(ctx, ref.key, ref.text, ref.kind, via);
  if (!to) return;
  const toShared = callee ? callee.shared === true : ref.kind === 'rwlock' && ref.mode === 'read';
  if (!callee) {
    // Taken after dropping a lock the caller holds (`unlock(caller's); wait; lock(x); lock(caller's)`), or on a
    // path a by-value parameter chose (`if (lock) filemap_invalidate_lock(...)`: callers holding it pass false):
    // no order against the caller's locks. Only when every acquire of the class here is so.
    const afterRelease = s.callerReleased.length > 0 || chosenByFlagParam(ctx, s);
    const prev = ctx.takes.get(to);
    if (prev) {
      if (prev.afterRelease && !afterRelease) delete prev.afterRelease;
    } else if (ctx.takes.size < MAX_TAKES) {
      ctx.takes.set(to, { cls: to, kind: ref.kind, ...(toShared ? { shared: true } : {}), ...(afterRelease ? { afterRelease } : {}), file: ctx.file, line: at.line, via });
    }
  }
  if (!ctx.order) return;
  for (const h of s.held) {
    if (h.uncertain) continue;
    const from = orderClass(ctx, h.key, h.text, h.kind, h.via);
    if (!from || from === to) continue;
    const k = `${from}>${to}`;
    const prev = ctx.order.get(k);
    if (prev && prev.at.offset <= at.offset) continue;
    const fromShared = h.kind === 'rwlock' && h.mode === 'read';
    ctx.order.set(k, {
      from, to, fromLine: h.line, fromText: h.text, fromVia: h.fromCaller ? 'held on entry' : h.via ?? 'lock', at, toText: ref.text, via,
      ...(fromShared ? { fromShared } : {}), ...(toShared ? { toShared } : {}), ...(callee ? { callee } : {}),
    });
  }
}

function acquire(ctx: FnCtx, s: State, ref: ReturnType<typeof refFromText>, at: Loc, uncertain: boolean, via: string): void {
  const checked = (CHECKED_KINDS as readonly string[]).includes(ref.kind);
  if (checked && !uncertain) {
    const prev = s.held.find((h) => h.key === ref.key && !h.uncertain);
    // A trylock never waits: on a held lock it fails at run time, no self-deadlock. It is tracked as
    // a second hold so the unlocks of both branches balance.
    if (prev && !isTrylock(via) && !(ref.kind === 'rwlock' && ref.mode === 'read' && prev.mode === 'read')) {
      emit(ctx, s, 'double-lock', at, `${describe(ref)} is acquired by ${via}() while already held (${prev.fromCaller ? 'held on entry' : `acquired at line ${prev.line}`})`,
        ref.key, `${via}() acquires ${ref.text} again: self-deadlock`);
      return;
    }
  }
  if (s.held.filter((h) => h.key === ref.key).length >= 3) return;
  if (uncertain) return addUncertain(s, { ...ref, line: at.line, uncertain, fromCaller: false, via });
  s.failed = s.failed.filter((k) => k !== ref.key);
  noteOrder(ctx, s, ref, at, via);
  s.held = [...s.held, { ...ref, line: at.line, uncertain, fromCaller: false, via }];
  if (!uncertain && (checked || (ATOMIC_KINDS as readonly string[]).includes(ref.kind))) pushTrace(ctx, s, at.line, at.column, `${describe(ref)} acquired by ${via}()`);
}

function release(ctx: FnCtx, s: State, ref: ReturnType<typeof refFromText>, at: Loc, via: string, report: boolean, fuzzy = false): void {
  let i = -1;
  for (let j = s.held.length - 1; j >= 0; j--) if (s.held[j]!.key === ref.key) { i = j; break; }
  if (i < 0 && ref.cls !== ref.key) {
    for (let j = s.held.length - 1; j >= 0; j--) if (s.held[j]!.cls === ref.cls) { i = j; break; }
  }
  if (i < 0 && fuzzy) {
    // a callee's summary names the lock through its own parameters (`obj->dev->lock` for our `dev->lock`):
    // accept the only held lock with the same field name
    const f = keyField(ref.key);
    const same = s.held.map((h, j) => [h, j] as const).filter(([h]) => !h.fromCaller && keyField(h.key) === f);
    if (same.length === 1) i = same[0]![1];
  }
  if (i < 0 && report) {
    // a lock taken through a callee's summary (`base = lock_timer_base(timer)`: `timer->base->lock`) released
    // through the returned pointer (`&base->lock`): accept the only such held lock with the same field name
    const f = keyField(ref.key);
    const same = s.held.map((h, j) => [h, j] as const)
      .filter(([h]) => !h.fromCaller && h.via !== undefined && !h.via.includes('(') && !ctx.idx.lockOps.has(h.via) && keyField(h.key) === f && (h.kind === ref.kind || h.kind === 'unknown' || ref.kind === 'unknown'));
    if (same.length === 1) i = same[0]![1];
  }
  if (i < 0 && NESTABLE.has(ref.kind)) {
    for (let j = s.held.length - 1; j >= 0; j--) if (s.held[j]!.kind === ref.kind && ref.kind !== 'unknown' && ref.kind !== 'semaphore') { i = j; break; }
  }
  if (i >= 0) {
    const h = s.held[i]!;
    s.held = s.held.filter((_, j) => j !== i);
    if (!h.fromCaller && !h.uncertain && !NESTABLE.has(h.kind)) {
      s.released = addSorted(s.released, h.key);
      pushTrace(ctx, s, at.line, at.column, `${describe(h)} released by ${via}()`);
    }
    if (h.fromCaller) s.callerReleased = addSorted(s.callerReleased, h.key);
    return;
  }
  // pending conditional acquire of the same lock: the code knows better than we do
  for (const [n, f] of s.facts) {
    if ('p' in f && f.p.held.key === ref.key) {
      s.facts.delete(n);
      return;
    }
  }
  if ((s.released.includes(ref.key) || s.failed.includes(ref.key)) && report && (CHECKED_KINDS as readonly string[]).includes(ref.kind)) {
    emit(ctx, s, 'unlock-unheld', at, `${describe(ref)} is released by ${via}() but is not held on this path (already released, or its acquisition failed)`,
      ref.key, `${via}() releases ${ref.text}, which is not held here`);
    return;
  }
  if (!s.released.includes(ref.key) && !s.failed.includes(ref.key)) s.callerReleased = addSorted(s.callerReleased, ref.key);
}

/** Add a maybe-held lock (deduplicated: one maybe-entry per key is enough to suppress findings). */
function addUncertain(s: State, h: HeldLock): void {
  if (s.held.some((x) => x.key === h.key)) return;
  s.held = [...s.held, { ...h, uncertain: true }];
}

function atomicHeld(s: State): HeldLock | undefined {
  for (let j = s.held.length - 1; j >= 0; j--) {
    const h = s.held[j]!;
    if (!h.uncertain && (ATOMIC_KINDS as readonly string[]).includes(h.kind)) return h;
  }
  return undefined;
}

/** Why a call may sleep, or null. */
function sleepReason(ctx: FnCtx, e: CallEffect): string | null {
  const idx = ctx.idx;
  if (isSleepingName(idx, e.name)) return `${e.name}()`;
  const g = idx.gfpCalls.get(e.name);
  if (g !== undefined) {
    const a = e.args[g];
    if (a && gfpMaySleep(idx, a.text) === true) return `${e.name}(${a.text.replace(/\s+/g, ' ')})`;
    return null;
  }
  if (idx.lockOps.has(e.name)) return null;
  const fg = idx.flagGated.get(e.name);
  if (fg) return flagGatedSleep(ctx, e, fg);
  const sum = ctx.summaries.get(e.name) ?? ctx.knowledge?.get(e.name);
  if (sum && sum.maySleep) return `${e.name}() (may sleep: ${sum.sleepReason ?? 'summary'})`;
  return null;
}

/**
 * A flag-gated sleeper sleeps when this function started its object without the
 * atomic flag; started with it, or started elsewhere (the object came from the
 * caller), it is not known to sleep here.
 */
function flagGatedSleep(ctx: FnCtx, e: CallEffect, fg: FlagGatedSleeper): string | null {
  const obj = e.args[fg.objectArg];
  let fn: Node | null = e.node;
  while (fn && fn.type !== 'function_definition') fn = fn.parent;
  if (!obj || !fn) return null;
  const want = lockKey(orig(ctx, obj));
  const text = ctx.text;
  const re = new RegExp(`\\b${fg.start}\\s*\\(`, 'g');
  re.lastIndex = fn.startIndex;
  for (let m = re.exec(text); m && m.index < fn.endIndex; m = re.exec(text)) {
    const split = splitArgs(text, m.index + m[0].length - 1);
    const o = split?.args[fg.startObjectArg];
    const flags = split?.args[fg.startFlagsArg];
    if (!o || flags === undefined || lockKey(o) !== want) continue;
    return new RegExp(`\\b${fg.atomicFlag}\\b`).test(flags) ? null : `${e.name}() (${orig(ctx, obj).trim()} started without ${fg.atomicFlag})`;
  }
  return null;
}

const atomIdsCache = new Map<string, string[]>();
const SIZE_OF = /\b(?:sizeof|__alignof__|__alignof|_Alignof|alignof|typeof|__typeof__)\(/g;

/** The key without its `sizeof(...)`-like operands: their value does not depend on what the names hold. */
function withoutSizeofs(key: string): string {
  if (!key.includes('sizeof') && !key.includes('align') && !key.includes('typeof')) return key;
  let out = '';
  let at = 0;
  SIZE_OF.lastIndex = 0;
  for (let m = SIZE_OF.exec(key); m; m = SIZE_OF.exec(key)) {
    let depth = 1;
    let i = SIZE_OF.lastIndex;
    for (; i < key.length && depth > 0; i++) depth += key[i] === '(' ? 1 : key[i] === ')' ? -1 : 0;
    out += key.slice(at, m.index) + '0';
    at = i;
    SIZE_OF.lastIndex = i;
  }
  return out + key.slice(at);
}

/** Identifiers an atom fact depends on (`sizeof(x)` depends on none: assigning x keeps the fact). */
function atomIds(key: string): string[] {
  let v = atomIdsCache.get(key);
  if (!v) {
    v = withoutSizeofs(key).match(/[A-Za-z_]\w*/g) ?? [];
    if (atomIdsCache.size > 5000) atomIdsCache.clear();
    atomIdsCache.set(key, v);
  }
  return v;
}

/** Text key of a side-effect-free condition (`#p.queue_type==X`), or null. */
function atomKey(text: string): string | null {
  const t = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\s+/g, '').replace(/->/g, '.');
  if (/\+\+|--|(^|[^=!<>])=(?!=)/.test(t) || t.length > 200) return null;
  return `#${t}`;
}

const idsCache = new Map<string, string[]>();
function idsOf(key: string): string[] {
  let v = idsCache.get(key);
  if (!v) {
    v = key.endsWith('#') ? [] : keyIdentifiers(key);
    if (idsCache.size > 5000) idsCache.clear();
    idsCache.set(key, v);
  }
  return v;
}

/**
 * Is this path selected by a by-value parameter tested as a flag, on its own
 * (`if (lock)`, `if (!route_frame)`)? Narrower than dependsOnScalarParam: a
 * comparison that involves one (`if (ins_len > 0)`) does not count.
 */
function chosenByFlagParam(ctx: FnCtx, s: State): boolean {
  if (!ctx.scalarParams.size) return false;
  for (const [k, f] of s.facts) if (selects(f) && ctx.scalarParams.has(k.startsWith('#') ? k.slice(1) : k)) return true;
  return false;
}

/**
 * Does a fact say which way a test went, as a flag's value does? A sign range
 * known after a bounds check (`if (irq < 0) return -ENOSPC;` leaves irq >= 0)
 * selects no path of the caller's choosing: the sleep after it is the function's.
 */
function selects(f: Fact): boolean {
  return 'p' in f || (f.v !== 'NONNEG' && f.v !== 'NONPOS');
}

/** Is this path selected by a test of a scalar parameter (`if (atomic) udelay(); else usleep_range();`)? */
function dependsOnScalarParam(ctx: FnCtx, s: State): boolean {
  if (!ctx.scalarParams.size) return false;
  for (const [k, f] of s.facts) {
    if (selects(f) && (k.startsWith('#') ? atomIds(k).some((i) => ctx.scalarParams.has(i)) : ctx.scalarParams.has(k))) return true;
  }
  return false;
}

function killVar(ctx: FnCtx, s: State, name: string, value: AssignEffect['value']): void {
  if (!s.held.length && !s.released.length && !s.failed.length && !s.facts.size && !ctx.tracked.has(name)) return;
  if (s.facts.size) {
    for (const k of [...s.facts.keys()]) {
      if (k.startsWith('#') && (name.includes('.') ? k.includes(name) : atomIds(k).includes(name))) s.facts.delete(k);
    }
  }
  if (name.includes('.')) return;
  // locks whose identity depends on the variable are no longer the same object
  if (s.held.some((h) => !h.fromCaller && !h.key.endsWith('#') && idsOf(h.key).includes(name))) {
    // the variable now names another object: forget locks reached through it (no findings about them)
    s.held = s.held.filter((h) => h.fromCaller || !idsOf(h.key).includes(name));
  }
  if (s.released.some((k) => idsOf(k).includes(name))) s.released = s.released.filter((k) => !idsOf(k).includes(name));
  if (s.failed.some((k) => idsOf(k).includes(name))) s.failed = s.failed.filter((k) => !idsOf(k).includes(name));
  const f = s.facts.get(name);
  if (f && 'p' in f && value !== 'call') {
    // the result of a conditional acquire was overwritten before being tested
    addUncertain(s, f.p.held);
  }
  if (!ctx.tracked.has(name)) {
    if (f) s.facts.delete(name);
    return;
  }
  if (value === 'Z' || value === 'NZ' || value === 'NEG') s.facts.set(name, { v: value });
  else if (value !== 'call') s.facts.delete(name);
}

const WARN_COND = /^\(\s*(?:unlikely\s*\(\s*)?!?\s*WARN(?:_ON)?(?:_ONCE)?\s*\(/;

/**
 * The call sits in the body of `if (WARN_ON(...))` (a "cannot happen" branch):
 * it does not make the function's summary "may sleep" (btrfs_put_block_group()
 * cancels work only when a block group is found still queued, after a warning).
 */
function inWarnBranch(n: Node): boolean {
  for (let c: Node | null = n, p = n.parent; p; c = p, p = p.parent) {
    if (p.type === 'function_definition') return false;
    if (p.type === 'if_statement' && c && p.childForFieldName('consequence')?.id === c.id) {
      const cond = p.childForFieldName('condition');
      if (cond && WARN_COND.test(cond.text)) return true;
    }
  }
  return false;
}

/** The call sleeps only through a callee that first releases its caller's lock (see FunctionSummary.sleepDropsLock). */
function calleeDropsLock(ctx: FnCtx, name: string): boolean {
  if (isSleepingName(ctx.idx, name) || ctx.idx.gfpCalls.has(name) || ctx.idx.lockOps.has(name)) return false;
  return (ctx.summaries.get(name) ?? ctx.knowledge?.get(name))?.sleepDropsLock === true;
}

function applyCall(ctx: FnCtx, s: State, e: CallEffect, condInBranch: boolean): void {
  const idx = ctx.idx;
  const memo = memoOf(ctx, e);
  const at = memo.loc;
  const sr = memo.sleep;
  if (sr) {
    const a = atomicHeld(s);
    const drops = calleeDropsLock(ctx, e.name);
    if (a && drops) {
      // the callee releases the caller's lock before it sleeps (its contract): no finding here
    } else if (a) {
      emit(ctx, s, 'sleep-in-atomic', at, `${sr} may sleep but is called while ${a.kind === 'spinlock' || a.kind === 'rwlock' || a.kind === 'seqlock' || a.kind === 'local_lock' ? `${describe(a)} is held (acquired at line ${a.line})` : `${describe(a)} (since line ${a.line})`}`,
        a.key, `${sr} may sleep in atomic context`);
    } else if (!s.imprecise && !s.held.some((h) => h.uncertain && (ATOMIC_KINDS as readonly string[]).includes(h.kind))) {
      const d = drops || s.callerReleased.length > 0;
      if (!(memo.warn ??= inWarnBranch(e.node)) && (!ctx.maySleep || (ctx.maySleep.dropsLock && !d)) && !dependsOnScalarParam(ctx, s)) ctx.maySleep = { reason: sr, dropsLock: d };
    }
  }
  const op = idx.lockOps.get(e.name);
  if (op) {
    const ref = memo.ref;
    if (!ref) return;
    if (op.op === 'release') return release(ctx, s, ref, at, e.name, true);
    if (op.cond) {
      if (condInBranch) return; // resolved by the branch
      if (e.assignTo && !e.valueUsed) {
        const prev = s.facts.get(e.assignTo);
        if (prev && 'p' in prev) addUncertain(s, prev.p.held);
        s.facts.set(e.assignTo, { p: { held: { ...ref, line: at.line, uncertain: false, fromCaller: false, via: e.name }, success: op.cond } });
        return;
      }
      return acquire(ctx, s, ref, at, true, e.name);
    }
    return acquire(ctx, s, ref, at, false, e.name);
  }
  if (idx.assertHeld.has(e.name)) {
    const arg = e.args[0];
    if (!arg || e.name === 'lockdep_assert') return;
    const ref = refFromText(ctx, orig(ctx, arg), kindOfField(ctx, orig(ctx, arg)));
    if (!s.held.some((h) => h.key === ref.key)) s.held = [...s.held, { ...ref, line: at.line, uncertain: false, fromCaller: true }];
    return;
  }
  const sum = ctx.summaries.get(e.name) ?? ctx.knowledge?.get(e.name);
  if (sum?.takes && sum.name !== ctx.name) {
    const after = s.callerReleased.length > 0;
    ctx.callsAfterRelease.set(e.name, (ctx.callsAfterRelease.get(e.name) ?? true) && after);
  }
  if (ctx.order && sum?.takes && sum.name !== ctx.name) {
    // what the callee takes, against the locks held at the call (those it releases first excepted)
    const dropped = sum.releases.map((r) => effectKey(ctx, r.lock, e.args));
    const before = dropped.length ? { ...s, held: s.held.filter((h) => !dropped.includes(h.key)) } : s;
    for (const t of sum.takes) if (!t.afterRelease) noteOrder(ctx, before, { key: t.cls, cls: t.cls, text: t.cls, kind: t.kind }, at, e.name, t);
  }
  if (sum && sum.name !== ctx.name) {
    // released and taken again inside the callee (`__releases(l) __acquires(l)`, kernfs_drain, ptrace_stop): net zero here
    const retaken = sum.releases.length && sum.acquires.length ? new Set(sum.releases.filter((r) => sum.acquires.some((a) => a.lock === r.lock)).map((r) => r.lock)) : null;
    for (const eff of sum.releases) {
      if (retaken?.has(eff.lock)) continue;
      const k = effectKey(ctx, eff.lock, e.args);
      if (k === null) continue;
      const ref = { key: k, cls: eff.cls, text: k, kind: eff.kind === 'unknown' ? kindOfField(ctx, k) : eff.kind, ...(eff.mode ? { mode: eff.mode } : {}) };
      release(ctx, s, ref, at, e.name, sum.definition, true);
    }
    for (const eff of sum.acquires) {
      if (retaken?.has(eff.lock)) continue;
      const k = effectKey(ctx, eff.lock, e.args);
      if (k === null) continue;
      acquire(ctx, s, { key: k, cls: eff.cls, text: k, kind: eff.kind === 'unknown' ? kindOfField(ctx, k) : eff.kind, ...(eff.mode ? { mode: eff.mode } : {}) }, at, false, e.name);
    }
    for (const eff of sum.condAcquires) {
      const k = effectKey(ctx, eff.lock, e.args);
      if (k === null) continue;
      addUncertain(s, { key: k, cls: eff.cls, text: k, kind: eff.kind, line: at.line, uncertain: true, fromCaller: false, via: e.name });
    }
  }
}

function applyEffects(ctx: FnCtx, s: State, effects: Effect[], skipCall: Node | null): void {
  for (const e of effects) {
    if (e.t === 'assign') killVar(ctx, s, e.name, e.value);
    else applyCall(ctx, s, e, skipCall !== null && e.node.id === skipCall.id);
  }
}

function effectsOf(ctx: FnCtx, n: Node): Effect[] {
  let eff = ctx.effects.get(n.id);
  if (!eff) {
    eff = [];
    collectEffects(n, eff, false);
    ctx.effects.set(n.id, eff);
  }
  return eff;
}

/** Effects that can change a state (irrelevant calls dropped). */
function relevantEffects(ctx: FnCtx, n: Node): Effect[] {
  let eff = ctx.relevant.get(n.id);
  if (!eff) {
    eff = effectsOf(ctx, n).filter((e) => {
      if (e.t === 'assign') return true;
      const m = memoOf(ctx, e);
      if (m.sleep || m.ref !== undefined || ctx.idx.assertHeld.has(e.name)) return true;
      const sum = ctx.summaries.get(e.name) ?? ctx.knowledge?.get(e.name);
      return !!sum && sum.name !== ctx.name && (sum.acquires.length + sum.releases.length + sum.condAcquires.length > 0 || (ctx.order !== null && !!sum.takes?.length));
    });
    ctx.relevant.set(n.id, eff);
  }
  return eff;
}

/* ----------------------------------------------------------------- branches */

/** The relation a branch edge gives its subject: a sign set, as a value is. */
type Rel = Val;

interface Atom {
  subject: { call: CallEffect } | { var: string } | { value: Val } | null;
  /** Relation that holds for the subject on the true edge; its complement on the false edge. */
  trueRel: Rel;
  falseRel: Rel;
  /** Text fact key of the whole atom (conditions re-tested later are correlated), when side-effect free. */
  key?: string | null;
}

const COMPLEMENT: Record<Rel, Rel> = { Z: 'NZ', NZ: 'Z', NEG: 'NONNEG', NONNEG: 'NEG', POS: 'NONPOS', NONPOS: 'POS' };

function analyseAtom(ctx: FnCtx, atom: Node, effects: Effect[]): Atom {
  let e = stripParens(atom);
  let rel: Rel = 'NZ';
  if (e.type === 'binary_expression') {
    const op = e.childForFieldName('operator')?.type ?? '';
    const l = e.childForFieldName('left');
    const r = e.childForFieldName('right');
    if (l && r && constValue(r) === 'Z' && ['==', '!=', '<', '>=', '>', '<='].includes(op)) {
      rel = ({ '==': 'Z', '!=': 'NZ', '<': 'NEG', '>=': 'NONNEG', '>': 'POS', '<=': 'NONPOS' } as Record<string, Rel>)[op]!;
      e = stripParens(l);
    } else return { subject: null, trueRel: 'NZ', falseRel: 'Z', key: atomKey(orig(ctx, atom)) };
  }
  if (e.type === 'assignment_expression') {
    const l = e.childForFieldName('left');
    if (l && l.type === 'identifier') return { subject: { var: l.text }, trueRel: rel, falseRel: COMPLEMENT[rel] };
    return { subject: null, trueRel: rel, falseRel: COMPLEMENT[rel] };
  }
  if (e.type === 'identifier') {
    if (e.text === 'NULL' || e.text === 'false' || e.text === 'true') return { subject: { value: e.text === 'true' ? 'NZ' : 'Z' }, trueRel: rel, falseRel: COMPLEMENT[rel] };
    return { subject: { var: e.text }, trueRel: rel, falseRel: COMPLEMENT[rel] };
  }
  const cv = constValue(e);
  if (cv !== 'unknown') return { subject: { value: cv }, trueRel: rel, falseRel: COMPLEMENT[rel] };
  if (e.type === 'call_expression') {
    const last = effects[effects.length - 1];
    if (last && last.t === 'call' && last.node.id === e.id) {
      const name = last.name;
      if (name === 'likely' || name === 'unlikely' || name === 'WARN_ON' || name === 'WARN_ON_ONCE') {
        const inner = last.args[0];
        if (inner) return analyseAtom(ctx, inner, effects.slice(0, -1));
      }
      const op = ctx.idx.lockOps.get(name);
      if (op && op.op === 'acquire' && op.cond) return { subject: { call: last }, trueRel: rel, falseRel: COMPLEMENT[rel] };
      return { subject: null, trueRel: 'NZ', falseRel: 'Z', key: atomKey(orig(ctx, atom)) };
    }
  }
  return { subject: null, trueRel: 'NZ', falseRel: 'Z', key: atomKey(orig(ctx, atom)) };
}

/** Is a value in relation `r` compatible with abstract value v? */
function compatible(v: Val, r: Rel): boolean {
  return (SIGNS[v] & SIGNS[r]) !== 0;
}

/** Did the conditional acquire succeed, given that its result satisfies r? */
function succeeded(success: 'zero' | 'nonzero', r: Rel): boolean | undefined {
  if (success === 'nonzero') {
    if (r === 'Z' || r === 'NONPOS') return r === 'Z' ? false : undefined;
    if (r === 'NZ' || r === 'POS' || r === 'NEG') return true;
    return undefined;
  }
  if (r === 'Z' || r === 'NONNEG') return true;
  if (r === 'NZ' || r === 'NEG' || r === 'POS') return false;
  return undefined;
}

function atomText(ctx: FnCtx, node: CfgNode): { where: { line: number; column: number }; short: string; loc: Loc } {
  let t = ctx.atomTexts.get(node.id);
  if (!t) {
    const n = node.ast!;
    const cond = orig(ctx, n).replace(/\s+/g, ' ');
    t = { where: posOf(ctx.starts, n.startIndex), short: cond.length > 60 ? `${cond.slice(0, 57)}...` : cond, loc: nodeLoc(ctx, n) };
    ctx.atomTexts.set(node.id, t);
  }
  return t;
}

function refineEdge(ctx: FnCtx, s0: State, atom: Atom, r: Rel, node: CfgNode, taken: boolean): State | null {
  const s = clone(s0);
  const subj = atom.subject;
  const { where, short, loc: atLoc } = atomText(ctx, node);
  let note = '';
  if (subj && 'value' in subj) {
    if (!compatible(subj.value, r)) return null;
  } else if (subj && 'call' in subj) {
    const op = ctx.idx.lockOps.get(subj.call.name);
    if (op && op.op === 'acquire' && op.cond) {
      const ok = succeeded(op.cond, r);
      const memo = memoOf(ctx, subj.call);
      const ref = memo.ref;
      const at = memo.loc;
      if (!ref) return s;
      if (ok === true) {
        acquire(ctx, s, ref, at, false, subj.call.name);
        note = ` (${subj.call.name}() succeeded)`;
      } else if (ok === undefined) acquire(ctx, s, ref, at, true, subj.call.name);
      else {
        note = ` (${subj.call.name}() failed)`;
        if (!s.held.some((h) => h.key === ref.key)) s.failed = addSorted(s.failed, ref.key);
      }
    }
  } else if (subj && 'var' in subj) {
    const f = s.facts.get(subj.var);
    if (f && 'v' in f) {
      if (!compatible(f.v, r)) return null;
      const met = OF_SIGNS[SIGNS[f.v] & SIGNS[r]]!;
      if (met !== f.v) s.facts.set(subj.var, { v: met });
    } else if (f && 'p' in f) {
      const ok = succeeded(f.p.success, r);
      if (ok === true) {
        s.facts.delete(subj.var);
        const h = f.p.held;
        acquire(ctx, s, { key: h.key, cls: h.cls, text: h.text, kind: h.kind, ...(h.mode ? { mode: h.mode } : {}) }, atLoc, false, h.via ?? 'lock');
        s.trace[s.trace.length - 1] = { ...s.trace[s.trace.length - 1]!, line: h.line, message: `${describe(h)} acquired by ${h.via ?? 'lock'}() (result in '${subj.var}')` };
        note = ` (${h.via ?? 'lock'}() succeeded)`;
      } else if (ok === false) {
        s.facts.delete(subj.var);
        note = ` (${f.p.held.via ?? 'lock'}() failed)`;
        if (!s.held.some((h) => h.key === f.p.held.key)) s.failed = addSorted(s.failed, f.p.held.key);
      }
      if (ok !== undefined && ctx.tracked.has(subj.var)) s.facts.set(subj.var, { v: r });
    } else if (ctx.tracked.has(subj.var)) {
      s.facts.set(subj.var, { v: r });
    }
  }
  if (atom.key && !subj) {
    const f = s.facts.get(atom.key);
    if (f && 'v' in f) {
      if (!compatible(f.v, r)) return null;
    } else if (node.construct === 'if' || node.construct === '?:') {
      s.facts.set(atom.key, { v: r });
    }
  }
  const shown = node.negated ? `!${/^[\w.>()[\]&*-]+$/.test(short) ? short : `(${short})`}` : short;
  const value = node.negated ? !taken : taken;
  pushTrace(ctx, s, where.line, where.column, `${node.construct === 'while' || node.construct === 'for' ? 'loop condition' : 'branch taken: condition'} '${shown}' is ${value ? 'true' : 'false'}${note}`);
  return s;
}

/* ------------------------------------------------------------------- driver */

/** Right-hand sides of `*param = expr;` stores (normalised: no `&`, no spaces): what a function hands out through a pointer parameter. */
function handedOutLocks(body: string, params: readonly string[]): string[] {
  if (!params.length || !body.includes('*')) return [];
  const out = new Set<string>();
  for (const m of body.matchAll(/\*\s*([A-Za-z_]\w*)\s*=\s*([^;=]+?)\s*;/g)) {
    if (params.includes(m[1]!)) out.add(normLockText(m[2]!));
  }
  return [...out];
}

/** `&pt->ptl` -> `pt->ptl`, spaces dropped: to compare a held lock with a stored expression. */
export function normLockText(t: string): string {
  return t.replace(/\s+/g, '').replace(/^\(?&/, '').replace(/\)$/, '');
}

function retConstOf(e: Node | null): ExitRecord['retConst'] {
  if (!e) return undefined;
  if (e.type === 'true' || e.type === 'false') return e.type;
  if (e.type === 'number_literal' && /^(0|1)[uUlL]*$/.test(e.text)) return e.text[0] as '0' | '1';
  return undefined;
}

function retClassOf(ret: Node | null): ExitRecord['retClass'] {
  const e = ret?.namedChild(0);
  if (!ret || !e) return 'void';
  const v = constValue(e);
  if (v === 'NEG') return 'error';
  const st = stripParens(e);
  if (v === 'Z') return st.text === 'NULL' || st.type === 'null' || st.type === 'false' ? 'error' : 'success';
  if (st.type === 'call_expression' && st.childForFieldName('function')?.text === 'ERR_PTR') return 'error';
  return 'unknown';
}

/**
 * Is `lock` (an annotation's text) first acquired in the function body, before
 * any release of it? `__acquires(x) __releases(x)` on a function that takes and
 * drops x itself (wil6210's `wil_rx_reorder()`) does not mean x is held on
 * entry; on one that drops and retakes its caller's lock (mlx5's
 * `resize_available_mrs()`, same annotations) the first operation is a release.
 */
function firstTakenInBody(ctx: FnCtx, lock: string, body: string): boolean {
  const arg = lock.replace(/\s+/g, '');
  const call = /\b([A-Za-z_]\w*)\s*\(([^,()]*)[,)]/g;
  for (let m = call.exec(body); m; m = call.exec(body)) {
    const op = ctx.idx.lockOps.get(m[1]!);
    if (!op || op.lockArg !== 0 || m[2]!.replace(/\s+/g, '') !== arg) continue;
    return op.op === 'acquire';
  }
  return false;
}

function entryState(ctx: FnCtx, ann: FunctionSummary['annotations'], body: string): State {
  const s: State = { held: [], released: [], failed: [], callerReleased: [], facts: new Map(), trace: [], ret: null, retClass: 'void', imprecise: false };
  const both = new Set(ann.acquires.map((t) => t.replace(/\s+/g, '')));
  for (const t of [...ann.mustHold, ...ann.releases.filter((r) => !both.has(r.replace(/\s+/g, '')) || !firstTakenInBody(ctx, r, body))]) {
    const ref = refFromText(ctx, t, kindOfField(ctx, t));
    s.held.push({ ...ref, line: 0, uncertain: false, fromCaller: true });
  }
  return s;
}

/** Record the calls of this node when it runs in atomic context (for hosts' second pass). */
function noteAtomicCalls(ctx: FnCtx, ast: Node, s: State): void {
  if (!s.held.length && !s.released.length) return;
  const atomic = s.held.length > 0 && atomicHeld(s) !== undefined;
  for (const e of effectsOf(ctx, ast)) {
    if (e.t !== 'call') continue;
    ctx.heldCalls!.add(e.name);
    if (atomic) ctx.atomicCalls!.add(e.name);
  }
}

function transfer(ctx: FnCtx, node: CfgNode, s: State, out: (to: number, st: State) => void, exits: ExitRecord[]): void {
  if (ctx.atomicCalls && node.ast && (node.kind === 'branch' || node.kind === 'stmt' || node.kind === 'return')) noteAtomicCalls(ctx, node.ast, s);
  switch (node.kind) {
    case 'branch': {
      const ast = node.ast!;
      const effects = effectsOf(ctx, ast);
      let atom = ctx.atoms.get(node.id);
      if (!atom) {
        atom = analyseAtom(ctx, ast, effects);
        ctx.atoms.set(node.id, atom);
      }
      const base = clone(s);
      const skip = atom.subject && 'call' in atom.subject ? atom.subject.call.node : null;
      applyEffects(ctx, base, relevantEffects(ctx, ast), skip);
      const t = refineEdge(ctx, base, atom, atom.trueRel, node, true);
      const f = refineEdge(ctx, base, atom, atom.falseRel, node, false);
      if (t) out(node.succ[0]!, t);
      if (f) out(node.succ[1]!, f);
      return;
    }
    case 'exit': {
      exits.push({
        held: s.held, released: s.released, callerReleased: s.callerReleased, at: s.ret, retClass: s.retClass, trace: s.trace, imprecise: s.imprecise,
        ...(s.retConst ? { retConst: s.retConst } : {}),
        ...(s.retIdent ? { retIdent: s.retIdent } : {}),
      });
      return;
    }
    case 'noreturn':
      return;
    case 'stmt': {
      const eff = relevantEffects(ctx, node.ast!);
      if (!eff.length) {
        for (const n of node.succ) out(n, s);
        return;
      }
      const st = clone(s);
      applyEffects(ctx, st, eff, null);
      for (const n of node.succ) out(n, st);
      return;
    }
    case 'return': {
      const st = clone(s);
      if (node.ast) {
        applyEffects(ctx, st, relevantEffects(ctx, node.ast), null);
        let r = ctx.returns.get(node.id);
        if (!r) {
          const e = node.ast.namedChild(0);
          const se = e ? stripParens(e) : null;
          r = { loc: nodeLoc(ctx, node.ast), cls: retClassOf(node.ast), ident: se && se.type === 'identifier' ? se.text : null, konst: retConstOf(se) };
          ctx.returns.set(node.id, r);
        }
        st.ret = r.loc;
        st.retClass = r.cls;
        if (r.konst) st.retConst = r.konst;
        else delete st.retConst;
        if (r.ident) st.retIdent = r.ident;
        else delete st.retIdent;
        if (r.cls === 'unknown' && r.ident) {
          const f = st.facts.get(r.ident);
          if (f && 'v' in f && f.v !== 'NONNEG' && f.v !== 'NONPOS') st.retClass = f.v === 'NEG' ? 'error' : f.v === 'Z' ? 'success' : 'nonzero';
        }
      } else {
        const off = ctx.starts[node.line - 1] ?? 0;
        st.ret = locOf(ctx, off, off);
        st.retClass = 'void';
      }
      for (const n of node.succ) out(n, st);
      return;
    }
    case 'guardAcquire':
    case 'guardRelease': {
      const st = clone(s);
      const g = node.guard!;
      const gt = ctx.idx.guards.get(g.type);
      if (gt) {
        const ref = g.args[0] && !['rcu', 'preempt', 'preempt_notrace', 'irq', 'irqsave'].includes(g.type)
          ? refFromText(ctx, g.args[0], gt.kind, gt.mode)
          : noIdentityRef(gt.kind);
        const at = guardLoc(ctx, g);
        const via = g.scoped ? `scoped_guard(${g.type})` : `guard(${g.type})`;
        if (node.kind === 'guardAcquire') acquire(ctx, st, ref, at, gt.conditional === true, via);
        else release(ctx, st, ref, at, `end of ${via} scope`, false);
      }
      for (const n of node.succ) out(n, st);
      return;
    }
    case 'loopHead': {
      const moved = [...(node.assigns ?? []), ...(node.mayAssign ?? []).filter((v) => ctx.macroOnly.has(v))];
      if (moved.length) {
        const st = clone(s);
        for (const v of moved) killVar(ctx, st, v, 'unknown');
        for (const n of node.succ) out(n, st);
        return;
      }
      for (const n of node.succ) out(n, s);
      return;
    }
    default:
      for (const n of node.succ) out(n, s);
  }
}

function guardLoc(ctx: FnCtx, g: GuardInfo): Loc {
  return locOf(ctx, g.offset, g.offset + (g.scoped ? 12 : 5));
}

function collapse(states: State[]): State {
  const held: HeldLock[] = [];
  const first = states[0]!;
  for (const h of first.held) {
    const everywhere = states.every((s) => s.held.some((x) => x.key === h.key && !x.uncertain));
    held.push(everywhere ? h : { ...h, uncertain: true });
  }
  for (const s of states) for (const h of s.held) if (!held.some((x) => x.key === h.key)) held.push({ ...h, uncertain: true });
  return { held, released: [], failed: [], callerReleased: [], facts: new Map(), trace: first.trace, ret: first.ret, retClass: first.retClass, imprecise: true };
}

function run(ctx: FnCtx, cfg: Cfg, entry: State): { exits: ExitRecord[]; failed?: 'too many paths' | 'time budget' } {
  // per node: lock part -> up to VARIANTS states differing in value facts (then merged by intersection)
  const seen: Map<string, State[]>[] = cfg.nodes.map(() => new Map());
  const live = new Set<State>();
  const queue: [number, State][] = [];
  const exits: ExitRecord[] = [];
  const push = (to: number, st: State): void => {
    const m = seen[to]!;
    let k = lockPart(st);
    let variants = m.get(k);
    if (!variants && m.size >= MAX_STATES && !st.imprecise) {
      st = collapse([st, ...[...m.values()].map((v) => v[0]!)].slice(0, 8));
      k = lockPart(st);
      variants = m.get(k);
    }
    if (!variants) {
      m.set(k, [st]);
      live.add(st);
      queue.push([to, st]);
      return;
    }
    for (const v of variants) if (!mergeFacts(v.facts, st.facts)) return; // an existing state already covers it
    if (variants.length < VARIANTS) {
      variants.push(st);
      live.add(st);
      queue.push([to, st]);
      return;
    }
    const last = variants[variants.length - 1]!;
    const merged = mergeFacts(last.facts, st.facts)!;
    const ns: State = { ...last, facts: merged, lp: k };
    variants[variants.length - 1] = ns;
    live.delete(last);
    live.add(ns);
    queue.push([to, ns]);
  };
  push(cfg.entry, entry);
  const allowance = new Allowance(Math.min(MAX_WORK, 2000 + 40 * cfg.nodes.length));
  for (let qi = 0; qi < queue.length; qi++) {
    const stop = allowance.tick();
    if (stop) return { exits: [], failed: stop === 'paths' ? 'too many paths' : 'time budget' };
    const [id, st] = queue[qi]!;
    if (!live.has(st)) continue; // superseded by a merged state
    transfer(ctx, cfg.nodes[id]!, st, push, exits);
  }
  return { exits };
}

/* -------------------------------------------------------------- annotations */

export function readAnnotations(text: string, start: number, end: number, idx: CatalogIndex): FunctionSummary['annotations'] {
  const out: FunctionSummary['annotations'] = { acquires: [], releases: [], mustHold: [], condAcquires: [] };
  const seg = text.slice(start, end);
  const re = /\b(__acquires|__releases|__must_hold|__cond_acquires|__cond_acquires_shared|__acquires_shared|__releases_shared)\s*\(/g;
  for (let m = re.exec(seg); m; m = re.exec(seg)) {
    const which = idx.annotations.get(m[1]!) ?? (m[1]!.startsWith('__acquires') ? 'acquires' : m[1]!.startsWith('__releases') ? 'releases' : undefined);
    const a = splitArgs(seg, m.index + m[0].length - 1);
    if (!which || !a) continue;
    const arg = m[1]!.startsWith('__cond_acquires') && a.args.length > 1 ? a.args[a.args.length - 1]! : a.args[0];
    if (arg) out[which].push(arg);
  }
  return out;
}

function hasAnnotations(a: FunctionSummary['annotations']): boolean {
  return a.acquires.length + a.releases.length + a.mustHold.length + a.condAcquires.length > 0;
}

/** A key rooted at a converter of a parameter (`EXT4_I($0).i_data_sem`, `to_foo($1).lock`). */
const CONVERTED_PARAM = /^(\*?)([A-Za-z_]\w*)\(\$(\d+)\)(.*)$/;

/** Param-relative form of a key for summaries; null for locals. */
function relKey(key: string, params: string[], locals: Set<string>): string | null {
  if (key.startsWith('<')) return key;
  // `EXT4_I(first).i_data_sem`: a converter applied to a parameter (ext4_double_down_write_data_sem)
  const conv = /^(\*?)([A-Za-z_]\w*)\(([A-Za-z_]\w*)\)((?:\.[A-Za-z_]\w*)+)$/.exec(key);
  if (conv) {
    const i = params.indexOf(conv[3]!);
    if (i >= 0) return `${conv[1]}${conv[2]}($${i})${conv[4]}`;
    if (locals.has(conv[3]!)) return null;
  }
  const root = keyRoot(key);
  if (!root) return null;
  const i = params.indexOf(root);
  if (i >= 0) {
    const at = key.indexOf(root);
    return `${key.slice(0, at)}$${i}${key.slice(at + root.length)}`;
  }
  if (locals.has(root) || key.includes('#')) return null;
  return key;
}

function annotationEffects(list: string[], params: string[], fieldKinds: ReadonlyMap<string, LockKind>): LockEffect[] {
  const out: LockEffect[] = [];
  for (const t of list) {
    const key = lockKey(t);
    const rk = relKey(key, params, new Set()) ?? key;
    out.push({ lock: rk, kind: fieldKinds.get(keyField(key)) ?? 'unknown', cls: key });
  }
  return out;
}

/* ------------------------------------------------------------ file driver */

const CALL_RE = /\b([A-Za-z_]\w*)\s*\(/g;

function calleesOf(text: string): Set<string> {
  const s = new Set<string>();
  for (const m of text.matchAll(CALL_RE)) s.add(m[1]!);
  return s;
}

interface FnInfo {
  name: string;
  node: Node;
  callees: Set<string>;
}

/**
 * Analyse every function of a parsed file bottom-up (callees in the same file
 * first), producing per-function events/exits and summaries.
 */
export function analyzeFunctions(
  parsed: ParsedFile,
  file: string,
  catalog: Catalog,
  knowledge: ReadonlyMap<string, FunctionSummary> | undefined,
  wantFindings = true,
  unresolved?: UnresolvedCallees,
  lockOrder = false,
): FileAnalysis {
  const idx = indexCatalog(catalog);
  const text = parsed.text;
  const starts = lineStarts(text);
  const infos: FnInfo[] = parsed.functions.map((f) => {
    const body = f.node.childForFieldName('body');
    return { name: f.name, node: f.node, callees: calleesOf(parsed.text.slice(body ? body.startIndex : f.node.startIndex, f.node.endIndex)) };
  });
  const byName = new Map<string, FnInfo>();
  for (const f of infos) if (!byName.has(f.name)) byName.set(f.name, f);
  // bottom-up order
  const order: FnInfo[] = [];
  const state = new Map<string, number>();
  const visit = (f: FnInfo): void => {
    const stack: [FnInfo, Iterator<string>][] = [[f, f.callees.values()]];
    state.set(f.name, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const nx = top[1].next();
      if (nx.done) {
        stack.pop();
        state.set(top[0].name, 2);
        order.push(top[0]);
        continue;
      }
      const g = byName.get(nx.value);
      if (g && !state.has(g.name)) {
        state.set(g.name, 1);
        stack.push([g, g.callees.values()]);
      }
    }
  };
  for (const f of infos) if (!state.has(f.name)) visit(f);
  for (const f of infos) if (!order.includes(f)) order.push(f);

  const summaries = new Map<string, FunctionSummary>();
  const results: FunctionAnalysis[] = [];
  const fieldKinds = lockFieldKinds(text);
  // annotated prototypes
  if (/__acquires|__releases|__must_hold|__cond_acquires/.test(text)) {
    for (const d of parsed.tree.rootNode.descendantsOfType('declaration')) {
      if (!d) continue;
      const fdecl = d.namedChildren.find((c) => c && (c.type === 'function_declarator' || c.type === 'pointer_declarator'));
      const fd = fdecl ? findFunctionDeclarator(fdecl) : null;
      if (!fd) continue;
      const ann = readAnnotations(text, d.startIndex, d.endIndex, idx);
      if (!hasAnnotations(ann)) continue;
      const nameNode = fd.childForFieldName('declarator');
      const name = nameNode ? declName(nameNode) ?? nameNode.text : '';
      if (!name || byName.has(name) || summaries.has(name)) continue;
      const params: string[] = [];
      for (const p of fd.childForFieldName('parameters')?.namedChildren ?? []) {
        if (!p || p.type !== 'parameter_declaration') continue;
        const dd = p.childForFieldName('declarator');
        params.push(dd ? declName(dd) ?? '' : '');
      }
      summaries.set(name, {
        name, file, line: d.startPosition.row + 1, params, definition: false,
        acquires: annotationEffects(ann.acquires, params, fieldKinds), releases: annotationEffects(ann.releases, params, fieldKinds),
        condAcquires: annotationEffects(ann.condAcquires, params, fieldKinds), mustHold: annotationEffects(ann.mustHold, params, fieldKinds),
        annotations: ann, maySleep: false,
      });
    }
  }
  let failures = 0;
  const atomicByFn = new Map<string, Set<string>>();
  const heldByFn = new Map<string, Set<string>>();
  for (const f of order) {
    const atomicCalls = unresolved ? new Set<string>() : null;
    const heldCalls = unresolved ? new Set<string>() : null;
    const r = analyzeOne(f, parsed, file, idx, starts, summaries, knowledge, wantFindings, fieldKinds, atomicCalls, heldCalls, lockOrder);
    if (r.failed) failures++;
    results.push(r);
    if (!summaries.has(f.name)) summaries.set(f.name, r.summary);
    if (atomicCalls?.size) atomicByFn.set(f.name, atomicCalls);
    if (heldCalls?.size) heldByFn.set(f.name, heldCalls);
  }
  if (unresolved) collectUnresolved(infos, byName, atomicByFn, heldByFn, (c) => summaries.has(c) || knowledge?.has(c) === true || isPrimitive(idx, c), unresolved);
  results.sort((a, b) => a.line - b.line);
  return { functions: results, summaries: [...summaries.values()], failures };
}

function isPrimitive(idx: CatalogIndex, c: string): boolean {
  return idx.lockOps.has(c) || idx.assertHeld.has(c) || isSleepingName(idx, c) || idx.gfpCalls.has(c) || idx.noreturn.has(c);
}

/**
 * Unresolved callees of a file: every called name without a summary, and those
 * called in atomic context, directly or through same-file functions called there.
 */
function collectUnresolved(
  infos: FnInfo[],
  byName: ReadonlyMap<string, FnInfo>,
  atomicByFn: ReadonlyMap<string, Set<string>>,
  heldByFn: ReadonlyMap<string, Set<string>>,
  known: (name: string) => boolean,
  out: UnresolvedCallees,
): void {
  const verdict = new Map<string, boolean>();
  const isUnresolved = (c: string): boolean => {
    let v = verdict.get(c);
    if (v === undefined) {
      v = !byName.has(c) && !known(c);
      verdict.set(c, v);
    }
    return v;
  };
  for (const f of infos) for (const c of f.callees) if (isUnresolved(c)) out.any.add(c);
  const close = (byFn: ReadonlyMap<string, Set<string>>, into: Set<string>): void => {
    const seen = new Set<string>();
    const work: string[] = [];
    for (const names of byFn.values()) for (const n of names) work.push(n);
    while (work.length) {
      const n = work.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      const own = byName.get(n);
      if (own) for (const c of own.callees) work.push(c);
      else if (isUnresolved(n)) into.add(n);
    }
  };
  close(atomicByFn, out.atomic);
  close(heldByFn, out.held);
}

function analyzeOne(
  f: FnInfo,
  parsed: ParsedFile,
  file: string,
  idx: CatalogIndex,
  starts: number[],
  summaries: ReadonlyMap<string, FunctionSummary>,
  knowledge: ReadonlyMap<string, FunctionSummary> | undefined,
  wantFindings: boolean,
  fieldKinds: ReadonlyMap<string, LockKind>,
  atomicCalls: Set<string> | null = null,
  heldCalls: Set<string> | null = null,
  lockOrder = false,
): FunctionAnalysis {
  const result = analyzeOneInner(f, parsed, file, idx, starts, summaries, knowledge, wantFindings, fieldKinds, atomicCalls, heldCalls, lockOrder);
  // what the function takes, itself (recorded by the dataflow) and through its callees' summaries
  const takes = new Map<string, LockTake>();
  for (const t of result.ownTakes ?? []) takes.set(t.cls, t);
  let calleeTakes = false;
  for (const c of f.callees) if (c !== f.name && (summaries.get(c) ?? knowledge?.get(c))?.takes?.length) calleeTakes = true;
  for (const c of calleeTakes && takes.size < MAX_TAKES ? realCallees(parsed.text, f) : []) {
    if (takes.size >= MAX_TAKES) break;
    if (c === f.name) continue;
    const s = summaries.get(c) ?? knowledge?.get(c);
    const after = result.callsAfterRelease?.get(c) === true;
    for (const t of s?.takes ?? []) if (!takes.has(t.cls) && takes.size < MAX_TAKES) takes.set(t.cls, { ...t, via: `${c}() -> ${t.via}`, ...(after ? { afterRelease: true } : {}) });
  }
  delete result.ownTakes;
  delete result.callsAfterRelease;
  if (takes.size) result.summary.takes = [...takes.values()];
  return result;
}

/** Names called in a function's body, comments and string literals left out (calleesOf reads the raw text). */
function realCallees(text: string, f: FnInfo): Set<string> {
  const body = f.node.childForFieldName('body');
  const src = text.slice(body ? body.startIndex : f.node.startIndex, f.node.endIndex);
  if (!/\/[/*]|"/.test(src)) return f.callees;
  return calleesOf(src.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:[^"\\\n]|\\.)*"/g, ' '));
}

function analyzeOneInner(
  f: FnInfo,
  parsed: ParsedFile,
  file: string,
  idx: CatalogIndex,
  starts: number[],
  summaries: ReadonlyMap<string, FunctionSummary>,
  knowledge: ReadonlyMap<string, FunctionSummary> | undefined,
  wantFindings: boolean,
  fieldKinds: ReadonlyMap<string, LockKind>,
  atomicCalls: Set<string> | null,
  heldCalls: Set<string> | null,
  lockOrder: boolean,
): FunctionAnalysis & { ownTakes?: LockTake[]; callsAfterRelease?: Map<string, boolean> } {
  const fn = f.node;
  const body = fn.childForFieldName('body');
  const line = fn.startPosition.row + 1;
  const ann = readAnnotations(parsed.text, fn.startIndex, body ? body.startIndex : fn.endIndex, idx);
  const ctx: FnCtx = {
    name: f.name, idx, text: parsed.text, starts, file, params: [], types: new Map(), aliases: new Map(), locals: new Set(),
    tracked: new Set(), macroOnly: new Set(), summaries, knowledge, events: new Map(), maySleep: null, effects: new Map(), relevant: new Map(), atoms: new Map(), atomTexts: new Map(), returns: new Map(), fieldKinds, scalarParams: new Set(),
    atomicCalls, heldCalls, order: lockOrder ? new Map() : null, takes: new Map(), callsAfterRelease: new Map(),
  };
  const base: FunctionSummary = {
    name: f.name, file, line, params: [], definition: true, acquires: [], releases: [], condAcquires: [], mustHold: [],
    annotations: ann, maySleep: false,
  };
  const result: FunctionAnalysis & { ownTakes?: LockTake[]; callsAfterRelease?: Map<string, boolean> } = { name: f.name, line, events: [], exits: [], annotations: ann, summary: base, analysed: false };
  let interesting = hasAnnotations(ann);
  let sleepy: string | null = null;
  for (const c of f.callees) {
    if (idx.lockOps.has(c) || idx.assertHeld.has(c) || c === 'guard' || c === 'scoped_guard' || c === 'scoped_cond_guard') interesting = true;
    const s = summaries.get(c) ?? knowledge?.get(c);
    if (s && s.name !== f.name && (s.acquires.length || s.releases.length || s.condAcquires.length)) interesting = true;
    if (!sleepy && (isSleepingName(idx, c) || idx.gfpCalls.has(c) || (s && s.maySleep))) sleepy = c;
  }
  if (!body) return result;
  if (sleepy && !interesting && body) {
    // a sleep that may be chosen by a by-value parameter needs the path analysis
    const decl = fn.childForFieldName('declarator');
    const fd = decl ? findFunctionDeclarator(decl) : null;
    const btext = parsed.text.slice(body.startIndex, body.endIndex);
    for (const p of fd?.childForFieldName('parameters')?.namedChildren ?? []) {
      const d = p?.childForFieldName('declarator');
      if (d && d.type === 'identifier' && new RegExp(`\\b(if|while)\\s*\\([^;{]*\\b${d.text}\\b`).test(btext)) interesting = true;
    }
  }
  if (!interesting) {
    if (sleepy) {
      // cheap path: no locks here, only decide whether the function may sleep
      ctx.params = [];
      const effects: Effect[] = [];
      walkBlocks(body, effects);
      for (const e of effects) {
        if (e.t !== 'call') continue;
        const r = sleepReason(ctx, e);
        if (!r || inWarnBranch(e.node)) continue;
        const drops = calleeDropsLock(ctx, e.name);
        if (!base.maySleep || (base.sleepDropsLock && !drops)) {
          base.maySleep = true;
          base.sleepReason = r;
          if (drops) base.sleepDropsLock = true;
          else delete base.sleepDropsLock;
        }
        if (!drops) break;
      }
    }
    prepassParamsOnly(fn, base);
    return result;
  }
  try {
    prepass(fn, ctx);
    base.params = ctx.params;
    const out = handedOutLocks(parsed.text.slice(body.startIndex, body.endIndex), ctx.params);
    if (out.length) result.handedOut = out;
    const cfg = buildCfg(fn, { text: parsed.text, noreturn: idx.noreturn });
    for (const n of cfg.nodes) {
      if (n.kind === 'return' && n.ast) {
        // returned variables: their constant values classify the return (success / error)
        const r = n.ast.namedChild(0);
        if (r && r.type === 'identifier') ctx.tracked.add(r.text);
        continue;
      }
      if (n.kind !== 'branch' || !n.ast) continue;
      const e = stripParens(n.ast);
      const subj = e.type === 'binary_expression' ? stripParens(e.childForFieldName('left') ?? e) : e;
      if (subj.type === 'identifier') ctx.tracked.add(subj.text);
      else if (subj.type === 'assignment_expression') {
        const l = subj.childForFieldName('left');
        if (l?.type === 'identifier') ctx.tracked.add(l.text);
      }
    }
    const { exits, failed } = run(ctx, cfg, entryState(ctx, ann, parsed.text.slice(body.startIndex, body.endIndex)));
    result.analysed = true;
    if (failed) {
      result.failed = failed;
      return result;
    }
    result.exits = exits;
    result.events = wantFindings ? [...ctx.events.values()] : [];
    if (ctx.takes.size) result.ownTakes = [...ctx.takes.values()];
    if (ctx.callsAfterRelease.size) result.callsAfterRelease = ctx.callsAfterRelease;
    if (ctx.order) result.order = [...ctx.order.values()].sort((a, b) => a.at.offset - b.at.offset);
    if (ctx.maySleep) {
      base.maySleep = true;
      base.sleepReason = ctx.maySleep.reason;
      if (ctx.maySleep.dropsLock) base.sleepDropsLock = true;
    }
    summarizeExits(ctx, exits, base, ann);
  } catch (e) {
    result.failed = `internal error: ${(e as Error).message}`;
  }
  return result;
}

const CONTAINERS: ReadonlySet<string> = new Set([
  'compound_statement', 'if_statement', 'else_clause', 'while_statement', 'for_statement', 'do_statement',
  'switch_statement', 'case_statement', 'labeled_statement',
]);

/** Effects of every statement of a body, nested blocks included (not statement expressions). */
function walkBlocks(n: Node, out: Effect[]): void {
  for (const c of n.namedChildren) {
    if (!c) continue;
    if (CONTAINERS.has(c.type)) walkBlocks(c, out);
    else collectEffects(c, out, false);
  }
}

function prepassParamsOnly(fn: Node, base: FunctionSummary): void {
  const decl = fn.childForFieldName('declarator');
  const fd = decl ? findFunctionDeclarator(decl) : null;
  for (const p of fd?.childForFieldName('parameters')?.namedChildren ?? []) {
    if (!p || p.type !== 'parameter_declaration') continue;
    const d = p.childForFieldName('declarator');
    base.params.push(d ? declName(d) ?? '' : '');
  }
}

function summarizeExits(ctx: FnCtx, exits: ExitRecord[], base: FunctionSummary, ann: FunctionSummary['annotations']): void {
  const precise = exits.filter((e) => !e.imprecise);
  const all = exits;
  if (all.length) {
    const first = all[0]!;
    const heldCertain = (e: ExitRecord, k: string): boolean => e.held.some((h) => h.key === k && !h.uncertain && !h.fromCaller);
    const seen = new Set<string>();
    for (const e of all) {
      for (const h of e.held) {
        if (h.fromCaller || seen.has(h.key) || !(CHECKED_KINDS as readonly string[]).includes(h.kind)) continue;
        if (all.some((x) => x.callerReleased.includes(h.key))) continue; // dropped and re-taken: net zero
        seen.add(h.key);
        const rk = relKey(h.key, ctx.params, ctx.locals);
        if (!rk) continue;
        const eff: LockEffect = { lock: rk, kind: h.kind, cls: h.cls, ...(h.mode ? { mode: h.mode } : {}) };
        if (precise.length && precise.every((x) => heldCertain(x, h.key)) && all.every((x) => x.held.some((y) => y.key === h.key))) base.acquires.push(eff);
        else base.condAcquires.push(eff);
      }
    }
    const rel = new Set(first.callerReleased);
    for (const k of rel) {
      if (!all.every((x) => x.callerReleased.includes(k) && !x.held.some((h) => h.key === k))) continue;
      const rk = relKey(k, ctx.params, ctx.locals);
      if (rk) base.releases.push({ lock: rk, kind: ctx.fieldKinds.get(keyField(k)) ?? 'unknown', cls: lockClass(k, ctx.types) });
    }
  }
  for (const a of annotationEffects(ann.acquires, ctx.params, ctx.fieldKinds)) if (!base.acquires.some((x) => x.lock === a.lock)) base.acquires.push(a);
  for (const a of annotationEffects(ann.releases, ctx.params, ctx.fieldKinds)) if (!base.releases.some((x) => x.lock === a.lock)) base.releases.push(a);
  for (const a of annotationEffects(ann.condAcquires, ctx.params, ctx.fieldKinds)) if (!base.condAcquires.some((x) => x.lock === a.lock)) base.condAcquires.push(a);
  base.mustHold = annotationEffects(ann.mustHold, ctx.params, ctx.fieldKinds);
}
