/**
 * Compile kernel-C function bodies (tree-sitter nodes) to simulator programs.
 * One op vocabulary for scenario files and, later, for roles extracted from real
 * code: every op carries the file, line, column and source text it came from.
 *
 * Supported statements: declarations, expression statements, if/else, return,
 * goto/labels (forward), compound blocks. Calls to functions defined in the
 * same unit are inlined (release functions run by kref_put are inlined at the
 * put); call_rcu callbacks become separate programs run by the RCU actor.
 */
import type { SyntaxNode as Node } from '../parse/syntax';
import type { GlobalDecl, Instr, LockDecl, LockKind, ObjectSite, Program, SimModel, SimSource, StructDecl, StructKind, VarRef } from './types';

export class CompileError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

export interface CompileUnit {
  /** The user's text (node offsets index it). */
  text: string;
  file: string;
  root: Node;
  /** Names of structures/globals that own a reference on what they hold. */
  holdsRef: Set<string>;
  name: string;
}

const LOCK_TYPES: Record<string, LockKind> = {
  mutex: 'mutex',
  'struct mutex': 'mutex',
  DEFINE_MUTEX: 'mutex',
  spinlock_t: 'spinlock',
  raw_spinlock_t: 'spinlock',
  DEFINE_SPINLOCK: 'spinlock',
  DEFINE_RAW_SPINLOCK: 'spinlock',
  rwlock_t: 'rwlock',
  DEFINE_RWLOCK: 'rwlock',
  'struct rw_semaphore': 'rwsem',
  DECLARE_RWSEM: 'rwsem',
};
const STRUCT_TYPES: Record<string, StructKind> = {
  'struct list_head': 'list',
  LIST_HEAD: 'list',
  'struct hlist_head': 'hlist',
  HLIST_HEAD: 'hlist',
  'struct idr': 'idr',
  DEFINE_IDR: 'idr',
  'struct xarray': 'xarray',
  DEFINE_XARRAY: 'xarray',
  DEFINE_XARRAY_ALLOC: 'xarray',
  DECLARE_HASHTABLE: 'hash',
  DEFINE_HASHTABLE: 'hash',
};

const ALLOC = new Set(['kzalloc', 'kmalloc', 'kvzalloc', 'kvmalloc', 'kcalloc', 'kmem_cache_alloc', 'kmem_cache_zalloc', 'vzalloc', 'vmalloc']);
const PASSTHROUGH = new Set(['rcu_dereference', 'rcu_dereference_protected', 'rcu_dereference_raw', 'rcu_dereference_check', 'READ_ONCE', 'container_of', 'list_entry', 'hlist_entry', 'likely', 'unlikely', 'rcu_access_pointer']);
const FREE_LAST_ARG = new Set(['kfree', 'kvfree', 'vfree', 'kfree_sensitive', 'kmem_cache_free']);
const SLEEPS = new Set(['msleep', 'usleep_range', 'ssleep', 'schedule', 'might_sleep', 'cond_resched', 'wait_for_completion', 'flush_work', 'cancel_work_sync', 'flush_workqueue', 'copy_to_user', 'copy_from_user', 'synchronize_srcu', 'vfree', 'kvfree']);
const SYNC = new Set(['synchronize_rcu', 'synchronize_rcu_expedited', 'synchronize_net']);
const PUBLISH_LIST = new Set(['list_add', 'list_add_tail', 'list_add_rcu', 'list_add_tail_rcu', 'hlist_add_head', 'hlist_add_head_rcu']);
const UNPUBLISH_NODE = new Set(['list_del', 'list_del_init', 'list_del_rcu', 'hlist_del', 'hlist_del_rcu', 'hlist_del_init', 'hlist_del_init_rcu', 'hash_del', 'hash_del_rcu']);
const LOOKUP_HEAD = new Set(['list_first_entry_or_null', 'list_first_or_null_rcu', 'list_first_entry']);
/** Calls whose arguments include a type name (tree-sitter may leave an ERROR there). */
const TYPE_ARG_MACROS = new Set(['container_of', 'list_entry', 'hlist_entry', 'hlist_entry_safe', 'list_first_entry_or_null', 'list_first_or_null_rcu', 'list_first_entry', 'kmem_cache_create', 'sizeof']);

type LockOp = { kind: 'lock' | 'unlock' | 'trylock' | 'interruptible'; mode: 'r' | 'w' };
function lockOp(name: string): LockOp | null {
  const m = /^(mutex|raw_spin|spin|read|write|down_read|down_write|up_read|up_write|down|up)_?(.*)$/.exec(name);
  if (!m) return null;
  const base = m[1]!;
  const rest = m[2]!;
  const isMutex = base === 'mutex';
  if (base === 'down_read' || base === 'down_write') {
    const mode = base === 'down_read' ? 'r' : 'w';
    if (rest === '' || rest === 'nested') return { kind: 'lock', mode };
    if (rest === 'trylock') return { kind: 'trylock', mode };
    if (rest === 'interruptible' || rest === 'killable') return { kind: 'interruptible', mode };
    return null;
  }
  if (base === 'up_read' || base === 'up_write') return rest === '' ? { kind: 'unlock', mode: base === 'up_read' ? 'r' : 'w' } : null;
  if (base === 'down' || base === 'up') return null;
  const mode: 'r' | 'w' = base === 'read' ? 'r' : 'w';
  if (/^lock(_nested|_irq|_irqsave|_bh|_nest_lock)?$/.test(rest)) return { kind: 'lock', mode };
  if (/^unlock(_irq|_irqrestore|_bh)?$/.test(rest)) return { kind: 'unlock', mode };
  if (/^trylock(_irq|_irqsave|_bh)?$/.test(rest)) return { kind: 'trylock', mode };
  if (isMutex && (rest === 'lock_interruptible' || rest === 'lock_killable')) return { kind: 'interruptible', mode };
  return null;
}

interface Label {
  pc: number;
}

interface Frame {
  /** name -> slot; inner scopes shadow. */
  vars: Map<string, { ref: VarRef; ptr: boolean }>;
  labels: Map<string, Label>;
  /** Inlined function: where `return` jumps and where the value goes. */
  retLabel: Label | null;
  retDst: VarRef | null;
  fn: string;
  /** Innermost iterator loop's exit (break/continue). */
  loopEnd?: Label | null;
  /** Names assigned (or address-taken) anywhere in the function: never aliased. */
  assigned: Set<string>;
  /** Active guard()/scoped_guard() scopes, innermost last: released on scope exit and return. */
  guards?: Guard[];
  /** Number of guards active when the innermost loop began (break releases the rest). */
  loopGuards?: number;
}

/** An active cleanup: a lock (or RCU read section) to release when its scope ends. */
interface Guard {
  lock: number | 'rcu';
  mode: 'r' | 'w';
  src: SimSource;
}

/** guard()/scoped_guard() class -> lock mode; 'rcu' is rcu_read_lock. */
function guardClass(cls: string): { mode: 'r' | 'w' } | 'rcu' | null {
  if (cls === 'rcu') return 'rcu';
  if (/^(mutex|spinlock|spinlock_irq|spinlock_irqsave|spinlock_bh|raw_spinlock|raw_spinlock_irq|raw_spinlock_irqsave|write_lock|write_lock_irq|write_lock_irqsave|rwsem_write)$/.test(cls)) return { mode: 'w' };
  if (/^(read_lock|read_lock_irq|read_lock_irqsave|rwsem_read)$/.test(cls)) return { mode: 'r' };
  return null;
}

/** Names a function body assigns to, increments, or takes the address of. */
function assignedNames(body: Node): Set<string> {
  const out = new Set<string>();
  for (const n of body.descendantsOfType(['assignment_expression', 'update_expression', 'pointer_expression'])) {
    if (!n) continue;
    let t: Node | null = null;
    if (n.type === 'assignment_expression') t = n.childForFieldName('left');
    else if (n.type === 'update_expression') t = n.childForFieldName('argument');
    else if (n.child(0)?.type === '&') t = n.childForFieldName('argument');
    if (t && t.type === 'identifier') out.add(t.text);
  }
  return out;
}

type Cond = { t: Label; f: Label };

/** A built program under construction; `next`/`alt` hold label ids (encoded as -(id + 10)) until resolved. */
class Builder {
  instrs: Instr[] = [];
  labels: Label[] = [];
  slots: string[] = [];
  constructor(
    readonly name: string,
    readonly role: 'thread' | 'callback',
  ) {}
  label(): Label {
    const l: Label = { pc: -1 };
    this.labels.push(l);
    return l;
  }
  ref(l: Label): number {
    return -(this.labels.indexOf(l) + 10);
  }
  place(l: Label): void {
    l.pc = this.instrs.length;
  }
  /** Index the next emitted instruction will get. */
  get here(): number {
    return this.instrs.length;
  }
  emit(i: Instr): void {
    this.instrs.push(i);
  }
  slot(name: string): number {
    this.slots.push(name);
    return this.slots.length - 1;
  }
  finish(src: SimSource): Program {
    this.emit({ op: 'ret', src });
    const resolve = (n: number): number => {
      let x = n;
      for (let guard = 0; guard < 1000; guard++) {
        if (x <= -10) x = this.labels[-x - 10]!.pc;
        const i = this.instrs[x];
        if (i && i.op === 'nop') {
          x = i.next;
          continue;
        }
        return x;
      }
      throw new Error('jump cycle');
    };
    // Collapse nops and labels, then renumber the reachable instructions from the entry.
    const entry = resolve(0);
    const order: number[] = [];
    const index = new Map<number, number>();
    const stack = [entry];
    while (stack.length) {
      const x = stack.pop()!;
      if (index.has(x)) continue;
      index.set(x, order.length);
      order.push(x);
      const i = this.instrs[x]!;
      if (i.op === 'ret') continue;
      if ('alt' in i) stack.push(resolve(i.alt));
      stack.push(resolve(i.next));
    }
    // Keep source order where possible (entry first, then ascending original index).
    const sorted = [entry, ...order.filter((x) => x !== entry).sort((a, b) => a - b)];
    sorted.forEach((x, k) => index.set(x, k));
    const instrs = sorted.map((x) => {
      const i = { ...this.instrs[x]! } as Instr;
      if (i.op !== 'ret') {
        i.next = index.get(resolve(i.next))!;
        if ('alt' in i) i.alt = index.get(resolve(i.alt))!;
      }
      return i;
    });
    return { name: this.name, instrs, slots: this.slots, role: this.role };
  }
}

function stripAddr(n: Node): Node {
  let x = n;
  for (;;) {
    if (x.type === 'parenthesized_expression' && x.namedChild(0)) x = x.namedChild(0)!;
    else if (x.type === 'pointer_expression' && x.child(0)?.type === '&') x = x.childForFieldName('argument')!;
    else if (x.type === 'cast_expression') x = x.childForFieldName('value')!;
    else return x;
  }
}

/** The innermost base identifier of `o`, `o->a.b`, `&o->ref`, `*o`. */
function baseIdent(n: Node): Node | null {
  let x: Node | null = stripAddr(n);
  while (x) {
    if (x.type === 'identifier') return x;
    if (x.type === 'field_expression') x = x.childForFieldName('argument');
    else if (x.type === 'pointer_expression' || x.type === 'parenthesized_expression') x = x.namedChild(0);
    else if (x.type === 'subscript_expression') x = x.childForFieldName('argument');
    else return null;
  }
  return null;
}

/** Last field name of `&o->node` (or the identifier itself). */
function lastField(n: Node): string {
  const x = stripAddr(n);
  if (x.type === 'field_expression') return x.childForFieldName('field')?.text ?? '';
  return x.text;
}

function args(call: Node): Node[] {
  return call.childForFieldName('arguments')?.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment') ?? [];
}

function calleeName(call: Node): string {
  const f = call.childForFieldName('function');
  return f && f.type === 'identifier' ? f.text : '';
}

export class ModelCompiler {
  readonly locks: LockDecl[] = [];
  readonly structs: StructDecl[] = [];
  readonly globals: GlobalDecl[] = [];
  readonly sites: ObjectSite[] = [];
  readonly programs: Program[] = [];
  private readonly fns = new Map<string, Node>();
  private readonly callbackProgs = new Map<string, number>();
  /** node field name -> structure index, learned from publish sites. */
  private readonly fieldStruct = new Map<string, number>();
  private inlineDepth = 0;
  private inlineCounter = 0;
  private objTypes = new Set<string>();

  constructor(private readonly unit: CompileUnit) {}

  src(n: Node): SimSource {
    const line = this.unit.text.slice(n.startIndex, n.endIndex).split('\n')[0]!.trim();
    return { file: this.unit.file, line: n.startPosition.row + 1, column: n.startPosition.column + 1, text: line };
  }

  err(n: Node, message: string): CompileError {
    return new CompileError(message, n.startPosition.row + 1, n.startPosition.column + 1);
  }

  orig(n: Node): string {
    return this.unit.text.slice(n.startIndex, n.endIndex);
  }

  /** Reject parse damage, except type names inside container_of-like macros. */
  checkSyntax(root: Node): void {
    const walk = (n: Node, inTypeMacro: boolean): void => {
      if ((n.type === 'ERROR' || n.isMissing) && !inTypeMacro) {
        throw this.err(n, n.isMissing ? `syntax error: missing ${n.type}` : `syntax error near '${this.orig(n).split('\n')[0]!.slice(0, 30)}'`);
      }
      const tm = inTypeMacro || (n.type === 'call_expression' && TYPE_ARG_MACROS.has(calleeName(n)));
      for (const c of n.children) if (c) walk(c, tm);
    };
    walk(root, false);
  }

  // ---- declarations ------------------------------------------------------

  private declTypeName(d: Node): string {
    const t = d.childForFieldName('type');
    if (!t) return '';
    const norm = t.text.replace(/\s+/g, ' ').trim();
    if (LOCK_TYPES[norm] || STRUCT_TYPES[norm]) return norm;
    // The normaliser may respell a declaration macro; the user's spelling decides.
    const orig = this.orig(t).replace(/\s+/g, ' ').trim();
    return LOCK_TYPES[orig] || STRUCT_TYPES[orig] ? orig : norm;
  }

  private declaratorName(d: Node): { name: string; ptr: boolean; node: Node } | null {
    let x: Node | null = d;
    let ptr = false;
    for (let i = 0; x && i < 8; i++) {
      if (x.type === 'identifier' || x.type === 'field_identifier') return { name: x.text, ptr, node: x };
      if (x.type === 'pointer_declarator') ptr = true;
      if (x.type === 'parenthesized_declarator') {
        x = x.namedChild(0);
        continue;
      }
      x = x.childForFieldName('declarator');
    }
    return null;
  }

  private addLock(name: string, kind: LockKind): void {
    if (!this.locks.some((l) => l.name === name)) this.locks.push({ name, kind });
  }

  collectDeclarations(): void {
    const root = this.unit.root;
    for (const n of root.namedChildren) {
      if (!n) continue;
      if (n.type === 'function_definition') {
        const d = this.declaratorName(n.childForFieldName('declarator')!);
        if (d) this.fns.set(d.name, n);
        continue;
      }
      if (n.type === 'struct_specifier' || (n.type === 'declaration' && n.childForFieldName('type')?.type === 'struct_specifier' && n.childForFieldName('type')?.childForFieldName('body'))) {
        const s = n.type === 'struct_specifier' ? n : n.childForFieldName('type')!;
        this.collectStruct(s);
        if (n.type === 'struct_specifier') continue;
      }
      if (n.type !== 'declaration') continue;
      const type = this.declTypeName(n);
      for (const d of n.childrenForFieldName('declarator')) {
        if (!d) continue;
        const dn = this.declaratorName(d);
        if (!dn) continue;
        const lk = LOCK_TYPES[type];
        const sk = STRUCT_TYPES[type];
        if (lk) this.addLock(dn.name, lk);
        else if (sk) this.structs.push({ name: dn.name, kind: sk, holdsRef: this.unit.holdsRef.has(dn.name) });
        else if (dn.ptr) this.globals.push({ name: dn.name, holdsRef: this.unit.holdsRef.has(dn.name) });
        else if (d.type === 'function_declarator') continue;
        else throw this.err(dn.node, `unsupported global '${dn.name}' of type '${type}' (declare locks, lookup structures or object pointers)`);
      }
    }
    for (const name of this.unit.holdsRef) {
      if (!this.structs.some((s) => s.name === name) && !this.globals.some((g) => g.name === name)) {
        throw new CompileError(`holds-ref names '${name}', which is not a declared lookup structure or global pointer`, 1, 1);
      }
    }
    this.prepassPublish(root);
  }

  private collectStruct(s: Node): void {
    const name = s.childForFieldName('name')?.text;
    const body = s.childForFieldName('body');
    if (!name || !body) return;
    this.objTypes.add(name);
    for (const f of body.namedChildren) {
      if (!f || f.type !== 'field_declaration') continue;
      const type = this.declTypeName(f);
      const lk = LOCK_TYPES[type];
      if (!lk) continue;
      for (const d of f.childrenForFieldName('declarator')) {
        const dn = d ? this.declaratorName(d) : null;
        if (dn) this.addLock(dn.name, lk);
      }
    }
  }

  private prepassPublish(root: Node): void {
    for (const call of root.descendantsOfType('call_expression')) {
      if (!call) continue;
      const name = calleeName(call);
      const a = args(call);
      if ((PUBLISH_LIST.has(name) && a.length >= 2) || ((name === 'hash_add' || name === 'hash_add_rcu') && a.length >= 2)) {
        const headArg = PUBLISH_LIST.has(name) ? a[1]! : a[0]!;
        const nodeArg = PUBLISH_LIST.has(name) ? a[0]! : a[1]!;
        const s = this.structIndex(headArg);
        if (s >= 0 && !this.fieldStruct.has(lastField(nodeArg))) this.fieldStruct.set(lastField(nodeArg), s);
      }
    }
  }

  structIndex(n: Node): number {
    const x = stripAddr(n);
    const name = x.type === 'field_expression' ? x.childForFieldName('field')?.text ?? '' : x.text;
    return this.structs.findIndex((s) => s.name === name);
  }

  lockIndex(n: Node): number {
    const name = lastField(n);
    const i = this.locks.findIndex((l) => l.name === name);
    if (i < 0) throw this.err(n, `unknown lock '${this.orig(n)}' (declare it, e.g. 'static DEFINE_MUTEX(${name});')`);
    return i;
  }

  // ---- programs ----------------------------------------------------------

  functionNode(name: string): Node | undefined {
    return this.fns.get(name);
  }

  functionNames(): string[] {
    return [...this.fns.keys()];
  }

  compileProgram(fnName: string, role: 'thread' | 'callback'): number {
    const fn = this.fns.get(fnName)!;
    const b = new Builder(fnName, role);
    const frame: Frame = { vars: new Map(), labels: new Map(), retLabel: null, retDst: null, fn: fnName, assigned: assignedNames(fn.childForFieldName('body')!) };
    const params = this.params(fn);
    if (role === 'callback') {
      if (params.length === 0) throw this.err(fn, `callback ${fnName} takes no parameter`);
      for (const p of params) frame.vars.set(p.name, { ref: b.slot(p.name), ptr: true });
    } else if (params.length) {
      throw this.err(params[0]!.node, `thread function ${fnName} must take no parameters`);
    }
    const body = fn.childForFieldName('body')!;
    this.block(b, frame, body);
    const close = body.lastChild ?? body;
    const prog = b.finish(this.src(close));
    this.programs.push(prog);
    return this.programs.length - 1;
  }

  private params(fn: Node): Array<{ name: string; node: Node }> {
    let d: Node | null = fn.childForFieldName('declarator');
    while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
    const list = d?.childForFieldName('parameters');
    const out: Array<{ name: string; node: Node }> = [];
    for (const p of list?.namedChildren ?? []) {
      if (!p || p.type !== 'parameter_declaration') continue;
      const pd = p.childForFieldName('declarator');
      const dn = pd ? this.declaratorName(pd) : null;
      if (dn) out.push({ name: dn.name, node: p });
    }
    return out;
  }

  private callbackProgram(fnName: string, at: Node): number {
    const have = this.callbackProgs.get(fnName);
    if (have !== undefined) return have;
    if (fnName === '<kfree>') {
      const b = new Builder('kfree_rcu', 'callback');
      const s = b.slot('ptr');
      const src = this.src(at);
      b.emit({ op: 'free', obj: s, next: b.here + 1, src });
      const p = b.finish(src);
      this.programs.push(p);
      this.callbackProgs.set(fnName, this.programs.length - 1);
      return this.programs.length - 1;
    }
    if (!this.fns.has(fnName)) throw this.err(at, `callback '${fnName}' is not defined in this file`);
    this.callbackProgs.set(fnName, -2);
    const id = this.compileProgram(fnName, 'callback');
    this.callbackProgs.set(fnName, id);
    return id;
  }

  private lookupVar(frame: Frame, n: Node): { ref: VarRef; ptr: boolean } | null {
    const id = n.type === 'identifier' ? n.text : null;
    if (!id) return null;
    const local = frame.vars.get(id);
    if (local) return local;
    const g = this.globals.findIndex((x) => x.name === id);
    if (g >= 0) return { ref: -(g + 1), ptr: true };
    return null;
  }

  /** The pointer variable an object argument (`&o->ref`, `o`, `container_of(...)`) designates. */
  private objVar(b: Builder, frame: Frame, n: Node): VarRef {
    let x = stripAddr(n);
    while (x.type === 'call_expression' && PASSTHROUGH.has(calleeName(x)) && args(x)[0]) x = stripAddr(args(x)[0]!);
    const id = baseIdent(x);
    const v = id ? this.lookupVar(frame, id) : null;
    if (!v) throw this.err(n, `'${this.orig(n)}' does not name an object pointer variable`);
    void b;
    return v.ref;
  }

  private block(b: Builder, frame: Frame, n: Node): void {
    const depth = frame.guards?.length ?? 0;
    for (const c of n.namedChildren) if (c) this.stmt(b, frame, c);
    // guard() taken in this block: released at its closing brace.
    this.releaseGuards(b, frame, depth, n.lastChild ?? n, true);
  }

  /** Emit releases for guards above `depth` (innermost first); `pop` removes them from the frame. */
  private releaseGuards(b: Builder, frame: Frame, depth: number, at: Node, pop: boolean): void {
    const gs = frame.guards ?? [];
    for (let i = gs.length - 1; i >= depth; i--) {
      const g = gs[i]!;
      const src = { ...this.src(at), text: `${g.src.text} (scope exit)` };
      if (g.lock === 'rcu') b.emit({ op: 'rcu_unlock', next: b.here + 1, src });
      else b.emit({ op: 'unlock', lock: g.lock, mode: g.mode, next: b.here + 1, src });
    }
    if (pop) gs.length = Math.min(gs.length, depth);
  }

  /** `guard(class)(args);` as an expression statement: acquire now, release at scope exit. */
  private guardStatement(b: Builder, frame: Frame, call: Node): boolean {
    const inner = call.childForFieldName('function');
    if (!inner || inner.type !== 'call_expression' || calleeName(inner) !== 'guard') return false;
    const cls = args(inner)[0]?.text ?? '';
    this.acquireGuard(b, frame, cls, args(call), call);
    return true;
  }

  private acquireGuard(b: Builder, frame: Frame, cls: string, a: Node[], at: Node): void {
    const g = guardClass(cls);
    if (!g) throw this.err(at, `unsupported guard class '${cls}' (mutex, spinlock*, read_lock/write_lock*, rwsem_read/rwsem_write, rcu)`);
    const src = this.src(at);
    frame.guards ??= [];
    if (g === 'rcu') {
      b.emit({ op: 'rcu_lock', next: b.here + 1, src });
      frame.guards.push({ lock: 'rcu', mode: 'r', src });
      return;
    }
    if (!a[0]) throw this.err(at, `guard(${cls}) needs the lock as argument`);
    const lock = this.lockIndex(a[0]);
    b.emit({ op: 'lock', lock, mode: g.mode, next: b.here + 1, src });
    frame.guards.push({ lock, mode: g.mode, src });
  }

  /** `scoped_guard(class, lock) stmt` (the normaliser makes it an if statement starting at the macro name). */
  private scopedGuard(b: Builder, frame: Frame, n: Node): boolean {
    if (!/^\s*scoped_guard\b/.test(this.orig(n))) return false;
    if (/^\s*scoped_cond_guard\b/.test(this.orig(n))) throw this.err(n, 'scoped_cond_guard is not supported in scenarios');
    const cond = n.childForFieldName('condition')?.namedChild(0) ?? null;
    const a = cond ? (cond.type === 'comma_expression' ? this.commaArgs(cond) : [cond]) : [];
    const depth = frame.guards?.length ?? 0;
    this.acquireGuard(b, frame, a[0]?.text ?? '', a.slice(1), n);
    const body = n.childForFieldName('consequence')!;
    this.stmt(b, frame, body);
    this.releaseGuards(b, frame, depth, body.lastChild ?? body, true);
    return true;
  }

  private stmt(b: Builder, frame: Frame, n: Node): void {
    switch (n.type) {
      case 'comment':
      case ';':
        return;
      case 'compound_statement':
        return this.block(b, frame, n);
      case 'declaration':
        return this.declaration(b, frame, n);
      case 'expression_statement': {
        const e = n.namedChild(0);
        if (e) this.effect(b, frame, e, n);
        return;
      }
      case 'if_statement': {
        if (this.scopedGuard(b, frame, n)) return;
        const cond = n.childForFieldName('condition')!;
        const thenL = b.label();
        const elseL = b.label();
        const end = b.label();
        this.cond(b, frame, cond, { t: thenL, f: elseL });
        b.place(thenL);
        this.stmt(b, frame, n.childForFieldName('consequence')!);
        this.jump(b, end, n);
        b.place(elseL);
        const alt = n.childForFieldName('alternative');
        if (alt) this.stmt(b, frame, alt.type === 'else_clause' ? alt.namedChild(0)! : alt);
        b.place(end);
        return;
      }
      case 'return_statement': {
        const v = n.namedChild(0);
        // The return value is computed before the guards' cleanups run.
        if (frame.guards?.length) {
          if (v && frame.retLabel && frame.retDst !== null) this.value(b, frame, v, frame.retDst, n);
          else if (v) this.effect(b, frame, v, n);
          this.releaseGuards(b, frame, 0, n, false);
          if (frame.retLabel) this.jump(b, frame.retLabel, n);
          else b.emit({ op: 'ret', src: this.src(n) });
          return;
        }
        if (frame.retLabel) {
          if (v && frame.retDst !== null) this.value(b, frame, v, frame.retDst, n);
          else if (v) this.effect(b, frame, v, n);
          this.jump(b, frame.retLabel, n);
        } else {
          if (v) this.effect(b, frame, v, n);
          b.emit({ op: 'ret', src: this.src(n) });
        }
        return;
      }
      case 'while_statement':
        return this.iterator(b, frame, n);
      case 'break_statement':
      case 'continue_statement':
        if (!frame.loopEnd) throw this.err(n, `${n.type === 'break_statement' ? 'break' : 'continue'} outside a for_each loop`);
        this.releaseGuards(b, frame, frame.loopGuards ?? 0, n, false);
        this.jump(b, frame.loopEnd, n);
        return;
      case 'goto_statement': {
        if (frame.guards?.length) throw this.err(n, 'goto inside a guard()/scoped_guard() scope is not supported in scenarios');
        const name = n.childForFieldName('label')!.text;
        this.jump(b, this.labelFor(b, frame, name), n);
        return;
      }
      case 'labeled_statement': {
        const name = n.childForFieldName('label')!.text;
        b.place(this.labelFor(b, frame, name));
        for (const c of n.namedChildren) if (c && c.type !== 'statement_identifier') this.stmt(b, frame, c);
        return;
      }
      default:
        throw this.err(n, `unsupported statement '${n.type.replace(/_/g, ' ')}' in a scenario (use if/else, goto, return and calls)`);
    }
  }

  /**
   * Iterator macros (the normaliser turns `list_for_each_entry(pos, head, m) {`
   * into a while statement that starts at the macro name). The model visits the
   * first matching entry once: exact when the structure holds at most one
   * object, as in scenario files.
   */
  private iterator(b: Builder, frame: Frame, n: Node): void {
    const macro = /^\s*(\w+)/.exec(this.orig(n))?.[1] ?? '';
    if (!/for_each/i.test(macro)) throw this.err(n, "unsupported statement 'while statement' in a scenario (use if/else, goto, return, calls and list_for_each_entry-style lookups)");
    const cond = n.childForFieldName('condition');
    const inner = cond?.namedChild(0) ?? null;
    const a = inner ? (inner.type === 'comma_expression' ? this.commaArgs(inner) : [inner]) : [];
    const pick = (): { pos: Node; head: Node; key: string | null } | null => {
      if (/^(list|hlist)_for_each_entry/.test(macro) && a.length >= 2) return { pos: a[0]!, head: a[1]!, key: null };
      if (/^hash_for_each_possible/.test(macro) && a.length >= 4) return { pos: a[1]!, head: a[0]!, key: a[3]!.text };
      if (/^idr_for_each_entry/.test(macro) && a.length >= 2) return { pos: a[1]!, head: a[0]!, key: null };
      if (/^xa_for_each/.test(macro) && a.length >= 3) return { pos: a[2]!, head: a[0]!, key: null };
      return null;
    };
    const p = pick();
    if (!p) throw this.err(n, `unsupported iterator '${macro}' (list_for_each_entry*, hlist_for_each_entry*, hash_for_each_possible*, idr_for_each_entry, xa_for_each)`);
    const s = this.structIndex(p.head);
    if (s < 0) throw this.err(p.head, `unknown lookup structure '${this.orig(p.head)}'`);
    const pos = this.lookupVar(frame, stripAddr(p.pos));
    if (!pos) throw this.err(p.pos, `'${this.orig(p.pos)}' is not a declared pointer variable`);
    const src = this.src(n);
    const body = b.label();
    const end = b.label();
    b.emit({ op: 'lookup', struct: s, key: p.key, dst: pos.ref, next: b.here + 1, src });
    b.emit({ op: 'test', a: { var: pos.ref }, cmp: '!=0', next: b.ref(body), alt: b.ref(end), src });
    b.place(body);
    const saved = frame.loopEnd;
    const savedGuards = frame.loopGuards;
    frame.loopEnd = end;
    frame.loopGuards = frame.guards?.length ?? 0;
    try {
      this.stmt(b, frame, n.childForFieldName('body')!);
    } finally {
      frame.loopEnd = saved;
      frame.loopGuards = savedGuards;
    }
    b.place(end);
  }

  private commaArgs(n: Node): Node[] {
    const out: Node[] = [];
    let x: Node | null = n;
    while (x && x.type === 'comma_expression') {
      out.push(x.childForFieldName('left')!);
      x = x.childForFieldName('right');
    }
    if (x) out.push(x);
    return out;
  }

  private labelFor(b: Builder, frame: Frame, name: string): Label {
    let l = frame.labels.get(name);
    if (!l) {
      l = b.label();
      frame.labels.set(name, l);
    }
    return l;
  }

  private jump(b: Builder, l: Label, n: Node): void {
    b.emit({ op: 'nop', next: b.ref(l), src: this.src(n) });
  }

  private declaration(b: Builder, frame: Frame, n: Node): void {
    for (const d of n.childrenForFieldName('declarator')) {
      if (!d) continue;
      const dn = this.declaratorName(d);
      if (!dn) continue;
      const ptr = dn.ptr;
      const init = d.type === 'init_declarator' ? d.childForFieldName('value') : null;
      // `struct obj *o = container_of(ref, struct obj, ref);` with neither name ever assigned: an alias.
      if (init && ptr && !frame.assigned.has(dn.name)) {
        const src = this.tryPassthroughVar(frame, init);
        if (src !== null && src.ref >= 0 && !frame.assigned.has(src.name)) {
          frame.vars.set(dn.name, { ref: src.ref, ptr: true });
          continue;
        }
      }
      const slot = b.slot(`${frame.fn}.${dn.name}`);
      frame.vars.set(dn.name, { ref: slot, ptr });
      if (init) this.value(b, frame, init, slot, n);
    }
  }

  /** An expression evaluated for its effects. */
  private effect(b: Builder, frame: Frame, e: Node, stmt: Node): void {
    const x = e.type === 'parenthesized_expression' ? e.namedChild(0)! : e;
    if (x.type === 'call_expression' && this.guardStatement(b, frame, x)) return;
    if (x.type === 'call_expression') return this.call(b, frame, x, null, null);
    if (x.type === 'assignment_expression') {
      const left = x.childForFieldName('left')!;
      const right = x.childForFieldName('right')!;
      const lv = left.type === 'identifier' ? this.lookupVar(frame, left) : null;
      if (lv) return this.value(b, frame, right, lv.ref, stmt);
      this.accesses(b, frame, right, false);
      this.accesses(b, frame, left, true);
      return;
    }
    if (x.type === 'update_expression') return this.accesses(b, frame, x, true);
    if (x.type === 'comma_expression') {
      for (const c of x.namedChildren) if (c) this.effect(b, frame, c, stmt);
      return;
    }
    this.accesses(b, frame, x, false);
  }

  /** Emit an access op for each object dereference (`o->x`) in an expression. */
  private accesses(b: Builder, frame: Frame, e: Node, write: boolean): void {
    const derefs: Node[] = [];
    const walk = (n: Node): void => {
      if (n.type === 'field_expression' && n.child(1)?.type === '->') {
        derefs.push(n);
        return;
      }
      if (n.type === 'call_expression') {
        this.call(b, frame, n, null, null);
        return;
      }
      for (const c of n.namedChildren) if (c) walk(c);
    };
    walk(e);
    for (const d of derefs) {
      const id = baseIdent(d);
      const v = id ? this.lookupVar(frame, id) : null;
      if (v) b.emit({ op: 'access', obj: v.ref, write, next: b.here + 1, src: this.src(e) });
    }
  }

  /** Evaluate `e` into variable `dst`. */
  private value(b: Builder, frame: Frame, e: Node, dst: VarRef, stmt: Node): void {
    const x = e.type === 'parenthesized_expression' ? e.namedChild(0)! : e;
    const src = this.src(stmt);
    if (x.type === 'null' || (x.type === 'identifier' && x.text === 'NULL')) {
      b.emit({ op: 'assign', dst, value: { const: -1 }, next: b.here + 1, src });
      return;
    }
    if (x.type === 'number_literal') {
      b.emit({ op: 'assign', dst, value: { const: Number.parseInt(x.text, 10) || 0 }, next: b.here + 1, src });
      return;
    }
    if (x.type === 'unary_expression' && x.child(0)?.type === '-' && x.namedChild(0)?.type === 'identifier') {
      // -EINVAL and friends (any negative errno; -1 is reserved for NULL).
      b.emit({ op: 'assign', dst, value: { const: -22 }, next: b.here + 1, src });
      return;
    }
    if (x.type === 'identifier' || x.type === 'pointer_expression' || x.type === 'cast_expression') {
      const v = this.lookupVar(frame, stripAddr(x));
      if (v) {
        b.emit({ op: 'assign', dst, value: { var: v.ref }, next: b.here + 1, src });
        return;
      }
    }
    if (x.type === 'call_expression') return this.call(b, frame, x, dst, null, stmt);
    if (x.type === 'field_expression') {
      // `p = o->ptr`: reads o; the value is unknown to the model.
      this.accesses(b, frame, x, false);
      b.emit({ op: 'assign', dst, value: { const: -1 }, next: b.here + 1, src });
      return;
    }
    throw this.err(x, `unsupported expression '${this.orig(x).slice(0, 40)}' on the right of an assignment`);
  }

  /** Compile a condition into jumps to c.t / c.f. */
  private cond(b: Builder, frame: Frame, e: Node, c: Cond): void {
    const x = e;
    switch (x.type) {
      case 'parenthesized_expression':
        return this.cond(b, frame, x.namedChild(0)!, c);
      case 'unary_expression':
        if (x.child(0)?.type === '!') return this.cond(b, frame, x.childForFieldName('argument')!, { t: c.f, f: c.t });
        break;
      case 'binary_expression': {
        const op = x.childForFieldName('operator')?.type ?? x.child(1)?.type;
        const l = x.childForFieldName('left')!;
        const r = x.childForFieldName('right')!;
        if (op === '&&') {
          const mid = b.label();
          this.cond(b, frame, l, { t: mid, f: c.f });
          b.place(mid);
          return this.cond(b, frame, r, c);
        }
        if (op === '||') {
          const mid = b.label();
          this.cond(b, frame, l, { t: c.t, f: mid });
          b.place(mid);
          return this.cond(b, frame, r, c);
        }
        if (op === '==' || op === '!=' || op === '<' || op === '>=') {
          const zero = (n: Node): boolean => n.type === 'null' || n.text === 'NULL' || n.text === '0';
          if (zero(r)) {
            const negate = op === '==' ? true : false;
            if (op === '<' || op === '>=') {
              const v = this.operandVar(b, frame, l, x);
              b.emit({ op: 'test', a: { var: v }, cmp: op === '<' ? '<0' : '>=0', next: b.ref(c.t), alt: b.ref(c.f), src: this.src(x) });
              return;
            }
            return this.cond(b, frame, l, negate ? { t: c.f, f: c.t } : c);
          }
          const lv = this.lookupVar(frame, stripAddr(l));
          const rv = this.lookupVar(frame, stripAddr(r));
          if (lv && rv && (op === '==' || op === '!=')) {
            b.emit({ op: 'test', a: { var: lv.ref }, cmp: op, b: { var: rv.ref }, next: b.ref(c.t), alt: b.ref(c.f), src: this.src(x) });
            return;
          }
        }
        break;
      }
      case 'identifier': {
        const v = this.lookupVar(frame, x);
        if (v) {
          b.emit({ op: 'test', a: { var: v.ref }, cmp: '!=0', next: b.ref(c.t), alt: b.ref(c.f), src: this.src(x) });
          return;
        }
        break;
      }
      case 'call_expression':
        return this.call(b, frame, x, null, c);
      default:
        break;
    }
    // Unknown condition: dereferences first, then a nondeterministic choice.
    this.accesses(b, frame, x, false);
    b.emit({ op: 'choice', next: b.ref(c.t), alt: b.ref(c.f), src: this.src(x) });
  }

  private operandVar(b: Builder, frame: Frame, n: Node, at: Node): VarRef {
    const v = this.lookupVar(frame, stripAddr(n));
    if (v) return v.ref;
    const tmp = b.slot(`${frame.fn}.$tmp${b.slots.length}`);
    this.value(b, frame, n, tmp, at);
    return tmp;
  }

  /**
   * Compile a call. `dst`: the result is stored there. `c`: the call is a
   * condition (true/false targets). Branching APIs use both.
   */
  private call(b: Builder, frame: Frame, call: Node, dst: VarRef | null, c: Cond | null, at?: Node): void {
    const name = calleeName(call);
    const a = args(call);
    // An assignment's ops show the whole statement (`o = idr_find(&ids, 1);`).
    const src = this.src(at && !this.fns.has(name) && !PASSTHROUGH.has(name) ? at : call);
    const seq = (): number => b.here + 1;
    /** Branch targets of a branching op: the condition's, or fall-through. */
    const branch = (): { next: number; alt: number; after: Label | null } => {
      if (c) return { next: b.ref(c.t), alt: b.ref(c.f), after: null };
      const after = b.label();
      return { next: b.ref(after), alt: b.ref(after), after };
    };
    const withDst = dst === null ? {} : { dst };
    const need = (k: number): void => {
      if (a.length < k) throw this.err(call, `${name}() needs ${k} argument(s)`);
    };
    const finishValue = (): void => {
      // A plain value-returning call used as a condition: test the result.
      if (c) throw this.err(call, `${name}() cannot be used as a condition`);
    };

    if (PASSTHROUGH.has(name) && a[0]) {
      if (dst !== null) return this.value(b, frame, a[0], dst, call);
      if (c) return this.cond(b, frame, a[0], c);
      return this.effect(b, frame, a[0], call);
    }
    if (ALLOC.has(name)) {
      if (dst === null) throw this.err(call, `the result of ${name}() must be assigned to a pointer variable`);
      const gfpKernel = a.some((x) => /GFP_KERNEL/.test(x.text));
      const site = this.sites.length;
      const slotName = dst >= 0 ? b.slots[dst]!.replace(/^.*\./, '') : this.globals[-(dst + 1)]!.name;
      this.sites.push({ name: this.uniqueSiteName(slotName), src });
      b.emit({ op: 'alloc', dst, site, sleeps: gfpKernel, next: seq(), src });
      if (c) b.emit({ op: 'test', a: { var: dst }, cmp: '!=0', next: b.ref(c.t), alt: b.ref(c.f), src });
      return;
    }
    switch (name) {
      case 'kref_init':
        need(1);
        b.emit({ op: 'set', obj: this.objVar(b, frame, a[0]!), value: 1, next: seq(), src });
        return finishValue();
      case 'refcount_set':
      case 'atomic_set':
      case 'refcount_init':
        need(2);
        b.emit({ op: 'set', obj: this.objVar(b, frame, a[0]!), value: Number.parseInt(a[1]!.text, 10) || 0, next: seq(), src });
        return finishValue();
      case 'kref_get':
      case 'refcount_inc':
      case 'atomic_inc':
        need(1);
        b.emit({ op: 'inc', obj: this.objVar(b, frame, a[0]!), ...(name === 'atomic_inc' ? { raw: true } : {}), next: seq(), src });
        return finishValue();
      case 'refcount_dec':
      case 'atomic_dec':
        need(1);
        b.emit({ op: 'dec', obj: this.objVar(b, frame, a[0]!), next: seq(), src });
        return finishValue();
      case 'kref_get_unless_zero':
      case 'refcount_inc_not_zero':
      case 'atomic_inc_not_zero': {
        need(1);
        const br = branch();
        b.emit({ op: 'inc_not_zero', obj: this.objVar(b, frame, a[0]!), ...withDst, next: br.next, alt: br.alt, src });
        if (br.after) b.place(br.after);
        return;
      }
      case 'refcount_dec_and_test':
      case 'atomic_dec_and_test': {
        need(1);
        const br = branch();
        b.emit({ op: 'dec_and_test', obj: this.objVar(b, frame, a[0]!), ...withDst, next: br.next, alt: br.alt, src });
        if (br.after) b.place(br.after);
        return;
      }
      case 'kref_put': {
        need(2);
        const o = this.objVar(b, frame, a[0]!);
        const rel = b.label();
        const br = branch();
        const notZero = b.ref(br.after ?? c!.f);
        b.emit({ op: 'dec_and_test', obj: o, ...withDst, next: b.ref(rel), alt: notZero, src });
        b.place(rel);
        this.inlineRelease(b, frame, a[1]!, o, call);
        this.jump(b, br.after ?? c!.t, call);
        if (br.after) b.place(br.after);
        return;
      }
      case 'kref_put_mutex':
      case 'kref_put_lock':
      case 'refcount_dec_and_mutex_lock':
      case 'refcount_dec_and_lock':
      case 'refcount_dec_and_lock_irqsave':
      case 'atomic_dec_and_mutex_lock':
      case 'atomic_dec_and_lock': {
        const isKref = name.startsWith('kref_');
        need(isKref ? 3 : 2);
        const o = this.objVar(b, frame, a[0]!);
        const lock = this.lockIndex(isKref ? a[2]! : a[1]!);
        const br = branch();
        const tgtTrue = br.after ?? c!.t;
        const tgtFalse = br.after ?? c!.f;
        const slow = b.label();
        const zero = b.label();
        const slowNotZero = b.label();
        const fastFalse = b.label();
        b.emit({ op: 'dec_not_one', obj: o, next: b.ref(fastFalse), alt: b.ref(slow), src });
        b.place(slow);
        b.emit({ op: 'lock', lock, mode: 'w', next: seq(), src });
        b.emit({ op: 'dec_and_test', obj: o, next: b.ref(zero), alt: b.ref(slowNotZero), src });
        b.place(zero);
        if (dst !== null) b.emit({ op: 'assign', dst, value: { const: 1 }, next: seq(), src });
        // kref_put_mutex/kref_put_lock: the release runs with the lock held and must drop it.
        if (isKref) this.inlineRelease(b, frame, a[1]!, o, call);
        this.jump(b, tgtTrue, call);
        b.place(slowNotZero);
        b.emit({ op: 'unlock', lock, mode: 'w', next: seq(), src });
        b.place(fastFalse);
        if (dst !== null) b.emit({ op: 'assign', dst, value: { const: 0 }, next: seq(), src });
        this.jump(b, tgtFalse, call);
        if (br.after) b.place(br.after);
        return;
      }
      case 'rcu_read_lock':
      case 'rcu_read_lock_bh':
      case 'rcu_read_lock_sched':
        b.emit({ op: 'rcu_lock', next: seq(), src });
        return finishValue();
      case 'rcu_read_unlock':
      case 'rcu_read_unlock_bh':
      case 'rcu_read_unlock_sched':
        b.emit({ op: 'rcu_unlock', next: seq(), src });
        return finishValue();
      case 'rcu_barrier':
        b.emit({ op: 'rcu_barrier', next: seq(), src });
        return finishValue();
      case 'call_rcu': {
        need(2);
        const fnName = a[1]!.text;
        const cb = this.callbackProgram(fnName, a[1]!);
        b.emit({ op: 'call_rcu', obj: this.objVar(b, frame, a[0]!), cb, next: seq(), src });
        return finishValue();
      }
      case 'kfree_rcu':
      case 'kvfree_rcu':
      case 'kfree_rcu_mightsleep': {
        need(1);
        const cb = this.callbackProgram('<kfree>', call);
        b.emit({ op: 'call_rcu', obj: this.objVar(b, frame, a[0]!), cb, next: seq(), src });
        return finishValue();
      }
      case 'idr_alloc':
      case 'idr_alloc_cyclic': {
        need(3);
        const s = this.structIndex(a[0]!);
        if (s < 0) throw this.err(a[0]!, `unknown idr '${this.orig(a[0]!)}'`);
        b.emit({ op: 'publish', struct: s, key: a[2]!.text, obj: this.objVar(b, frame, a[1]!), field: '', next: seq(), src });
        if (dst !== null) b.emit({ op: 'assign', dst, value: { const: Number.parseInt(a[2]!.text, 10) || 0 }, next: seq(), src });
        return finishValue();
      }
      case 'xa_store':
      case 'xa_insert': {
        need(3);
        const s = this.structIndex(a[0]!);
        if (s < 0) throw this.err(a[0]!, `unknown xarray '${this.orig(a[0]!)}'`);
        b.emit({ op: 'publish', struct: s, key: a[1]!.text, obj: this.objVar(b, frame, a[2]!), field: '', next: seq(), src });
        return finishValue();
      }
      case 'hash_add':
      case 'hash_add_rcu': {
        need(3);
        const s = this.structIndex(a[0]!);
        if (s < 0) throw this.err(a[0]!, `unknown hash table '${this.orig(a[0]!)}'`);
        b.emit({ op: 'publish', struct: s, key: a[2]!.text, obj: this.objVar(b, frame, a[1]!), field: lastField(a[1]!), next: seq(), src });
        return finishValue();
      }
      case 'idr_remove':
      case 'xa_erase': {
        need(2);
        const s = this.structIndex(a[0]!);
        if (s < 0) throw this.err(a[0]!, `unknown lookup structure '${this.orig(a[0]!)}'`);
        b.emit({ op: 'unpublish_key', struct: s, key: a[1]!.text, ...withDst, next: seq(), src });
        return finishValue();
      }
      case 'idr_find':
      case 'xa_load': {
        need(2);
        const s = this.structIndex(a[0]!);
        if (s < 0) throw this.err(a[0]!, `unknown lookup structure '${this.orig(a[0]!)}'`);
        const d = dst ?? b.slot(`${frame.fn}.$tmp${b.slots.length}`);
        b.emit({ op: 'lookup', struct: s, key: a[1]!.text, dst: d, next: seq(), src });
        if (c) b.emit({ op: 'test', a: { var: d }, cmp: '!=0', next: b.ref(c.t), alt: b.ref(c.f), src });
        return;
      }
      case 'rcu_assign_pointer':
      case 'WRITE_ONCE': {
        need(2);
        const v = this.lookupVar(frame, stripAddr(a[0]!));
        if (!v) {
          this.accesses(b, frame, a[0]!, true);
          return;
        }
        return this.value(b, frame, a[1]!, v.ref, call);
      }
      default:
        break;
    }
    if (PUBLISH_LIST.has(name)) {
      need(2);
      const s = this.structIndex(a[1]!);
      if (s < 0) throw this.err(a[1]!, `unknown list '${this.orig(a[1]!)}' (declare it, e.g. 'static LIST_HEAD(${lastField(a[1]!)});')`);
      b.emit({ op: 'publish', struct: s, key: '', obj: this.objVar(b, frame, a[0]!), field: lastField(a[0]!), next: seq(), src });
      return finishValue();
    }
    if (UNPUBLISH_NODE.has(name)) {
      need(1);
      const field = lastField(a[0]!);
      const s = this.fieldStruct.get(field);
      if (s === undefined) throw this.err(a[0]!, `no list or hash table is ever given '${field}' nodes (add a list_add/hash_add)`);
      b.emit({ op: 'unpublish', struct: s, field, obj: this.objVar(b, frame, a[0]!), next: seq(), src });
      return finishValue();
    }
    if (LOOKUP_HEAD.has(name) || name === 'hlist_entry_safe') {
      need(1);
      let head = a[0]!;
      if (name === 'hlist_entry_safe') {
        const inner = head.descendantsOfType('call_expression').find((x) => x && /hlist_first_rcu/.test(calleeName(x)));
        head = inner ? args(inner)[0] ?? head : head;
        if (head.type === 'field_expression' && head.childForFieldName('field')?.text === 'first') head = head.childForFieldName('argument')!;
      }
      const s = this.structIndex(head);
      if (s < 0) throw this.err(head, `unknown list '${this.orig(head)}'`);
      const d = dst ?? b.slot(`${frame.fn}.$tmp${b.slots.length}`);
      b.emit({ op: 'lookup', struct: s, key: null, dst: d, next: seq(), src });
      if (c) b.emit({ op: 'test', a: { var: d }, cmp: '!=0', next: b.ref(c.t), alt: b.ref(c.f), src });
      return;
    }
    if (FREE_LAST_ARG.has(name)) {
      need(1);
      const o = this.objVar(b, frame, a[a.length - 1]!);
      if (SLEEPS.has(name)) b.emit({ op: 'sleep', next: seq(), src });
      b.emit({ op: 'free', obj: o, next: seq(), src });
      return finishValue();
    }
    if (SYNC.has(name)) {
      b.emit({ op: 'sync_rcu', next: seq(), src });
      return finishValue();
    }
    if (SLEEPS.has(name)) {
      b.emit({ op: 'sleep', next: seq(), src });
      return finishValue();
    }
    const lk = lockOp(name);
    if (lk) {
      need(1);
      const lock = this.lockIndex(a[0]!);
      if (lk.kind === 'lock' || lk.kind === 'unlock') {
        b.emit({ op: lk.kind, lock, mode: lk.mode, next: seq(), src });
        return finishValue();
      }
      const br = branch();
      // trylock: true on success. *_interruptible: 0 on success, so as a condition "true" means failure.
      const ok = lk.kind === 'trylock' ? br.next : br.alt;
      const fail = lk.kind === 'trylock' ? br.alt : br.next;
      b.emit({ op: 'trylock', lock, mode: lk.mode, interruptible: lk.kind === 'interruptible', ...withDst, next: ok, alt: fail, src });
      if (br.after) b.place(br.after);
      return;
    }
    if (this.fns.has(name)) return this.inline(b, frame, name, a, dst, c, call);
    if (!name) throw this.err(call, `unsupported call '${this.orig(call).split('\n')[0]!.slice(0, 40)}' (call functions by name)`);
    // Unknown call: dereferences of its arguments, then (as a condition) a choice.
    for (const x of a) {
      const v = x.type === 'identifier' ? this.lookupVar(frame, x) : null;
      if (v && v.ptr) b.emit({ op: 'access', obj: v.ref, write: false, next: seq(), src });
      else this.accesses(b, frame, x, false);
    }
    if (c) {
      b.emit({ op: 'choice', next: b.ref(c.t), alt: b.ref(c.f), src });
      return;
    }
    if (dst !== null) {
      // Unknown result: succeeds (0) or fails (-EINVAL), chosen nondeterministically.
      const ok = b.label();
      const fail = b.label();
      const end = b.label();
      b.emit({ op: 'choice', next: b.ref(ok), alt: b.ref(fail), src });
      b.place(ok);
      b.emit({ op: 'assign', dst, value: { const: 0 }, next: b.ref(end), src });
      b.place(fail);
      b.emit({ op: 'assign', dst, value: { const: -22 }, next: b.ref(end), src });
      b.place(end);
    }
  }

  private uniqueSiteName(base: string): string {
    let name = base;
    for (let k = 2; this.sites.some((s) => s.name === name); k++) name = `${base}${k}`;
    return name;
  }

  private inlineRelease(b: Builder, frame: Frame, fnArg: Node, o: VarRef, call: Node): void {
    const fnName = fnArg.text;
    if (!this.fns.has(fnName)) throw this.err(fnArg, `release function '${fnName}' is not defined in this file`);
    this.inlineWith(b, frame, fnName, [{ var: o }], null, null, call);
  }

  private inline(b: Builder, frame: Frame, name: string, a: Node[], dst: VarRef | null, c: Cond | null, call: Node): void {
    const values: Array<{ var: VarRef } | { node: Node }> = a.map((x) => ({ node: x }));
    this.inlineWith(b, frame, name, values, dst, c, call);
  }

  private inlineWith(b: Builder, frame: Frame, name: string, values: Array<{ var: VarRef } | { node: Node }>, dst: VarRef | null, c: Cond | null, call: Node): void {
    if (this.inlineDepth > 8) throw this.err(call, `call depth too large inlining ${name} (recursion?)`);
    const fn = this.fns.get(name)!;
    const params = this.params(fn);
    const k = ++this.inlineCounter;
    const inner: Frame = { vars: new Map(), labels: new Map(), retLabel: b.label(), retDst: null, fn: `${name}#${k}`, assigned: assignedNames(fn.childForFieldName('body')!) };
    const src = this.src(call);
    params.forEach((p, i) => {
      const ptrParam = /\*/.test(this.orig(p.node));
      const v = values[i];
      // A parameter the callee never assigns, bound to a local of this actor, is an alias (no copy step).
      const local = v ? ('var' in v ? v.var : this.tryObjVar(frame, v.node)) : null;
      if (local !== null && local >= 0 && !inner.assigned.has(p.name)) {
        inner.vars.set(p.name, { ref: local, ptr: ptrParam });
        return;
      }
      const slot = b.slot(`${name}.${p.name}`);
      inner.vars.set(p.name, { ref: slot, ptr: ptrParam });
      if (!v) return;
      if ('var' in v) b.emit({ op: 'assign', dst: slot, value: { var: v.var }, next: b.here + 1, src });
      else {
        const ov = this.tryObjVar(frame, v.node);
        if (ov !== null) b.emit({ op: 'assign', dst: slot, value: { var: ov }, next: b.here + 1, src });
        else if (/^-?\d+$/.test(v.node.text)) b.emit({ op: 'assign', dst: slot, value: { const: Number.parseInt(v.node.text, 10) }, next: b.here + 1, src });
      }
    });
    let resultSlot: VarRef | null = dst;
    if (c && resultSlot === null) resultSlot = b.slot(`${name}.$ret`);
    inner.retDst = resultSlot;
    this.inlineDepth++;
    try {
      this.block(b, inner, fn.childForFieldName('body')!);
    } finally {
      this.inlineDepth--;
    }
    b.place(inner.retLabel!);
    if (c && resultSlot !== null) b.emit({ op: 'test', a: { var: resultSlot }, cmp: '!=0', next: b.ref(c.t), alt: b.ref(c.f), src });
  }

  /** `x`, `container_of(x, ...)`, `rcu_dereference(x)`: the variable x (name and ref), else null. */
  private tryPassthroughVar(frame: Frame, n: Node): { name: string; ref: VarRef } | null {
    let x = n.type === 'parenthesized_expression' && n.namedChild(0) ? n.namedChild(0)! : n;
    while (x.type === 'call_expression' && PASSTHROUGH.has(calleeName(x)) && args(x)[0]) x = args(x)[0]!;
    x = stripAddr(x);
    if (x.type !== 'identifier') return null;
    const v = this.lookupVar(frame, x);
    return v ? { name: x.text, ref: v.ref } : null;
  }

  private tryObjVar(frame: Frame, n: Node): VarRef | null {
    let x = stripAddr(n);
    while (x.type === 'call_expression' && PASSTHROUGH.has(calleeName(x)) && args(x)[0]) x = stripAddr(args(x)[0]!);
    const id = baseIdent(x);
    const v = id ? this.lookupVar(frame, id) : null;
    return v ? v.ref : null;
  }

  build(name: string, file: string, threads: string[], setup: string | null): SimModel {
    const setupProg = setup ? this.compileProgram(setup, 'thread') : null;
    const threadProgs = threads.map((t) => this.compileProgram(t, 'thread'));
    return {
      name,
      file,
      locks: this.locks,
      structs: this.structs,
      globals: this.globals,
      sites: this.sites,
      programs: this.programs,
      threads: threadProgs,
      setup: setupProg,
    };
  }
}
