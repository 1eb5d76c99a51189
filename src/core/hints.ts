/**
 * Editor hints as plain data (no `vscode`): per function, where each lock is
 * held (line ranges), the held set at each `return`/`goto` that leaves with
 * locks held, the refcount effect of each refcount/lookup-structure call, and
 * every call with the held set at that point (for hovers and for the host to
 * resolve learned wrappers against the workspace index), plus the struct types
 * of the refcounted objects the function handles (CodeLens) and the unlock
 * labels it has (code actions).
 *
 * The held sets come from a forward walk over the function's CFG with the
 * catalog's unconditional lock operations and `guard()`s (the same effects the
 * refcount rules trust): a lock is "held" at a node when some path reaches it
 * holding the lock; `uncertain` marks locks not held on every path.
 */
import type { SyntaxNode as Node } from './parse/syntax';
import { lockKey as lockKeyOf } from './analysis/lockid';
import { builtinCatalog, indexCatalog, type Catalog, type CatalogIndex } from './catalog/index';
import { indexRefcountCatalog, type RefcountCatalogIndex } from './catalog/refcount';
import { splitArgs } from './cfg/build';
import type { FunctionInfo, ParsedFile } from './parse/source';
import { callsOf, cfgOf, lockEffects, rootVar, walkPaths, type CallSite, type Env } from './rules/refcount/walk';
import type { IncompleteFunction, Position, Span } from './types';
import { lineStarts, posOf } from './util/text';

export interface HeldEntry {
  /** Lock identity key (`fd.lock`, `rcu`). */
  key: string;
  /** As written at the acquire, without a leading `&` (`fd->lock`, `RCU read`). */
  label: string;
  /** Acquired by `guard()`/`scoped_guard`: released automatically when the scope ends. */
  guard?: boolean;
  /** Held on some but not all paths reaching this point. */
  uncertain?: boolean;
}

export interface LockScope {
  key: string;
  label: string;
  /** Lock kind from the catalog (`mutex`, `spinlock`, `rcu`, ...). */
  kind: string;
  /** 1-based inclusive line ranges where the lock is held. */
  ranges: Array<{ start: number; end: number }>;
}

export interface ExitHint {
  kind: 'return' | 'goto';
  at: Span;
  /** Locks held when leaving (guard-held locks, released automatically, are not listed). */
  held: HeldEntry[];
  /** Goto target label. */
  target?: string;
}

export type RefHintKind = 'get' | 'put' | 'put-release' | 'cond-get' | 'init' | 'transfer';

export interface RefHint {
  kind: RefHintKind;
  /** Inlay text: `+1 obj`, `−1 obj · may free`, `+1 obj if ≠0`, `ref → dev->idr`. */
  label: string;
  callee: string;
  /** The object (root variable) whose count changes, or the stored object for a transfer. */
  object: string;
  /** Declared type of the object variable (`struct foo`), when the function declares it. */
  objectType?: string;
  /** Counter kind of the primitive (`kref`, `refcount`, ...); the container kind for a transfer. */
  counterKind: string;
  /** Span of the whole call. */
  at: Span;
}

export type CallCategory = 'lock' | 'refcount' | 'rcu' | 'container' | 'free' | 'call';

export interface CallHint {
  callee: string;
  at: Span;
  /** Span of the callee name (hover target). */
  nameAt: Span;
  args: string[];
  /** Locks held just before the call. */
  held: HeldEntry[];
  category: CallCategory;
  /** One-line description of what the primitive does (catalog primitives only). */
  effect?: string;
  /** Declared type of each argument's root variable (null when unknown). */
  argTypes: Array<string | null>;
  /** The call's value is ignored (expression statement). */
  ignored: boolean;
}

export interface UnlockLabel {
  label: string;
  line: number;
  /** Lock keys released by the statements after the label (before the next return). */
  releases: string[];
  /** The variable the code after the label returns (`return ret;`), `''` for `return;`, null for a constant or none. */
  returns: string | null;
}

export interface FunctionHints {
  name: string;
  span: Span;
  /** Position of the function's `{`. */
  bodyStart: Position;
  lockScopes: LockScope[];
  exits: ExitHint[];
  refOps: RefHint[];
  calls: CallHint[];
  /** Struct types of the refcounted objects the function gets, puts or stores (catalog primitives). */
  objectTypes: string[];
  unlockLabels: UnlockLabel[];
  /** What the function returns, for generated failure branches. */
  returns: 'void' | 'pointer' | 'value';
  /** The held-set walk stopped early (src/core/budget.ts): lock scopes and held sets cover only the paths it followed. */
  heldWalkStopped?: IncompleteFunction['reason'];
}

export interface FileHints {
  functions: FunctionHints[];
}

/* ------------------------------------------------------------ helpers */

function pos(env: Env, offset: number): Position {
  const p = posOf(env.starts, offset);
  return { line: p.line, column: p.column, offset };
}

function spanAt(env: Env, start: number, end: number): Span {
  return { start: pos(env, start), end: pos(env, end) };
}

function lockLabel(text: string): string {
  return text.trim().replace(/^&\s*/, '').replace(/^\((.*)\)$/, '$1');
}

/** Variables declared in a function (parameters and locals) -> type as written (`struct foo`, `foo_t`). */
function declaredTypes(fn: Node, text: string): Map<string, string> {
  const out = new Map<string, string>();
  const nameOf = (d: Node | null): string | null => {
    for (let i = 0; d && i < 8; i++) {
      if (d.type === 'identifier') return d.text;
      d = d.childForFieldName('declarator');
    }
    return null;
  };
  const typeOf = (decl: Node): string | null => {
    const t = decl.childForFieldName('type');
    if (!t) return null;
    if (t.type === 'struct_specifier' || t.type === 'union_specifier') {
      const n = t.childForFieldName('name');
      return n ? `${t.type === 'struct_specifier' ? 'struct' : 'union'} ${n.text}` : null;
    }
    if (t.type === 'type_identifier') return text.slice(t.startIndex, t.endIndex);
    return null;
  };
  for (const n of fn.descendantsOfType(['parameter_declaration', 'declaration'])) {
    if (!n) continue;
    const t = typeOf(n);
    if (!t) continue;
    for (const d of n.childrenForFieldName('declarator')) {
      const name = d ? nameOf(d) : null;
      if (name) out.set(name, t);
    }
  }
  return out;
}

function describeLockOp(cat: CatalogIndex, name: string): string | undefined {
  const op = cat.lockOps.get(name);
  if (!op) return undefined;
  const what = op.kind === 'rcu' ? 'RCU read-side section' : op.kind;
  if (op.op === 'release') return `releases the ${what}`;
  if (op.cond === 'nonzero') return `acquires the ${what} when it returns non-zero`;
  if (op.cond === 'zero') return `acquires the ${what} when it returns 0`;
  return `acquires the ${what}${op.mode ? ` (${op.mode})` : ''}`;
}

/** Kind of a RefHint and its inlay text for a refcount primitive. */
function refHintOf(rc: RefcountCatalogIndex, c: CallSite, types: Map<string, string>): Omit<RefHint, 'at'> | null {
  const op = rc.refOps.get(c.name);
  if (op) {
    const arg = c.args[op.counterArg];
    const object = arg ? rootVar(arg) ?? arg : '?';
    const base = { callee: c.name, object, counterKind: op.counterKind, ...(types.has(object) ? { objectType: types.get(object)! } : {}) };
    switch (op.effect) {
      case 'get':
        return { ...base, kind: 'get', label: `+1 ${object}` };
      case 'get-unless-zero':
        return { ...base, kind: 'cond-get', label: `+1 ${object} if ≠0` };
      case 'put':
        return { ...base, kind: 'put', label: `−1 ${object}` };
      case 'put-release':
      case 'kill':
        return { ...base, kind: 'put-release', label: `−1 ${object} · may free` };
      case 'init':
        return { ...base, kind: 'init', label: `ref = 1 ${object}` };
      case 'read':
        return null;
    }
  }
  const co = rc.containerOps.get(c.name);
  if (co && co.op === 'insert' && co.elemArg >= 0 && co.headArg >= 0) {
    const elem = c.args[co.elemArg];
    const head = c.args[co.headArg];
    if (!elem || !head) return null;
    const object = rootVar(elem) ?? elem;
    return {
      kind: 'transfer', label: `ref → ${lockLabel(head)}`, callee: c.name, object, counterKind: co.container,
      ...(types.has(object) ? { objectType: types.get(object)! } : {}),
    };
  }
  if (rc.rcuAssign.has(c.name) && c.args.length >= 2) {
    const object = rootVar(c.args[1]!) ?? c.args[1]!;
    if (object === 'NULL') return null;
    return {
      kind: 'transfer', label: `ref → ${lockLabel(c.args[0]!)}`, callee: c.name, object, counterKind: 'rcu-pointer',
      ...(types.has(object) ? { objectType: types.get(object)! } : {}),
    };
  }
  return null;
}

function describeRefOp(h: Omit<RefHint, 'at'>): string {
  switch (h.kind) {
    case 'get':
      return `takes a reference on \`${h.object}\` (+1, ${h.counterKind})`;
    case 'cond-get':
      return `takes a reference on \`${h.object}\` only if its count is not zero (returns true on success); the result must be checked`;
    case 'put':
      return `drops a reference on \`${h.object}\` (−1, ${h.counterKind})`;
    case 'put-release':
      return `drops a reference on \`${h.object}\`; the last put runs the release and may free it`;
    case 'init':
      return `initialises the count of \`${h.object}\` (the caller holds the first reference)`;
    case 'transfer':
      return `stores \`${h.object}\` in \`${h.label.slice(6)}\` (${h.counterKind}): the structure's pointer needs a reference of its own or a lock/RCU rule for lookups`;
  }
}

function categoryOf(env: Env, name: string): CallCategory {
  const op = env.cat.lockOps.get(name);
  if (op) return op.kind === 'rcu' ? 'rcu' : 'lock';
  if (env.rc.refOps.has(name)) return 'refcount';
  if (env.rc.rcuOps.has(name) || env.rc.rcuDereference.has(name) || env.rc.rcuAssign.has(name)) return 'rcu';
  if (env.rc.containerOps.has(name)) return 'container';
  if (env.rc.frees.has(name)) return 'free';
  return 'call';
}

function returnKind(env: Env, fn: Node, body: Node): FunctionHints['returns'] {
  const head = env.text.slice(fn.startIndex, body.startIndex);
  const name = head.indexOf('(');
  const before = name >= 0 ? head.slice(0, name) : head;
  if (/\*\s*\w+\s*$/.test(before)) return 'pointer';
  if (/(^|\s)void\s+\w+\s*$/.test(before)) return 'void';
  return 'value';
}

const RETURN_VAR = /^\s*return\s*([A-Za-z_]\w*)?\s*;/;

function unlockLabels(env: Env, body: Node): UnlockLabel[] {
  const out: UnlockLabel[] = [];
  for (const n of body.descendantsOfType('labeled_statement')) {
    if (n) {
      const label = n.childForFieldName('label')?.text ?? '';
      // statements from the label to the next return, in this block
      const releases: string[] = [];
      let returns: string | null = null;
      const stmts: Node[] = [];
      const inner = n.namedChildren.find((c) => c !== null && c.type !== 'statement_identifier' && c.type !== 'comment');
      if (inner) stmts.push(inner);
      for (let s = n.nextNamedSibling; s; s = s.nextNamedSibling) stmts.push(s);
      for (const s of stmts) {
        let stop = false;
        const scan = (x: Node): void => {
          if (x.type === 'labeled_statement' && x.id !== n.id) {
            const i = x.namedChildren.find((c) => c !== null && c.type !== 'statement_identifier' && c.type !== 'comment');
            if (i) scan(i);
            return;
          }
          if (x.type === 'return_statement') {
            const m = RETURN_VAR.exec(env.text.slice(x.startIndex, x.endIndex));
            returns = m ? m[1] ?? '' : null;
            stop = true;
            return;
          }
          if (x.type === 'call_expression') {
            const f = x.childForFieldName('function');
            const a = x.childForFieldName('arguments');
            const op = f ? env.cat.lockOps.get(f.text) : undefined;
            if (op && op.op === 'release' && a) {
              const args = a.namedChildren.filter((c): c is Node => c !== null);
              if (op.kind === 'rcu') releases.push('rcu');
              else if (op.lockArg >= 0 && args[op.lockArg]) releases.push(lockKeyOf(env.text.slice(args[op.lockArg]!.startIndex, args[op.lockArg]!.endIndex)));
            }
          }
          if (x.type === 'compound_statement' || x.type === 'expression_statement' || x.type === 'call_expression') {
            for (const c of x.namedChildren) if (c && !stop) scan(c);
          }
        };
        scan(s);
        if (stop) break;
      }
      if (releases.length) out.push({ label, line: n.startPosition.row + 1, releases, returns });
    }
  }
  return out;
}

/* ------------------------------------------------------------ per function */

interface WalkState {
  /** Sorted `key` or `key#g` (guard) entries. */
  held: string[];
}

const sortedAdd = (a: string[], x: string): string[] => (a.includes(x) ? a : [...a, x].sort());

const NOT_CALLS = new Set(['if', 'while', 'for', 'switch', 'return', 'sizeof', 'typeof', '__typeof__', 'defined', 'case', 'do', 'else', '_Generic', 'alignof', '_Alignof', 'offsetof', '__builtin_expect']);
const CALL_OR_SKIP = /\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|\b([A-Za-z_]\w*)\s*\(/g;

/** Called names with their offsets in `text[from, to)` (comments and literals skipped). */
function scanCalls(text: string, from: number, to: number): Array<{ name: string; start: number; open: number }> {
  const out: Array<{ name: string; start: number; open: number }> = [];
  const src = text.slice(from, to);
  CALL_OR_SKIP.lastIndex = 0;
  for (let m = CALL_OR_SKIP.exec(src); m; m = CALL_OR_SKIP.exec(src)) {
    const name = m[1];
    if (!name || NOT_CALLS.has(name)) continue;
    out.push({ name, start: from + m.index, open: from + m.index + m[0].length - 1 });
  }
  return out;
}

/** Does the function use anything the full hints look at (locks, guards, refcounts, RCU, lookup structures, frees)? */
function needsFullHints(env: Env, names: ReadonlyArray<{ name: string }>, bodyText: string): boolean {
  if (/\b(?:scoped_)?guard\s*\(/.test(bodyText)) return true;
  for (const { name } of names) {
    if (env.cat.lockOps.has(name) || env.rc.refOps.has(name) || env.rc.rcuOps.has(name) || env.rc.containerOps.has(name)
      || env.rc.frees.has(name) || env.rc.rcuAssign.has(name) || env.rc.rcuDereference.has(name)) return true;
  }
  return false;
}

/**
 * Hints of a function that takes no lock and touches no refcount: no scopes,
 * exits or refcount effects, only its calls (for learned wrappers), found by a
 * text scan instead of a CFG walk (most functions of a driver are like this).
 */
function lightHints(env: Env, fn: FunctionInfo, body: Node, calls: ReadonlyArray<{ name: string; start: number; open: number }>): FunctionHints {
  const types = declaredTypes(fn.node, env.text);
  const out: CallHint[] = [];
  for (const c of calls) {
    const sa = splitArgs(env.text, c.open);
    if (!sa || sa.end > fn.node.endIndex) continue;
    out.push({
      callee: c.name,
      at: spanAt(env, c.start, sa.end),
      nameAt: spanAt(env, c.start, c.start + c.name.length),
      args: sa.args,
      held: [],
      category: 'call',
      argTypes: sa.args.map((a) => {
        const r = rootVar(a);
        return r ? types.get(r) ?? null : null;
      }),
      ignored: false,
    });
  }
  return {
    name: fn.name,
    span: spanAt(env, fn.node.startIndex, fn.node.endIndex),
    bodyStart: pos(env, body.startIndex),
    lockScopes: [],
    exits: [],
    refOps: [],
    calls: out,
    objectTypes: [],
    unlockLabels: [],
    returns: returnKind(env, fn.node, body),
  };
}

function functionHints(env: Env, fn: FunctionInfo): FunctionHints | null {
  const body = fn.node.childForFieldName('body');
  if (!body) return null;
  const scanned = scanCalls(env.text, body.startIndex, body.endIndex);
  if (!needsFullHints(env, scanned, env.text.slice(body.startIndex, body.endIndex))) return lightHints(env, fn, body, scanned);
  const cfg = cfgOf(env, fn);
  const types = declaredTypes(fn.node, env.text);
  const labels = new Map<string, { label: string; kind: string }>();
  const hints: FunctionHints = {
    name: fn.name,
    span: spanAt(env, fn.node.startIndex, fn.node.endIndex),
    bodyStart: pos(env, body.startIndex),
    lockScopes: [],
    exits: [],
    refOps: [],
    calls: [],
    objectTypes: [],
    unlockLabels: unlockLabels(env, body),
    returns: returnKind(env, fn.node, body),
  };
  if (!cfg) return hints;
  // Per node: the calls it evaluates (computed once), paths seen, how often each held entry was seen.
  const callCache = new Map<number, CallSite[]>();
  const callsAt = (id: number): CallSite[] => {
    let c = callCache.get(id);
    if (!c) callCache.set(id, (c = callsOf(env, cfg.nodes[id]!)));
    return c;
  };
  const seenIn = new Map<number, { paths: number; count: Map<string, number> }>();
  const heldAfter = new Map<number, Set<string>>();
  const transfer = (id: number, s: WalkState): WalkState => {
    const node = cfg.nodes[id]!;
    let held = s.held;
    for (const e of lockEffects(env, node, callsAt(id))) {
      if (e.op === 'acquire') {
        const g = node.kind === 'guardAcquire';
        held = sortedAdd(held, g ? `${e.key}#g` : e.key);
        if (!labels.has(e.key)) {
          const kind = g ? env.cat.guards.get(node.guard?.type ?? '')?.kind ?? node.guard?.type ?? 'lock'
            : env.cat.lockOps.get(callsAt(id).find((c) => c.start === e.start)?.name ?? '')?.kind ?? 'lock';
          const call = callsAt(id).find((c) => c.start === e.start);
          const op = call ? env.cat.lockOps.get(call.name) : undefined;
          const written = e.key === 'rcu' ? 'RCU read'
            : g ? lockLabel(node.guard?.args[0] ?? e.key)
              : op && call && op.lockArg >= 0 && call.args[op.lockArg] ? lockLabel(call.args[op.lockArg]!) : e.key;
          labels.set(e.key, { label: written, kind: String(kind) });
        }
      } else {
        held = held.filter((h) => h !== e.key && h !== `${e.key}#g`);
      }
    }
    return held === s.held ? s : { held };
  };
  const stopped = walkPaths<WalkState>(cfg, { held: [] }, (s) => s.held.join(','), (node, s, succIndex) => {
    if (succIndex === 0) {
      let rec = seenIn.get(node.id);
      if (!rec) seenIn.set(node.id, (rec = { paths: 0, count: new Map() }));
      rec.paths++;
      for (const h of s.held) rec.count.set(h, (rec.count.get(h) ?? 0) + 1);
    }
    const out = transfer(node.id, s);
    if (succIndex === 0) {
      let a = heldAfter.get(node.id);
      if (!a) heldAfter.set(node.id, (a = new Set()));
      for (const h of out.held) a.add(h.replace(/#g$/, ''));
    }
    return out;
  });
  if (stopped) hints.heldWalkStopped = stopped;
  // Nodes without successors (exit, noreturn sink) never get a transfer call: they carry no lines anyway.
  const heldMemo = new Map<number, HeldEntry[]>();
  const heldEntries = (id: number): HeldEntry[] => {
    const memo = heldMemo.get(id);
    if (memo) return memo;
    const rec = seenIn.get(id);
    if (!rec) return [];
    const out: HeldEntry[] = [];
    for (const [h, n] of rec.count) {
      const guard = h.endsWith('#g');
      const key = guard ? h.slice(0, -2) : h;
      out.push({ key, label: labels.get(key)?.label ?? key, ...(guard ? { guard: true } : {}), ...(n < rec.paths ? { uncertain: true } : {}) });
    }
    out.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    heldMemo.set(id, out);
    return out;
  };

  // Lock scope lines.
  const heldLines = new Map<string, Set<number>>();
  const nodeLines = new Set<number>();
  const mark = (key: string, a: number, b: number): void => {
    let set = heldLines.get(key);
    if (!set) heldLines.set(key, (set = new Set()));
    for (let l = a; l <= b; l++) set.add(l);
  };
  for (const node of cfg.nodes) {
    const ast = node.ast;
    if (!ast || !seenIn.has(node.id)) continue;
    const a = ast.startPosition.row + 1;
    const multi = node.kind === 'stmt' || node.kind === 'return' || node.construct === 'goto';
    const spanTypes = ast.type === 'expression_statement' || ast.type === 'declaration' || ast.type === 'return_statement' || ast.type === 'goto_statement';
    const b = multi && spanTypes ? ast.endPosition.row + 1 : a;
    for (let l = a; l <= b; l++) nodeLines.add(l);
    const keys = new Set<string>([...heldEntries(node.id).map((h) => h.key), ...(heldAfter.get(node.id) ?? [])]);
    for (const k of keys) mark(k, a, b);
  }
  for (const [key, lines] of heldLines) {
    const sorted = [...lines].sort((x, y) => x - y);
    const ranges: Array<{ start: number; end: number }> = [];
    for (const l of sorted) {
      const last = ranges[ranges.length - 1];
      if (last) {
        // bridge lines without any CFG node (blank lines, braces, labels, comments)
        let gapFree = true;
        for (let g = last.end + 1; g < l; g++) if (nodeLines.has(g)) gapFree = false;
        if (gapFree) {
          last.end = l;
          continue;
        }
      }
      ranges.push({ start: l, end: l });
    }
    const info = labels.get(key);
    hints.lockScopes.push({ key, label: info?.label ?? key, kind: info?.kind ?? 'lock', ranges });
  }
  hints.lockScopes.sort((a, b) => (a.ranges[0]?.start ?? 0) - (b.ranges[0]?.start ?? 0));

  // Exits, calls and refcount effects.
  const objectTypes = new Set<string>();
  for (const node of cfg.nodes) {
    const ast = node.ast;
    if (!ast || !seenIn.has(node.id)) continue;
    const held = heldEntries(node.id);
    if ((node.kind === 'return' && ast.type === 'return_statement') || node.construct === 'goto') {
      const leaving = held.filter((h) => !h.guard);
      if (leaving.length) {
        const target = node.construct === 'goto' ? ast.childForFieldName('label')?.text : undefined;
        hints.exits.push({ kind: node.construct === 'goto' ? 'goto' : 'return', at: spanAt(env, ast.startIndex, ast.endIndex), held: leaving, ...(target ? { target } : {}) });
      }
    }
    // held before each call: apply the lock effects of earlier calls of the same node
    let running = held;
    for (const c of callsAt(node.id)) {
      if (!/^[A-Za-z_]\w*$/.test(c.name)) continue;
      const category = categoryOf(env, c.name);
      const ref = refHintOf(env.rc, c, types);
      const effect = describeLockOp(env.cat, c.name) ?? (ref ? describeRefOp(ref) : undefined) ?? describeOther(env, c.name);
      // Only refcount calls need it (code actions); each parent lookup is a WASM call.
      const parent = category === 'refcount' ? c.node?.parent : undefined;
      hints.calls.push({
        callee: c.name,
        at: spanAt(env, c.start, c.end),
        // the callee is a plain identifier (checked above) at the start of the call
        nameAt: spanAt(env, c.start, c.start + c.name.length),
        args: c.args,
        held: running,
        category,
        ...(effect ? { effect } : {}),
        argTypes: c.args.map((a) => {
          const r = rootVar(a);
          return r ? types.get(r) ?? null : null;
        }),
        ignored: parent?.type === 'expression_statement',
      });
      if (ref) {
        hints.refOps.push({ ...ref, at: spanAt(env, c.start, c.end) });
        if (ref.objectType && /^(struct|union) /.test(ref.objectType) && ref.kind !== 'transfer') objectTypes.add(ref.objectType);
      }
      const op = env.cat.lockOps.get(c.name);
      if (op && !op.cond) {
        const key = op.kind === 'rcu' ? 'rcu' : op.lockArg >= 0 && c.args[op.lockArg] ? lockKeyOf(c.args[op.lockArg]!) : null;
        if (key) {
          running = op.op === 'acquire'
            ? (running.some((h) => h.key === key) ? running : [...running, { key, label: labels.get(key)?.label ?? key }])
            : running.filter((h) => h.key !== key);
        }
      }
    }
  }
  hints.calls.sort((a, b) => a.at.start.offset - b.at.start.offset);
  hints.refOps.sort((a, b) => a.at.start.offset - b.at.start.offset);
  hints.exits.sort((a, b) => a.at.start.offset - b.at.start.offset);
  hints.objectTypes = [...objectTypes].sort();
  return hints;
}

function describeOther(env: Env, name: string): string | undefined {
  const r = env.rc.rcuOps.get(name);
  if (r) {
    switch (r.kind) {
      case 'call_rcu':
        return 'queues a callback to run after an RCU grace period (must run at most once per object)';
      case 'kfree_rcu':
        return 'frees the object after an RCU grace period';
      case 'synchronize_rcu':
        return 'waits for an RCU grace period (sleeps)';
      case 'rcu_barrier':
        return 'waits for every queued RCU callback';
    }
  }
  if (env.rc.rcuDereference.has(name)) return 'reads an RCU-protected pointer (needs rcu_read_lock or the update-side lock)';
  if (env.rc.rcuAssign.has(name)) return 'publishes a pointer to RCU readers';
  const co = env.rc.containerOps.get(name);
  if (co) return `${co.op} on a ${co.container}${co.rcu ? ' (RCU-safe)' : ''}`;
  const fr = env.rc.frees.get(name);
  if (fr) return fr.deferred ? 'frees the object after a grace period' : 'frees the object immediately';
  return undefined;
}

let lastStarts: { text: string; starts: number[] } | undefined;

/** lineStarts of the last text seen (an incremental update asks for the same text twice). */
function startsOf(text: string): number[] {
  if (lastStarts?.text !== text) lastStarts = { text, starts: lineStarts(text) };
  return lastStarts.starts;
}

/**
 * Hints for the functions of a parsed file (all of them, or `only`). Never
 * throws: a function the hints fail on is left out.
 */
let defaultCatalog: Catalog | undefined;

export function computeHints(parsed: ParsedFile, file: string, catalog: Catalog = (defaultCatalog ??= builtinCatalog()), only?: readonly FunctionInfo[]): FileHints {
  const env: Env = { parsed, file, text: parsed.text, starts: startsOf(parsed.text), cat: indexCatalog(catalog), rc: indexRefcountCatalog() };
  const out: FunctionHints[] = [];
  for (const fn of only ?? parsed.functions) {
    try {
      const h = functionHints(env, fn);
      if (h) out.push(h);
    } catch {
      // a function the hints cannot handle gets none
    }
  }
  return { functions: out };
}

/* ------------------------------------------------------------ shifting (incremental reuse) */

function shiftPos(p: Position, dLine: number, dOff: number): Position {
  return { line: p.line + dLine, column: p.column, offset: p.offset + dOff };
}

function shiftSpan(s: Span, dLine: number, dOff: number): Span {
  return { start: shiftPos(s.start, dLine, dOff), end: shiftPos(s.end, dLine, dOff) };
}

/** The same function's hints moved by whole lines (an edit before it). */
export function shiftFunctionHints(h: FunctionHints, dLine: number, dOff: number): FunctionHints {
  if (dLine === 0 && dOff === 0) return h;
  return {
    ...h,
    span: shiftSpan(h.span, dLine, dOff),
    bodyStart: shiftPos(h.bodyStart, dLine, dOff),
    lockScopes: h.lockScopes.map((s) => ({ ...s, ranges: s.ranges.map((r) => ({ start: r.start + dLine, end: r.end + dLine })) })),
    exits: h.exits.map((e) => ({ ...e, at: shiftSpan(e.at, dLine, dOff) })),
    refOps: h.refOps.map((r) => ({ ...r, at: shiftSpan(r.at, dLine, dOff) })),
    calls: h.calls.map((c) => ({ ...c, at: shiftSpan(c.at, dLine, dOff), nameAt: shiftSpan(c.nameAt, dLine, dOff) })),
    unlockLabels: h.unlockLabels.map((u) => ({ ...u, line: u.line + dLine })),
  };
}

/** The innermost function whose span contains the 1-based line. */
export function functionAtLine(hints: FileHints, line: number): FunctionHints | undefined {
  return hints.functions.find((f) => f.span.start.line <= line && line <= f.span.end.line);
}

/** The call whose callee name or whole span contains the offset (innermost = shortest). */
export function callAt(fn: FunctionHints, offset: number): CallHint | undefined {
  let best: CallHint | undefined;
  for (const c of fn.calls) {
    if (c.at.start.offset <= offset && offset <= c.at.end.offset) {
      if (!best || c.at.end.offset - c.at.start.offset < best.at.end.offset - best.at.start.offset) best = c;
    }
  }
  return best;
}

/** `held: a, b?` text for a held set (`?` = not held on every path). */
export function heldText(held: readonly HeldEntry[]): string {
  return held.map((h) => `${h.label}${h.uncertain ? '?' : ''}`).join(', ');
}

/* ------------------------------------------------------------ learned wrappers, fixes */

/** The parts of a learned refcount summary (src/core/index/wrappers.ts RefSummary) a hint needs. */
export interface WrapperSummaryLike {
  name: string;
  params: Array<{ index: number; name: string; effect: string; via: string; counter?: string }>;
  returnsRef?: string;
  returnsVia?: string;
  release?: string;
}

/** Inlay text and description for a call to a learned get/put wrapper, or undefined when it has no effect. */
export function wrapperHint(s: WrapperSummaryLike, args: readonly string[]): { label: string; description: string } | undefined {
  const parts: string[] = [];
  const desc: string[] = [];
  for (const p of s.params) {
    const arg = args[p.index];
    const obj = arg ? rootVar(arg) ?? arg : p.name;
    switch (p.effect) {
      case 'get':
        parts.push(`+1 ${obj}`);
        desc.push(`takes a reference on \`${obj}\` (through ${p.via})`);
        break;
      case 'cond-get':
        parts.push(`+1 ${obj} if ≠0`);
        desc.push(`takes a reference on \`${obj}\` only if it is not being released (through ${p.via})`);
        break;
      case 'put':
        parts.push(`−1 ${obj}${s.release ? ' · may free' : ''}`);
        desc.push(`drops a reference on \`${obj}\` (through ${p.via}${s.release ? `; the last put calls ${s.release}()` : ''})`);
        break;
      case 'get-stored':
        parts.push(`ref → ${obj}`);
        desc.push(`takes a reference on \`${obj}\` and stores it (through ${p.via})`);
        break;
      default:
        break;
    }
  }
  if (s.returnsRef) {
    parts.push(s.returnsRef === 'cond-get' ? 'returns +1 if ≠0' : 'returns +1');
    desc.push(`returns a new reference (${s.returnsRef}${s.returnsVia ? ` via ${s.returnsVia}` : ''})`);
  }
  if (!parts.length) return undefined;
  return { label: parts.join(', '), description: `${s.name}() ${desc.join('; ')}` };
}

/** The release matching an acquire primitive (`spin_lock_irqsave` -> `spin_unlock_irqrestore`), or undefined. */
export function releaseFor(acquire: string, catalog: Catalog = (defaultCatalog ??= builtinCatalog())): string | undefined {
  const idx = indexCatalog(catalog);
  const op = idx.lockOps.get(acquire);
  if (!op || op.op !== 'acquire') return undefined;
  const base = acquire.replace(/_(nested|nest_lock|io|io_nested|non_owner)$/, '');
  const candidates = [
    base.replace(/lock_irqsave$/, 'unlock_irqrestore').replace(/lock(_irq|_bh)?$/, 'unlock$1'),
    base.replace(/^down_(read|write)$/, 'up_$1'),
    base.replace(/^down$/, 'up'),
    base.replace(/seqlock(_irq|_bh|_irqsave)?$/, (_m, sfx: string | undefined) => `sequnlock${sfx === '_irqsave' ? '_irqrestore' : sfx ?? ''}`),
    base.replace(/_disable$/, '_enable'),
  ];
  return candidates.find((c) => c !== acquire && idx.lockOps.get(c)?.op === 'release' && idx.lockOps.get(c)?.kind === op.kind);
}

/** Conditional variant of a plain get primitive (`kref_get` -> `kref_get_unless_zero`). */
export const GET_UNLESS_ZERO_OF: Readonly<Record<string, string>> = {
  kref_get: 'kref_get_unless_zero',
  refcount_inc: 'refcount_inc_not_zero',
  atomic_inc: 'atomic_inc_not_zero',
};

/** The failure statement of a generated check, by what the function returns. */
export function failureReturn(returns: FunctionHints['returns']): string {
  return returns === 'void' ? 'return;' : returns === 'pointer' ? 'return NULL;' : 'return -ENOENT;';
}
