/**
 * Shared machinery of the refcount rules: the calls a CFG node evaluates (in
 * source order, with their original spelling), locations, and a bounded
 * path-set forward walk over `buildCfg` (each path carries its own state, so
 * "the lock was released on this path" is exact up to the state cap).
 */
import type { SyntaxNode as Node } from '../../parse/syntax';
import type { Loc } from '../../analysis/locks';
import { lockKey } from '../../analysis/lockid';
import type { Catalog } from '../../catalog';
import { indexCatalog, type CatalogIndex } from '../../catalog';
import { indexRefcountCatalog, type RefcountCatalogIndex } from '../../catalog/refcount';
import { buildCfg, splitArgs, type Cfg, type CfgNode } from '../../cfg/build';
import type { FunctionFact } from '../../index/facts';
import { functionsInFile, keyClass, resolveCallee, summaryOf, type WorkspaceIndex } from '../../index/workspace';
import type { FunctionInfo, ParsedFile } from '../../parse/source';
import { Allowance } from '../../budget';
import type { Finding, IncompleteFunction, TraceStep } from '../../types';
import { lineStarts, posOf } from '../../util/text';

export interface RefcountRuleContext {
  index?: WorkspaceIndex;
  catalog: Catalog;
}

export type RefcountRule = (parsed: ParsedFile, file: string, ctx: RefcountRuleContext) => Finding[];

/** What a rule's function filter reads: the file and the catalog and index tables, no syntax. */
export type InterestEnv = Pick<Env, 'file' | 'cat' | 'rc' | 'index'>;

/**
 * A rule's function filter: can the function `fn`, whose text puts `names`
 * before a parenthesis (namesCalledIn: a superset of its callees), get a finding
 * from the rule? Each rule skips every function its filter rejects, so a host
 * may leave such functions out of the parse altogether (analyzeRefcount).
 */
export type RuleInterest = (env: InterestEnv, fn: string, names: ReadonlySet<string>) => boolean;

/** Whether any of the names passes `test`. */
export function anyName(names: ReadonlySet<string>, test: (name: string) => boolean): boolean {
  for (const n of names) if (test(n)) return true;
  return false;
}

/** One call as written: callee name, argument texts, its node (null for iterator macros). */
export interface CallSite {
  name: string;
  args: string[];
  node: Node | null;
  start: number;
  end: number;
  line: number;
}

export interface Env {
  parsed: ParsedFile;
  file: string;
  text: string;
  starts: number[];
  cat: CatalogIndex;
  rc: RefcountCatalogIndex;
  index?: WorkspaceIndex;
  /** Per-parse memo shared by every rule run on the same file (CFGs, calls per node, names per function). */
  memo?: EnvMemo;
}

/** The Env's memo, created on first use for Envs built by hand. */
export function memoOf(env: Env): EnvMemo {
  env.memo ??= { catalog: null, cfgs: new Map(), calls: new WeakMap(), names: new Map(), shared: new Map(), incomplete: new Map() };
  return env.memo;
}

export interface EnvMemo {
  /** The catalog the Env was made for (null for Envs built by hand: never shared). */
  catalog: Catalog | null;
  cfgs: Map<number, Cfg | null>;
  calls: WeakMap<CfgNode, CallSite[]>;
  names: Map<number, ReadonlySet<string>>;
  /** Rule-specific results computed once per function and shared (e.g. the ownership dataflow used by two rules). */
  shared: Map<string, unknown>;
  /** Functions some rule's walk stopped early on (by the function's start offset). */
  incomplete: Map<number, IncompleteFunction>;
}

/** One Env per parsed file and context: the rules of one file share its CFGs and call lists. */
const envs = new WeakMap<ParsedFile, Env[]>();

export function makeEnv(parsed: ParsedFile, file: string, ctx: RefcountRuleContext): Env {
  const known = envs.get(parsed);
  const hit = known?.find((e) => e.file === file && e.index === ctx.index && e.memo?.catalog === ctx.catalog);
  if (hit) return hit;
  const env: Env = {
    parsed, file, text: parsed.text, starts: lineStarts(parsed.text), cat: indexCatalog(ctx.catalog),
    rc: ctx.index?.rc ?? indexRefcountCatalog(), ...(ctx.index ? { index: ctx.index } : {}),
    memo: { catalog: ctx.catalog, cfgs: new Map(), calls: new WeakMap(), names: new Map(), shared: new Map(), incomplete: new Map() },
  };
  if (known) known.push(env);
  else envs.set(parsed, [env]);
  return env;
}

const CALLED = /\b([A-Za-z_]\w*)\s*\(/g;

/** Names `text[from, to)` puts before a parenthesis (calls, macro uses, and some casts or declarators). */
export function namesCalledIn(text: string, from = 0, to = text.length): Set<string> {
  const s = new Set<string>();
  // `\b` at `from` looks one character back: a name cut at `from` is not one the range calls
  const start = from > 0 && /\w/.test(text[from - 1]!) ? text.slice(from).search(/\W/) + from : from;
  CALLED.lastIndex = start < from ? to : start;
  for (let m = CALLED.exec(text); m && m.index + m[0].length <= to; m = CALLED.exec(text)) s.add(m[1]!);
  return s;
}

/**
 * Names the function's text puts before a parenthesis: a cheap superset of its
 * callees, for rules to skip functions that cannot contain what they look for
 * before building a CFG.
 */
export function calledNames(env: Env, fn: FunctionInfo): ReadonlySet<string> {
  const key = fn.node.startIndex;
  let names = memoOf(env).names.get(key);
  if (!names) {
    names = namesCalledIn(env.text, fn.node.startIndex, fn.node.endIndex);
    memoOf(env).names.set(key, names);
  }
  return names;
}

/** Whether the function names (see calledNames) anything `test` accepts. */
export function mentionsAny(env: Env, fn: FunctionInfo, test: (name: string) => boolean): boolean {
  return anyName(calledNames(env, fn), test);
}

export function locOf(env: Env, start: number, end: number): Loc {
  const a = posOf(env.starts, start);
  const b = posOf(env.starts, end);
  return { line: a.line, column: a.column, offset: start, endLine: b.line, endColumn: b.column, endOffset: end };
}

export function step(env: Env, offset: number, message: string): TraceStep {
  const p = posOf(env.starts, offset);
  return { file: env.file, line: p.line, column: p.column, message };
}

function callOf(env: Env, n: Node): CallSite | null {
  const f = n.childForFieldName('function');
  const a = n.childForFieldName('arguments');
  if (!f || !a) return null;
  const name = env.text.slice(f.startIndex, f.endIndex).trim();
  const args = a.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment').map((c) => env.text.slice(c.startIndex, c.endIndex).trim());
  return { name, args, node: n, start: n.startIndex, end: n.endIndex, line: n.startPosition.row + 1 };
}

/** Calls a CFG node evaluates, innermost first then in source order (arguments run before the call). */
export function callsOf(env: Env, cn: CfgNode): CallSite[] {
  let calls = memoOf(env).calls.get(cn);
  if (!calls) {
    calls = callsOfUncached(env, cn);
    memoOf(env).calls.set(cn, calls);
  }
  return calls;
}

function callsOfUncached(env: Env, cn: CfgNode): CallSite[] {
  const ast = cn.ast;
  if (!ast) return [];
  if (cn.kind === 'loopHead') {
    // iterator macro: `list_for_each_entry(pos, head, member) {` (the node spans the whole loop)
    if (!cn.construct || !cn.assigns) return [];
    const macro = cn.construct;
    const open = env.text.indexOf('(', ast.startIndex + macro.length);
    if (open < 0) return [];
    const sa = splitArgs(env.text, open);
    if (!sa) return [];
    return [{ name: macro, args: sa.args.map((s) => s.trim()), node: null, start: ast.startIndex, end: sa.end, line: ast.startPosition.row + 1 }];
  }
  const out: CallSite[] = [];
  const visit = (n: Node): void => {
    if (n.type === 'compound_statement' && n.id !== ast.id) return;
    for (const c of n.namedChildren) if (c) visit(c);
    if (n.type === 'call_expression') {
      const c = callOf(env, n);
      if (c) out.push(c);
    }
  };
  visit(ast);
  return out;
}

/**
 * What a call does to reference counts, per variable it acts on: a get (get,
 * get-unless-zero, init; a learned get, conditional or stored get) or a put
 * (a put primitive or a learned put), primitive or learned wrapper alike.
 */
export function refEffects(env: Env, c: CallSite): { v: string; kind: 'get' | 'put' }[] {
  const op = env.rc.refOps.get(c.name);
  if (op) {
    const v = c.args[op.counterArg] ? rootVar(c.args[op.counterArg]!) : null;
    if (!v) return [];
    if (op.effect === 'get' || op.effect === 'get-unless-zero' || op.effect === 'init') return [{ v, kind: 'get' }];
    if (op.effect === 'put' || op.effect === 'put-release') return [{ v, kind: 'put' }];
    return [];
  }
  const out: { v: string; kind: 'get' | 'put' }[] = [];
  const s = env.index ? summaryOf(env.index, c.name, env.file) : undefined;
  for (const p of s?.params ?? []) {
    const v = c.args[p.index] ? rootVar(c.args[p.index]!) : null;
    if (!v) continue;
    if (p.effect === 'put') out.push({ v, kind: 'put' });
    else if (p.effect === 'get' || p.effect === 'cond-get' || p.effect === 'get-stored') out.push({ v, kind: 'get' });
  }
  return out;
}

/** The variable a pointer-ish argument is rooted in: `&w->ref` -> `w`, `obj` -> `obj`, `&(*p)->kref` -> `p`. */
export function rootVar(arg: string): string | null {
  const m = /^[&*(\s]*([A-Za-z_]\w*)/.exec(arg);
  return m ? m[1]! : null;
}

/** The variable assigned by the statement containing `call` (`x = call(...)`, `T *x = call(...)`), or null. */
export function assignedVar(call: Node): string | null {
  let n: Node | null = call;
  let p = n.parent;
  while (p && (p.type === 'parenthesized_expression' || p.type === 'cast_expression')) {
    n = p;
    p = p.parent;
  }
  if (!p || !n) return null;
  if (p.type === 'assignment_expression' && p.childForFieldName('right')?.id === n.id && p.childForFieldName('operator')?.text === '=') {
    const l = p.childForFieldName('left');
    return l && l.type === 'identifier' ? l.text : null;
  }
  if (p.type === 'init_declarator' && p.childForFieldName('value')?.id === n.id) {
    let d = p.childForFieldName('declarator');
    while (d && d.type === 'pointer_declarator') d = d.childForFieldName('declarator');
    return d && d.type === 'identifier' ? d.text : null;
  }
  return null;
}

/** `a = b;` between plain identifiers in a statement node (alias copy). */
export function plainCopy(cn: CfgNode): { to: string; from: string } | null {
  const ast = cn.ast;
  if (!ast || cn.kind !== 'stmt') return null;
  const e = ast.type === 'expression_statement' ? ast.namedChildren[0] : ast;
  if (e && e.type === 'assignment_expression' && e.childForFieldName('operator')?.text === '=') {
    const l = e.childForFieldName('left');
    const r = e.childForFieldName('right');
    if (l?.type === 'identifier' && r?.type === 'identifier') return { to: l.text, from: r.text };
  }
  return null;
}

/** Variables a statement node assigns with a plain `=` (left identifiers). */
export function assignedVars(cn: CfgNode): string[] {
  const ast = cn.ast;
  if (!ast || (cn.kind !== 'stmt' && cn.kind !== 'branch')) return [];
  const out: string[] = [];
  const visit = (n: Node): void => {
    if (n.type === 'compound_statement' && n.id !== ast.id) return;
    if (n.type === 'assignment_expression') {
      const l = n.childForFieldName('left');
      if (l?.type === 'identifier') out.push(l.text);
    }
    if (n.type === 'init_declarator') {
      let d = n.childForFieldName('declarator');
      while (d && d.type === 'pointer_declarator') d = d.childForFieldName('declarator');
      if (d?.type === 'identifier') out.push(d.text);
    }
    for (const c of n.namedChildren) if (c) visit(c);
  };
  visit(ast);
  return out;
}

export interface LockEffectAt {
  op: 'acquire' | 'release';
  key: string;
  start: number;
  line: number;
}

/**
 * Lock acquire/release effects of a node: unconditional catalog lock ops
 * (`rcu` for the RCU read side, identity-less contexts other than RCU ignored),
 * `guard()` acquire/release nodes. Conditional acquires (trylock,
 * `*_interruptible`) are left out: the rules only trust certainly-held locks.
 */
export function lockEffects(env: Env, cn: CfgNode, calls: CallSite[]): LockEffectAt[] {
  const out: LockEffectAt[] = [];
  if ((cn.kind === 'guardAcquire' || cn.kind === 'guardRelease') && cn.guard) {
    const g = env.cat.guards.get(cn.guard.type);
    const key = g?.kind === 'rcu' || cn.guard.type === 'rcu' ? 'rcu' : cn.guard.args[0] ? lockKey(cn.guard.args[0]) : null;
    if (key && !g?.conditional) out.push({ op: cn.kind === 'guardAcquire' ? 'acquire' : 'release', key, start: cn.guard.offset, line: cn.guard.line });
    return out;
  }
  for (const c of calls) {
    const op = env.cat.lockOps.get(c.name);
    if (!op) continue;
    if (op.op === 'acquire' && op.cond) continue;
    let key: string | null = null;
    if (op.kind === 'rcu') key = 'rcu';
    else if (op.lockArg >= 0 && c.args[op.lockArg]) key = lockKey(c.args[op.lockArg]!);
    if (key) out.push({ op: op.op, key, start: c.start, line: c.line });
  }
  return out;
}

/** A lock class a called lock wrapper takes or drops (lockWrapperEffects). */
export interface WrapperLockEffect {
  op: 'acquire' | 'release';
  /** In the wrapper's own terms: `struct drm_vma_offset_manager.vm_lock`. */
  cls: string;
  via: string;
  start: number;
  line: number;
}

export interface WrapperLocks {
  takes: string[];
  drops: string[];
}

const wrapperMemo = new WeakMap<WorkspaceIndex, Map<string, WrapperLocks | null>>();

/**
 * The lock classes a called function takes and never releases (it returns holding
 * them: `drm_vma_offset_lock_lookup(mgr)`, whose body is `read_lock(&mgr->vm_lock)`),
 * or releases and never takes; null when it is no lock wrapper or not in the index.
 * One level deep, unconditional catalog lock ops only; a callee that both takes and
 * releases a class (on some path) is no wrapper of it. The classes are the callee's
 * (`struct drm_vma_offset_manager.vm_lock`): the caller's key for the lock is not known.
 */
export function wrapperLocks(index: WorkspaceIndex, cat: CatalogIndex, callerFile: string, name: string): WrapperLocks | null {
  if (cat.lockOps.has(name) || name.includes('->') || name.includes('.')) return null;
  const d = resolveCallee(index, callerFile, name);
  if (!d) return null;
  let memo = wrapperMemo.get(index);
  if (!memo) wrapperMemo.set(index, (memo = new Map()));
  let w = memo.get(d.id);
  if (w === undefined) {
    const taken = new Set<string>();
    const released = new Set<string>();
    for (const k of d.fact.calls) {
      const op = cat.lockOps.get(k.c);
      if (!op || op.kind === 'rcu' || op.lockArg < 0 || (op.op === 'acquire' && op.cond)) continue;
      const arg = k.a[op.lockArg];
      const cls = arg ? keyClass(index, d.fact, arg) : null;
      if (cls) (op.op === 'acquire' ? taken : released).add(cls);
    }
    const takes = [...taken].filter((x) => !released.has(x));
    const drops = [...released].filter((x) => !taken.has(x));
    w = takes.length || drops.length ? { takes, drops } : null;
    memo.set(d.id, w);
  }
  return w;
}

/** The lock wrappers a node calls (wrapperLocks), as acquire/release effects in call order. */
export function lockWrapperEffects(env: Env, calls: readonly CallSite[]): WrapperLockEffect[] {
  const index = env.index;
  if (!index) return [];
  const out: WrapperLockEffect[] = [];
  for (const c of calls) {
    const w = wrapperLocks(index, env.cat, env.file, c.name);
    if (!w) continue;
    for (const cls of w.takes) out.push({ op: 'acquire', cls, via: c.name, start: c.start, line: c.line });
    for (const cls of w.drops) out.push({ op: 'release', cls, via: c.name, start: c.start, line: c.line });
  }
  return out;
}

export const MAX_PATH_STATES = 24;
const MAX_STEPS = 60000;

/**
 * Forward walk of every function's CFG with a set of per-path states. `transfer`
 * maps a state through a node (returning the new state); states are deduplicated
 * per node by `key(state)`, at most MAX_PATH_STATES per node (further states at a
 * node are dropped: fewer paths are followed, each one followed is real).
 * Returns null when the walk ran to its end, or why it stopped early (the step
 * bound or the time budget, src/core/budget.ts): its caller must then report
 * the function as incomplete and make no finding from the walk (walkRulePaths).
 */
export function walkPaths<S>(
  cfg: Cfg,
  init: S,
  key: (s: S) => string,
  transfer: (node: CfgNode, s: S, succIndex: number) => S | null,
): IncompleteFunction['reason'] | null {
  const seen = new Map<number, Set<string>>();
  const work: [number, S][] = [[cfg.entry, init]];
  const allowance = new Allowance(MAX_STEPS);
  while (work.length) {
    const stop = allowance.tick();
    if (stop) return stop;
    const [id, s] = work.pop()!;
    const node = cfg.nodes[id];
    if (!node) continue;
    const k = key(s);
    let set = seen.get(id);
    if (!set) seen.set(id, (set = new Set()));
    if (set.has(k) || set.size >= MAX_PATH_STATES) continue;
    set.add(k);
    node.succ.forEach((next, i) => {
      const out = transfer(node, s, i);
      if (out !== null) work.push([next, out]);
    });
  }
  return null;
}

/**
 * A rule's walk of one function: `walkPaths`, and when it stops early the
 * findings it pushed onto `out` meanwhile are taken back and the function is
 * recorded as incomplete for `rule` (incompleteOf).
 */
export function walkRulePaths<S>(
  env: Env, fn: FunctionInfo, rule: string, out: Finding[],
  cfg: Cfg, init: S, key: (s: S) => string, transfer: (node: CfgNode, s: S, succIndex: number) => S | null,
): void {
  const before = out.length;
  const stop = walkPaths(cfg, init, key, transfer);
  if (!stop) return;
  out.length = before;
  markIncomplete(env, fn, rule, stop);
}

/** Record that `rule`'s analysis of `fn` stopped (`reason`): merged per function, rules listed in `detail`. */
export function markIncomplete(env: Env, fn: FunctionInfo, rule: string, reason: IncompleteFunction['reason']): void {
  const m = memoOf(env).incomplete;
  const key = fn.node.startIndex;
  const had = m.get(key);
  if (!had) {
    m.set(key, { function: fn.name, line: fn.node.startPosition.row + 1, analysis: 'refcount', reason, detail: rule });
    return;
  }
  const rules = new Set(had.detail?.split(', ') ?? []);
  rules.add(rule);
  had.detail = [...rules].sort().join(', ');
  if (reason === 'error' || (reason === 'time' && had.reason === 'paths')) had.reason = reason;
}

/** The functions of the Env's file whose refcount analysis stopped early, by line. */
export function incompleteOf(env: Env): IncompleteFunction[] {
  return [...memoOf(env).incomplete.values()].sort((a, b) => a.line - b.line);
}

/** The function's CFG, built once per parsed file (rules must not modify it). */
export function cfgOf(env: Env, fn: FunctionInfo): Cfg | null {
  const key = fn.node.startIndex;
  const memo = memoOf(env);
  if (memo.cfgs.has(key)) return memo.cfgs.get(key)!;
  let cfg: Cfg | null;
  try {
    cfg = buildCfg(fn.node, { text: env.text, noreturn: env.cat.noreturn });
  } catch {
    cfg = null;
  }
  memo.cfgs.set(key, cfg);
  return cfg;
}

/** The index's fact of this function definition (same file, same line). */
export function factOf(env: Env, fn: FunctionInfo): FunctionFact | null {
  if (!env.index) return null;
  // (The file's own definitions: a static name defined in many files decodes only this file's, index/lazy.ts.)
  const line = fn.node.startPosition.row + 1;
  const same = functionsInFile(env.index, env.file).filter((d) => d.fact.name === fn.name);
  return (same.find((d) => Math.abs(d.fact.line - line) <= 3) ?? same[0])?.fact ?? null;
}

/** Functions of the file worth analysing (undamaged, with a body). */
export function functionsOf(parsed: ParsedFile): FunctionInfo[] {
  return parsed.functions.filter((f) => !f.damaged && f.node.childForFieldName('body'));
}
