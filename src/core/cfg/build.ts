/**
 * Per-function control-flow graph over the (normalised) tree-sitter tree.
 *
 * Nodes are statements or condition atoms: conditions are split at `&&`, `||`,
 * `!`, parentheses and `?:`, so every `branch` node tests one atom and has its
 * true successor first. Jumps (`return`, `goto`, `break`, `continue`) that leave
 * a block run that block's scope-exit actions first: `guard(T)(args)` releases,
 * `__free(f)` / `__cleanup(f)` cleanups, and the implicit release at the end of
 * a `scoped_guard(T, args) stmt`. Calls to noreturn functions (catalog) end the
 * path in the `noreturn` sink, which is not an exit.
 *
 * The graph keeps references to tree-sitter nodes, so it lives only as long as
 * the tree; the analyses turn it into plain-data results.
 */
import type { SyntaxNode as Node } from '../parse/syntax';

export type CfgKind =
  | 'entry' | 'exit' | 'noreturn' | 'nop' | 'stmt' | 'branch' | 'switch' | 'return'
  | 'guardAcquire' | 'guardRelease' | 'cleanup' | 'loopHead';

export interface GuardInfo {
  /** Guard class as written, e.g. `mutex`, `spinlock_irqsave`. */
  type: string;
  /** Argument texts as written in the original source (lock expression first). */
  args: string[];
  /** `scoped_guard` (true) or `guard` (false). */
  scoped: boolean;
  line: number;
  column: number;
  offset: number;
}

export interface CleanupInfo {
  variable: string;
  fn: string;
  line: number;
}

export interface CfgNode {
  id: number;
  kind: CfgKind;
  /** Statement, expression or condition atom this node evaluates (null for synthetic nodes). */
  ast: Node | null;
  /** Successors; for `branch`: [whenTrue, whenFalse]. */
  succ: number[];
  /** 1-based line of the construct (0 for synthetic nodes). */
  line: number;
  guard?: GuardInfo;
  cleanup?: CleanupInfo;
  /** Loop heads of iterator macros: variables the macro reassigns every iteration. */
  assigns?: string[];
  /**
   * Loop heads of iterator macros: the other plain-identifier arguments, which the macro may
   * reassign too (`kvm_for_each_vcpu(i, vcpu, kvm)` moves `vcpu`). Analyses treat those the
   * function itself never assigns (declared without a value, never assigned, never `&`-taken)
   * as reassigned: only the macro gives them values.
   */
  mayAssign?: string[];
  /** What construct created a branch (if, while, for, ?:, switch case...), for traces. */
  construct?: string;
  /** The atom was written under `!` (odd number of times): the source condition is `!atom`. */
  negated?: boolean;
}

export interface Cfg {
  nodes: CfgNode[];
  entry: number;
  exit: number;
  /** Sink of paths ending in a noreturn call. */
  noreturn: number;
  /** All `__free`/`__cleanup` variables seen (for the refcount work). */
  cleanups: CleanupInfo[];
  /** Labels that were jumped to but never defined, etc. */
  problems: string[];
}

export interface CfgOptions {
  /** Original (un-normalised) text, used to read macro spellings inside node ranges. */
  text: string;
  /** Names of functions that never return. */
  noreturn: ReadonlySet<string>;
}

type Scope = { block: number; cleanups: CfgNode[] };

interface Ctx {
  nodes: CfgNode[];
  scopes: Scope[];
  breakTargets: { target: number; depth: number }[];
  continueTargets: { target: number; depth: number }[];
  labels: Map<string, number>;
  labelScopes: Map<string, Set<number>>;
  exit: number;
  sink: number;
  opts: CfgOptions;
  cleanups: CleanupInfo[];
  problems: string[];
}

function lineOf(n: Node): number {
  return n.startPosition.row + 1;
}

/** Split the argument list text `( a, b(c, d), e )` at top-level commas. */
export function splitArgs(text: string, open: number): { args: string[]; end: number } | null {
  if (text[open] !== '(') return null;
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) {
        const last = text.slice(start, i).trim();
        if (last || args.length) args.push(last);
        return { args, end: i + 1 };
      }
    } else if (ch === ',' && depth === 1) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  return null;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

/** `guard(T)(args)` at `offset` in the original text. */
export function readGuard(text: string, offset: number, line: number, column: number): GuardInfo | null {
  const m = /^guard\s*/.exec(text.slice(offset, offset + 16));
  if (!m) return null;
  const t = splitArgs(text, offset + m[0].length);
  if (!t || t.args.length !== 1) return null;
  const a = splitArgs(text, skipSpace(text, t.end));
  if (!a) return null;
  return { type: t.args[0]!, args: a.args, scoped: false, line, column, offset };
}

/** `scoped_guard(T, args)` / `scoped_cond_guard(T, fail, args)` at `offset`. */
export function readScopedGuard(text: string, offset: number, line: number, column: number): GuardInfo | null {
  const m = /^scoped_(cond_)?guard\s*/.exec(text.slice(offset, offset + 24));
  if (!m) return null;
  const a = splitArgs(text, offset + m[0].length);
  if (!a || a.args.length < 1) return null;
  const [type, ...rest] = a.args;
  const args = m[1] ? rest.slice(1) : rest;
  return { type: type!, args, scoped: true, line, column, offset };
}

function add(ctx: Ctx, kind: CfgKind, ast: Node | null, from: number | null, extra: Partial<CfgNode> = {}): number {
  const id = ctx.nodes.length;
  ctx.nodes.push({ id, kind, ast, succ: [], line: ast ? lineOf(ast) : 0, ...extra });
  if (from !== null) ctx.nodes[from]!.succ.push(id);
  return id;
}

function link(ctx: Ctx, from: number | null, to: number): void {
  if (from !== null) ctx.nodes[from]!.succ.push(to);
}

/** Emit the scope-exit actions of scopes deeper than `depth` (innermost first). */
function unwind(ctx: Ctx, from: number | null, depth: number, keep?: Set<number>): number | null {
  let cur = from;
  for (let i = ctx.scopes.length - 1; i >= depth; i--) {
    const s = ctx.scopes[i]!;
    if (keep && keep.has(s.block)) continue;
    for (let j = s.cleanups.length - 1; j >= 0; j--) {
      const c = s.cleanups[j]!;
      cur = add(ctx, c.kind, c.ast, cur, { ...(c.guard ? { guard: c.guard } : {}), ...(c.cleanup ? { cleanup: c.cleanup } : {}), line: c.line });
    }
  }
  return cur;
}

function labelNode(ctx: Ctx, name: string): number {
  let id = ctx.labels.get(name);
  if (id === undefined) {
    id = add(ctx, 'nop', null, null);
    ctx.labels.set(name, id);
  }
  return id;
}

function stripParens(n: Node): Node {
  let cur = n;
  while (cur.type === 'parenthesized_expression' && cur.namedChildCount === 1) cur = cur.namedChild(0)!;
  return cur;
}

/** Build branch nodes for a condition; `t`/`f` are the targets. */
function condition(ctx: Ctx, expr: Node, from: number | null, t: number, f: number, construct: string, neg = false): void {
  const e = stripParens(expr);
  if (e.type === 'unary_expression' && e.child(0)?.type === '!') {
    const arg = e.childForFieldName('argument');
    if (arg) return condition(ctx, arg, from, f, t, construct, !neg);
  }
  if (e.type === 'binary_expression') {
    const op = e.childForFieldName('operator')?.type;
    const l = e.childForFieldName('left');
    const r = e.childForFieldName('right');
    if ((op === '&&' || op === '||') && l && r) {
      const mid = add(ctx, 'nop', null, null);
      if (op === '&&') condition(ctx, l, from, mid, f, construct, neg);
      else condition(ctx, l, from, t, mid, construct, neg);
      condition(ctx, r, mid, t, f, construct, neg);
      return;
    }
  }
  if (e.type === 'conditional_expression') {
    const c = e.childForFieldName('condition');
    const a = e.childForFieldName('consequence');
    const b = e.childForFieldName('alternative');
    if (c && a && b) {
      const m1 = add(ctx, 'nop', null, null);
      const m2 = add(ctx, 'nop', null, null);
      condition(ctx, c, from, m1, m2, '?:');
      condition(ctx, a, m1, t, f, construct, neg);
      condition(ctx, b, m2, t, f, construct, neg);
      return;
    }
  }
  if (e.type === 'comma_expression') {
    const l = e.childForFieldName('left');
    const r = e.childForFieldName('right');
    if (l && r) {
      const s = add(ctx, 'stmt', l, from);
      return condition(ctx, r, s, t, f, construct, neg);
    }
  }
  const b = add(ctx, 'branch', e, from, { construct, ...(neg ? { negated: true } : {}) });
  ctx.nodes[b]!.succ.push(t, f);
}

function calleeName(call: Node): string | null {
  const fn = call.childForFieldName('function');
  return fn && fn.type === 'identifier' ? fn.text : null;
}

function isNoreturnStmt(ctx: Ctx, s: Node): boolean {
  let e = s.type === 'expression_statement' ? s.namedChild(0) : null;
  if (!e) return false;
  e = stripParens(e);
  if (e.type !== 'call_expression') return false;
  const name = calleeName(e);
  return name !== null && ctx.opts.noreturn.has(name);
}

function guardAt(ctx: Ctx, n: Node, scoped: boolean): GuardInfo | null {
  const line = lineOf(n);
  const column = n.startPosition.column + 1;
  return scoped ? readScopedGuard(ctx.opts.text, n.startIndex, line, column) : readGuard(ctx.opts.text, n.startIndex, line, column);
}

function declaredName(d: Node): string | null {
  let cur: Node | null = d;
  for (let i = 0; cur && i < 8; i++) {
    if (cur.type === 'identifier') return cur.text;
    cur = cur.childForFieldName('declarator');
  }
  return null;
}

/** `__free(f)` / `__cleanup(f)` variables declared by a declaration (read from the original text). */
function cleanupsOf(ctx: Ctx, decl: Node): CleanupInfo[] {
  const src = ctx.opts.text.slice(decl.startIndex, decl.endIndex);
  if (!/__free\s*\(|__cleanup\s*\(|__attribute__\s*\(\(\s*cleanup/.test(src)) return [];
  const out: CleanupInfo[] = [];
  for (const d of decl.namedChildren) {
    if (!d || (d.type !== 'init_declarator' && !d.type.endsWith('declarator') && d.type !== 'identifier')) continue;
    const name = declaredName(d);
    if (!name) continue;
    const seg = ctx.opts.text.slice(d.startIndex, d.endIndex);
    // the attribute sits between the declarator name and '=' (or in the declaration before it)
    const m = /(?:__free|__cleanup)\s*\(\s*(\w+)\s*\)|cleanup\s*\(\s*(\w+)\s*\)/.exec(seg) ?? /(?:__free|__cleanup)\s*\(\s*(\w+)\s*\)/.exec(src);
    if (m) out.push({ variable: name, fn: (m[1] ?? m[2])!, line: lineOf(d) });
  }
  return out;
}

function block(ctx: Ctx, b: Node, from: number | null, extraCleanup?: CfgNode): number | null {
  ctx.scopes.push({ block: b.id, cleanups: extraCleanup ? [extraCleanup] : [] });
  let cur = from;
  const kids = b.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment');
  for (let i = 0; i < kids.length; i++) {
    const s = kids[i]!;
    // raw `scoped_guard(T, args) stmt` before the normaliser rewrites it: call statement + next statement
    if (s.type === 'expression_statement' && i + 1 < kids.length && /^scoped_(cond_)?guard\b/.test(ctx.opts.text.slice(s.startIndex, s.startIndex + 20))) {
      const g = guardAt(ctx, s, true);
      if (g) {
        cur = scopedGuard(ctx, g, s, kids[i + 1]!, cur);
        i++;
        continue;
      }
    }
    cur = statement(ctx, s, cur);
  }
  if (cur !== null) cur = unwind(ctx, cur, ctx.scopes.length - 1);
  ctx.scopes.pop();
  return cur;
}

function scopedGuard(ctx: Ctx, g: GuardInfo, at: Node, body: Node, from: number | null): number | null {
  const acq = add(ctx, 'guardAcquire', at, from, { guard: g });
  const rel: CfgNode = { id: -1, kind: 'guardRelease', ast: at, succ: [], line: g.line, guard: g };
  const after = add(ctx, 'nop', null, null);
  // scoped_guard is a for-loop in the kernel: break/continue leave it
  ctx.scopes.push({ block: -1 - at.id, cleanups: [rel] });
  const depth = ctx.scopes.length;
  ctx.breakTargets.push({ target: after, depth: depth - 1 });
  ctx.continueTargets.push({ target: after, depth: depth - 1 });
  let cur: number | null = body.type === 'compound_statement' ? block(ctx, body, acq) : statement(ctx, body, acq);
  ctx.breakTargets.pop();
  ctx.continueTargets.pop();
  if (cur !== null) cur = unwind(ctx, cur, ctx.scopes.length - 1);
  ctx.scopes.pop();
  link(ctx, cur, after);
  return after;
}

function originalKeyword(ctx: Ctx, n: Node): string {
  const m = /^[A-Za-z_]\w*/.exec(ctx.opts.text.slice(n.startIndex, n.startIndex + 64));
  return m ? m[0] : '';
}

function statement(ctx: Ctx, s: Node, from: number | null): number | null {
  switch (s.type) {
    case 'compound_statement':
      return block(ctx, s, from);
    case 'expression_statement': {
      const e = s.namedChild(0);
      if (e && e.type === 'call_expression') {
        const fn = e.childForFieldName('function');
        if (fn && fn.type === 'call_expression' && /^guard\b/.test(ctx.opts.text.slice(s.startIndex, s.startIndex + 6))) {
          const g = guardAt(ctx, s, false);
          if (g) {
            const id = add(ctx, 'guardAcquire', s, from, { guard: g });
            ctx.scopes[ctx.scopes.length - 1]!.cleanups.push({ id: -1, kind: 'guardRelease', ast: s, succ: [], line: g.line, guard: g });
            return id;
          }
        }
      }
      if (e && stripParens(e).type === 'conditional_expression') {
        const c = stripParens(e);
        const cond = c.childForFieldName('condition');
        const a = c.childForFieldName('consequence');
        const b = c.childForFieldName('alternative');
        if (cond && a && b) {
          const m1 = add(ctx, 'nop', null, null);
          const m2 = add(ctx, 'nop', null, null);
          condition(ctx, cond, from, m1, m2, '?:');
          const after = add(ctx, 'nop', null, null);
          link(ctx, add(ctx, 'stmt', a, m1), after);
          link(ctx, add(ctx, 'stmt', b, m2), after);
          return after;
        }
      }
      const id = add(ctx, 'stmt', s, from);
      if (isNoreturnStmt(ctx, s)) {
        link(ctx, id, ctx.sink);
        return null;
      }
      return id;
    }
    case 'declaration': {
      const id = add(ctx, 'stmt', s, from);
      const cl = cleanupsOf(ctx, s);
      for (const c of cl) {
        ctx.cleanups.push(c);
        ctx.scopes[ctx.scopes.length - 1]!.cleanups.push({ id: -1, kind: 'cleanup', ast: s, succ: [], line: c.line, cleanup: c });
      }
      return id;
    }
    case 'if_statement': {
      const cons = s.childForFieldName('consequence');
      const kw = originalKeyword(ctx, s);
      if (kw === 'scoped_guard' || kw === 'scoped_cond_guard') {
        const g = guardAt(ctx, s, true);
        if (g && cons) return scopedGuard(ctx, g, s, cons, from);
      }
      const cond = s.childForFieldName('condition');
      const alt = s.childForFieldName('alternative');
      const t = add(ctx, 'nop', null, null);
      const f = add(ctx, 'nop', null, null);
      if (cond) condition(ctx, cond, from, t, f, 'if');
      else {
        link(ctx, from, t);
        link(ctx, from, f);
      }
      const after = add(ctx, 'nop', null, null);
      link(ctx, cons ? statement(ctx, cons, t) : t, after);
      let fEnd: number | null = f;
      if (alt) {
        const inner = alt.type === 'else_clause' ? alt.namedChildren.find((c) => c !== null && c.type !== 'comment') ?? null : alt;
        if (inner) fEnd = statement(ctx, inner, f);
      }
      link(ctx, fEnd, after);
      return after;
    }
    case 'while_statement':
    case 'for_statement':
    case 'do_statement': {
      const kw = originalKeyword(ctx, s);
      if (s.type !== 'do_statement' && (kw === 'scoped_guard' || kw === 'scoped_cond_guard')) {
        const g = guardAt(ctx, s, true);
        const body = s.childForFieldName('body');
        if (g && body) return scopedGuard(ctx, g, s, body, from);
      }
      const macro = kw !== 'while' && kw !== 'for' && kw !== 'do' ? kw : '';
      const after = add(ctx, 'nop', null, null);
      let cur = from;
      if (s.type === 'for_statement' && !macro) {
        const init = s.childForFieldName('initializer');
        if (init) cur = add(ctx, 'stmt', init, cur);
      }
      let assigns: string[] | undefined;
      let mayAssign: string[] | undefined;
      if (macro) {
        const a = splitArgs(ctx.opts.text, skipSpace(ctx.opts.text, s.startIndex + macro.length));
        const first = a?.args[0];
        if (first && /^\w+$/.test(first)) assigns = [first];
        else assigns = [];
        const rest = (a?.args.slice(1) ?? []).map((x) => x.trim()).filter((x) => /^[A-Za-z_]\w*$/.test(x) && x !== first);
        if (rest.length) mayAssign = rest;
      }
      const head = add(ctx, 'loopHead', s, null, { ...(assigns ? { assigns } : {}), ...(mayAssign ? { mayAssign } : {}), construct: macro || kw });
      const cond = macro ? null : s.childForFieldName('condition');
      const update = s.type === 'for_statement' && !macro ? s.childForFieldName('update') : null;
      const body = s.childForFieldName('body');
      const bodyStart = add(ctx, 'nop', null, null);
      const contTarget = update ? add(ctx, 'stmt', update, null) : head;
      if (update) link(ctx, contTarget, head);
      const depth = ctx.scopes.length;
      if (s.type === 'do_statement') {
        link(ctx, cur, bodyStart);
        const condStart = add(ctx, 'nop', null, null);
        ctx.breakTargets.push({ target: after, depth });
        ctx.continueTargets.push({ target: condStart, depth });
        const end = body ? statement(ctx, body, bodyStart) : bodyStart;
        ctx.breakTargets.pop();
        ctx.continueTargets.pop();
        link(ctx, end, condStart);
        link(ctx, condStart, head);
        if (cond) condition(ctx, cond, head, bodyStart, after, 'do-while');
        else link(ctx, head, after);
        return after;
      }
      link(ctx, cur, head);
      if (cond) condition(ctx, cond, head, bodyStart, after, s.type === 'for_statement' ? 'for' : 'while');
      else if (macro) {
        link(ctx, head, bodyStart);
        link(ctx, head, after);
      } else link(ctx, head, bodyStart); // for (;;)
      ctx.breakTargets.push({ target: after, depth });
      ctx.continueTargets.push({ target: contTarget, depth });
      const end = body ? statement(ctx, body, bodyStart) : bodyStart;
      ctx.breakTargets.pop();
      ctx.continueTargets.pop();
      link(ctx, end, contTarget);
      return after;
    }
    case 'switch_statement': {
      const cond = s.childForFieldName('condition');
      const sw = add(ctx, 'switch', cond ?? s, add(ctx, 'stmt', cond ?? s, from), { construct: 'switch' });
      const after = add(ctx, 'nop', null, null);
      const body = s.childForFieldName('body');
      const depth = ctx.scopes.length;
      ctx.breakTargets.push({ target: after, depth });
      let cur: number | null = null;
      let hasDefault = false;
      if (body) {
        ctx.scopes.push({ block: body.id, cleanups: [] });
        for (const c of body.namedChildren) {
          if (!c || c.type === 'comment') continue;
          if (c.type === 'case_statement') {
            const isDefault = c.child(0)?.type === 'default';
            if (isDefault) hasDefault = true;
            const lbl = add(ctx, 'nop', c, sw, { construct: isDefault ? 'default' : 'case' });
            link(ctx, cur, lbl);
            cur = lbl;
            const value = c.childForFieldName('value');
            for (const st of c.namedChildren) {
              if (!st || st === value || st.type === 'comment' || (value && st.id === value.id)) continue;
              cur = statement(ctx, st, cur);
            }
          } else cur = statement(ctx, c, cur);
        }
        if (cur !== null) cur = unwind(ctx, cur, ctx.scopes.length - 1);
        ctx.scopes.pop();
      }
      ctx.breakTargets.pop();
      link(ctx, cur, after);
      if (!hasDefault) link(ctx, sw, after);
      return after;
    }
    case 'break_statement':
    case 'continue_statement': {
      const stack = s.type === 'break_statement' ? ctx.breakTargets : ctx.continueTargets;
      const tgt = stack[stack.length - 1];
      const id = add(ctx, 'nop', s, from);
      if (tgt) link(ctx, unwind(ctx, id, tgt.depth), tgt.target);
      else ctx.problems.push(`${s.type} outside loop at line ${lineOf(s)}`);
      return null;
    }
    case 'return_statement': {
      const id = add(ctx, 'return', s, from);
      link(ctx, unwind(ctx, id, 0), ctx.exit);
      return null;
    }
    case 'goto_statement': {
      const label = s.childForFieldName('label')?.text ?? '';
      const id = add(ctx, 'nop', s, from, { construct: 'goto' });
      const keep = ctx.labelScopes.get(label);
      if (!keep) ctx.problems.push(`goto to unknown label ${label} at line ${lineOf(s)}`);
      link(ctx, unwind(ctx, id, 0, keep ?? new Set(ctx.scopes.map((x) => x.block))), labelNode(ctx, label));
      return null;
    }
    case 'labeled_statement': {
      const label = s.childForFieldName('label')?.text ?? '';
      const id = labelNode(ctx, label);
      ctx.nodes[id]!.line = lineOf(s);
      link(ctx, from, id);
      const inner = s.namedChildren.find((c) => c !== null && c.type !== 'statement_identifier' && c.type !== 'comment');
      return inner ? statement(ctx, inner, id) : id;
    }
    case 'comment':
    case ';':
      return from;
    default:
      return add(ctx, 'stmt', s, from);
  }
}

/** Block ids enclosing each label (so a goto knows which scopes it leaves). */
function collectLabelScopes(body: Node): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  const walk = (n: Node, blocks: number[]): void => {
    if (n.type === 'labeled_statement') {
      const l = n.childForFieldName('label')?.text;
      if (l) out.set(l, new Set(blocks));
    }
    const nb = n.type === 'compound_statement' ? [...blocks, n.id] : blocks;
    for (const c of n.namedChildren) {
      if (c && c.type !== 'expression_statement' && c.type !== 'declaration' && c.type !== 'comment') walk(c, nb);
    }
  };
  walk(body, []);
  return out;
}

export function buildCfg(fn: Node, opts: CfgOptions): Cfg {
  const nodes: CfgNode[] = [];
  const ctx: Ctx = {
    nodes, scopes: [], breakTargets: [], continueTargets: [], labels: new Map(), labelScopes: new Map(),
    exit: -1, sink: -1, opts, cleanups: [], problems: [],
  };
  const entry = add(ctx, 'entry', null, null);
  ctx.exit = add(ctx, 'exit', null, null);
  ctx.sink = add(ctx, 'noreturn', null, null);
  const body = fn.childForFieldName('body');
  if (body) {
    ctx.labelScopes = collectLabelScopes(body);
    const end = block(ctx, body, entry);
    if (end !== null) {
      const endLine = body.endPosition.row + 1;
      const r = add(ctx, 'return', null, end, { line: endLine });
      link(ctx, r, ctx.exit);
    }
  } else link(ctx, entry, ctx.exit);
  return { nodes, entry, exit: ctx.exit, noreturn: ctx.sink, cleanups: ctx.cleanups, problems: ctx.problems };
}

/**
 * Ids of the nodes that lie on a cycle of the CFG (a loop, or a backward
 * `goto retry`): the members of strongly connected components with more than
 * one node or a self-edge. Iterative Tarjan, linear in the graph.
 */
export function cyclicNodes(cfg: Cfg): Set<number> {
  const n = cfg.nodes.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const out = new Set<number>();
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length) {
      const top = work[work.length - 1]!;
      const [v, i] = top;
      const succ = cfg.nodes[v]?.succ ?? [];
      if (i < succ.length) {
        top[1]++;
        const w = succ[i]!;
        if (w < 0 || w >= n) continue;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          work.push([w, 0]);
        } else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      if (work.length) {
        const u = work[work.length - 1]![0];
        low[u] = Math.min(low[u]!, low[v]!);
      }
      if (low[v] !== index[v]) continue;
      const comp: number[] = [];
      for (;;) {
        const w = stack.pop()!;
        onStack[w] = 0;
        comp.push(w);
        if (w === v) break;
      }
      if (comp.length > 1 || succ.includes(v)) for (const w of comp) out.add(w);
    }
  }
  return out;
}
