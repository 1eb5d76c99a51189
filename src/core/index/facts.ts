/**
 * Per-file facts for the workspace index: pure, plain JSON (cached on disk by
 * hosts, shipped across worker threads), extracted from the same ParsedFile
 * the lock analysis uses (`extractFactsFromParsed`: one parse per file for
 * both; `extractFileFacts` parses and extracts). Everything the index
 * and the wrapper learner need is extracted here once, relative to the file:
 * struct definitions, typedefs, globals, function definitions with their
 * parameters, local variable types, calls (callee, argument keys, locks held at
 * the call by a syntactic scan along the function, how the result is used),
 * returned expressions, pointer stores into fields, and function-pointer
 * initialisers (`.free = foo_free`).
 *
 * Expressions are stored as keys in the lock-identity normal form
 * (`&obj->base.refcount` -> `obj.base.refcount`, see analysis/lockid.ts). Types
 * are spelled `struct foo`, `union foo` or a typedef/base name (`atomic_t`),
 * with a pointer depth.
 */
import type { Point, SyntaxNode as Node } from '../parse/syntax';
import { indexCatalog, builtinCatalog, type CatalogIndex } from '../catalog/index';
import type { CParser } from '../parse/parser';
import { functionName, hasDamage, parseKernelC, type FunctionInfo, type ParsedFile } from '../parse/source';
import { lockKey } from '../analysis/lockid';
import { splitArgs } from '../cfg/build';

/** Bump when the shape or content of FileFacts changes: cached facts of another version are ignored. */
export const FACTS_VERSION = 5;

export interface TypeRef {
  /** `struct foo`, `union foo`, `atomic_t`, `u32`... */
  t: string;
  /** Pointer depth (0 = embedded / by value). */
  p: number;
}

export interface FieldFact extends TypeRef {
  n: string;
  /** Declared `__rcu`. */
  rcu?: 1;
  /** Array field. */
  arr?: 1;
}

export interface StructFact {
  /** `struct foo` / `union foo` (anonymous nested types are named `struct outer::field`). */
  name: string;
  line: number;
  fields: FieldFact[];
}

export interface GlobalFact extends TypeRef {
  n: string;
  line: number;
  static?: 1;
  rcu?: 1;
}

export interface ParamFact extends TypeRef {
  n: string;
}

export interface CallFact {
  /** Callee name; `->field` for a call through a function pointer field, `*` when unknown. */
  c: string;
  l: number;
  col: number;
  /** Argument keys (lock-identity normal form, capped). */
  a: string[];
  /** Lock keys held at the call (syntactic scan); `rcu` for an RCU read-side section. */
  h?: string[];
  /** The result is assigned to this variable key. */
  s?: string;
  /** The result is returned directly. */
  ret?: 1;
  /** The result is tested (if/while/ternary/!/&&/||). */
  cond?: 1;
  /** The result is ignored (expression statement). */
  ign?: 1;
  /**
   * The call runs on some paths of the function only: in a branch of a test
   * that is not a NULL/IS_ERR check (`if (x)`, `if (!IS_ERR(x))`), a loop or
   * switch body, a `?:` arm or the right of `&&`/`||`, or after a return or
   * goto that such a test guards (a put there drops a reference only sometimes).
   */
  g?: 1;
  /** The call is in the body of `if (WARN_ON(...))` (a "cannot happen" branch). */
  w?: 1;
  /** An iterator macro (`list_for_each_entry(pos, head, member) {`). */
  it?: 1;
}

export interface StoreFact {
  l: number;
  /** Assigned location key (`dev.obj`, `*p`). */
  to: string;
  /** Assigned value key (identifier or `call:name`). */
  v: string;
}

export interface FunctionFact {
  name: string;
  line: number;
  endLine: number;
  /** Offsets of the definition in the file's text (start, end), as the syntax tree gives them. */
  span: [number, number];
  static?: 1;
  inline?: 1;
  damaged?: 1;
  ret: TypeRef;
  params: ParamFact[];
  /** Local variables with their types (later declarations of the same name win). */
  vars: Record<string, TypeRef>;
  calls: CallFact[];
  /** Returned expression keys, in source order. */
  returns: string[];
  stores: StoreFact[];
}

export interface PrototypeFact {
  name: string;
  line: number;
  ret: TypeRef;
  params: ParamFact[];
}

export interface FileFacts {
  version: number;
  file: string;
  structs: StructFact[];
  typedefs: Record<string, string>;
  globals: GlobalFact[];
  functions: FunctionFact[];
  prototypes: PrototypeFact[];
  /** Function-pointer initialisers: [field, function name]. */
  fptrs: [string, string][];
  /** `kmem_cache_create(...)` with SLAB_TYPESAFE_BY_RCU: the cache variable keys. */
  typesafeCaches: string[];
  stats: { functions: number; damaged: number; bytes: number };
}

const MAX_KEY = 96;
const MAX_CALLS_PER_FUNCTION = 4000;

/** Global macro declarations (`static LIST_HEAD(x);`) and the type they declare. */
const DECL_MACROS: Record<string, string> = {
  LIST_HEAD: 'struct list_head', HLIST_HEAD: 'struct hlist_head', DEFINE_IDR: 'struct idr', DEFINE_XARRAY: 'struct xarray',
  DEFINE_XARRAY_ALLOC: 'struct xarray', DEFINE_XARRAY_ALLOC1: 'struct xarray', DEFINE_XARRAY_FLAGS: 'struct xarray', DEFINE_HASHTABLE: 'struct hlist_head',
  DEFINE_READ_MOSTLY_HASHTABLE: 'struct hlist_head', RADIX_TREE: 'struct radix_tree_root', DEFINE_MUTEX: 'struct mutex', DEFINE_SPINLOCK: 'spinlock_t',
  DEFINE_RWLOCK: 'rwlock_t', DECLARE_RWSEM: 'struct rw_semaphore', DEFINE_IDA: 'struct ida', LLIST_HEAD: 'struct llist_head',
};

/** `x`, `&x`, `a->b.c`, `0`: spellings whose lock key is the text without `&` and `->` as `.`, without lockKey's regex rounds. */
const SIMPLE_KEY = /^&?\w+(?:(?:->|\.)[A-Za-z_]\w*)*$/;

function keyUncached(text: string): string {
  let k: string;
  if (SIMPLE_KEY.test(text)) {
    k = text.charCodeAt(0) === 38 /* & */ ? text.slice(1) : text;
    if (k.includes('->')) k = k.replaceAll('->', '.');
  } else k = lockKey(text);
  return k.length > MAX_KEY ? k.slice(0, MAX_KEY) : k;
}

/*
 * Cost model (web-tree-sitter 0.25): every Node getter but `startIndex` and
 * `startPosition` is a call into WASM with the node marshalled through a
 * transfer buffer, and every Node handed out (namedChild, childForFieldName,
 * parent) is a new JS object; the text is plain JS. Extraction used to cost
 * about 0.9x the parse of the same file, almost all of it in that traffic; the
 * walks below keep it near 0.45x:
 * - each node's `type` is read once and passed down with the parent's and the
 *   grandparent's types (no `.parent`), children come from one `namedChildren`
 *   call (no `namedChild(i)` loops, which re-read `namedChildCount` and rescan
 *   the children each time), named leaves are never entered, and the top level
 *   is walked with a cursor (no Node for the `#define`s of a register header);
 * - subtrees whose text has no `(`, `=` or `{` are skipped (nothing to record);
 * - common shapes are read from the normalised text instead of the tree:
 *   `name(args)` calls, `f(x);`, `lhs = f(x);` and `return x;` statements,
 *   plain declarators (`*name[N]`), `struct foo` types and plain parameters
 *   and fields. Each shortcut accepts only text that can have one parse (an
 *   identifier that is no keyword, balanced parentheses ending the node,
 *   blanks only), so it gives what the tree gives; statement shortcuts are
 *   used only in functions without ERROR or MISSING nodes. The unit tests
 *   compare a clean function with a damaged twin (which takes the tree).
 */

/**
 * Every identifier-like string token of tree-sitter-c 0.24.1's grammar
 * (keywords, primitive types, true/false/null): a word in this set may not be
 * an identifier node, so the text shortcuts below leave it to the tree.
 */
const NOT_IDENTIFIERS = new Set(`FALSE NULL TRUE _Alignas _Alignof _Atomic _Generic _Nonnull _Noreturn __alignof __alignof__ __asm
  __asm__ __attribute __attribute__ __based __cdecl __clrcall __declspec __except __extension__ __fastcall __finally __forceinline
  __inline __inline__ __leave __restrict __restrict__ __sptr __stdcall __thiscall __thread __try __unaligned __uptr __vectorcall
  __volatile__ _alignof _unaligned alignas alignof asm auto bool break case char char16_t char32_t char64_t char8_t charptr_t const
  constexpr continue default defined do double else enum extern false float for goto if inline int int16_t int32_t int64_t int8_t
  intptr_t long max_align_t noreturn nullptr nullptr_t offsetof ptrdiff_t register restrict return short signed size_t sizeof ssize_t
  static struct switch thread_local true typedef uint16_t uint32_t uint64_t uint8_t uintptr_t union unsigned void volatile while`.split(/\s+/));

/** Named node types that have no named children worth a walk (tokens and literals). */
const LEAVES = new Set([
  'identifier', 'field_identifier', 'type_identifier', 'statement_identifier', 'primitive_type', 'number_literal', 'comment',
  'true', 'false', 'null', 'string_literal', 'char_literal',
]);

/** `struct foo` / `union foo` as the whole text of a type: a struct_specifier whose name is `foo`. */
const STRUCT_REF = /^(struct|union)\s+([A-Za-z_]\w*)$/;

function typeText(ctx: Ctx, n: Node | null): string {
  if (!n) return 'int';
  const src = ctx.normalized;
  const c0 = src.charCodeAt(n.startIndex);
  if (c0 === 115 /* s */ || c0 === 117 /* u */) {
    const m = STRUCT_REF.exec(src.slice(n.startIndex, n.endIndex));
    if (m && !NOT_IDENTIFIERS.has(m[2]!)) return `${m[1]} ${m[2]}`;
  }
  const t = n.type;
  switch (t) {
    case 'struct_specifier':
    case 'union_specifier': {
      const name = n.childForFieldName('name');
      return `${t === 'struct_specifier' ? 'struct' : 'union'} ${name ? name.text : '<anon>'}`;
    }
    case 'enum_specifier':
      return 'enum';
    case 'sized_type_specifier':
      return ctx.text.slice(n.startIndex, n.endIndex).replace(/\s+/g, ' ');
    default:
      return ctx.normalized.slice(n.startIndex, n.endIndex);
  }
}

interface DeclInfo {
  name: string | null;
  p: number;
  arr: boolean;
  fn: Node | null;
}

/** `name`, `*name`, `**name`, `*name[N]`: a declarator read from its text alone (stars, name, array brackets). */
const PLAIN_DECLARATOR = /^((?:\*\s*)*)([A-Za-z_]\w*)\s*((?:\[[^[\]()]*\]\s*)*)$/;

/** Walk a declarator: name, pointer depth, array. */
function declInfo(ctx: Ctx, d: Node | null): DeclInfo {
  let p = 0;
  let arr = false;
  let fn: Node | null = null;
  for (let i = 0; d && i < 24; i++) {
    // Plain declarators are read from the text: pointer_declarator^k(array_declarator^j(identifier)).
    const m = PLAIN_DECLARATOR.exec(ctx.normalized.slice(d.startIndex, d.endIndex));
    if (m && !NOT_IDENTIFIERS.has(m[2]!)) {
      let stars = 0;
      for (const ch of m[1]!) if (ch === '*') stars++;
      return { name: m[2]!, p: p + stars, arr: arr || m[3] !== '', fn };
    }
    switch (d.type) {
      case 'identifier':
      case 'field_identifier':
      case 'type_identifier':
        return { name: ctx.normalized.slice(d.startIndex, d.endIndex), p, arr, fn };
      case 'pointer_declarator':
      case 'abstract_pointer_declarator':
        p++;
        d = d.childForFieldName('declarator');
        break;
      case 'array_declarator':
        arr = true;
        d = d.childForFieldName('declarator');
        break;
      case 'function_declarator':
        fn ??= d;
        d = d.childForFieldName('declarator');
        break;
      case 'init_declarator':
        d = d.childForFieldName('declarator');
        break;
      case 'parenthesized_declarator':
        d = d.namedChild(0);
        break;
      default: {
        const inner: Node | null = d.childForFieldName('declarator');
        if (!inner) return { name: null, p, arr, fn };
        d = inner;
      }
    }
  }
  return { name: null, p, arr, fn };
}

interface Ctx {
  /** The user's text (original spellings). */
  text: string;
  /** The normalised text the tree was built from (what `Node.text` returns). */
  normalized: string;
  cat: CatalogIndex;
  facts: FileFacts;
  anonCounter: number;
  /** Memoised keys: argument spellings repeat a lot within a file. */
  keys: Map<string, string>;
}

function key(ctx: Ctx, text: string): string {
  let k = ctx.keys.get(text);
  if (k === undefined) {
    k = keyUncached(text);
    ctx.keys.set(text, k);
  }
  return k;
}

function lineOf(n: Node): number {
  return n.startPosition.row + 1;
}

function nodeText(ctx: Ctx, n: Node): string {
  return ctx.normalized.slice(n.startIndex, n.endIndex);
}

/* ------------------------------------------------------------ structs */

function structFact(ctx: Ctx, spec: Node, name: string, body: Node | null = spec.childForFieldName('body')): void {
  if (!body) return;
  const fields: FieldFact[] = [];
  collectFields(ctx, body, name, fields);
  ctx.facts.structs.push({ name, line: lineOf(spec), fields });
}

function collectFields(ctx: Ctx, body: Node, owner: string, fields: FieldFact[]): void {
  for (const f of body.namedChildren) {
    if (!f) continue;
    const ft = f.type;
    if (ft === 'preproc_if' || ft === 'preproc_ifdef' || ft === 'preproc_else' || ft === 'preproc_elif') {
      collectFields(ctx, f, owner, fields);
      continue;
    }
    if (ft !== 'field_declaration') continue;
    const original = ctx.text.slice(f.startIndex, f.endIndex);
    const rcu = original.includes('__rcu') && /\b__rcu\b/.test(original);
    const plain = plainDecl(PLAIN_FIELD, ctx.normalized.slice(f.startIndex, f.endIndex));
    if (plain && plain.name) {
      const ff: FieldFact = { n: plain.name, t: plain.t, p: plain.p };
      if (rcu) ff.rcu = 1;
      fields.push(ff);
      continue;
    }
    const tn = f.childForFieldName('type');
    const tnType = tn ? tn.type : '';
    let t = typeText(ctx, tn);
    const decls = f.childrenForFieldName('declarator').filter((d): d is Node => d !== null);
    if (tn && (tnType === 'struct_specifier' || tnType === 'union_specifier')) {
      const tbody = tn.childForFieldName('body');
      if (tbody) {
        if (decls.length === 0) {
          // Anonymous member: its fields belong to the owner.
          collectFields(ctx, tbody, owner, fields);
          continue;
        }
        if (!tn.childForFieldName('name')) {
          const first = declInfo(ctx, decls[0]!).name ?? `anon${ctx.anonCounter++}`;
          t = `${tnType === 'struct_specifier' ? 'struct' : 'union'} ${owner.replace(/^(struct|union) /, '')}::${first}`;
        }
        structFact(ctx, tn, t, tbody);
      }
    }
    for (const d of decls) {
      const info = declInfo(ctx, d);
      if (!info.name || info.fn) continue;
      const ff: FieldFact = { n: info.name, t, p: info.p };
      if (rcu) ff.rcu = 1;
      if (info.arr) ff.arr = 1;
      fields.push(ff);
    }
  }
}

/* ------------------------------------------------------------ top level */

/** The primitive_type words of tree-sitter-c (a type word may be one of these or an identifier). */
const PRIMITIVES = new Set(`bool char int float double void size_t ssize_t ptrdiff_t intptr_t uintptr_t charptr_t nullptr_t max_align_t
  int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t char8_t char16_t char32_t char64_t`.split(/\s+/));

/**
 * `[const] [struct|union] T [*...] [name]` as the whole text of a parameter or
 * (with `;`) of a field declaration: the type (`struct T` or the word T), the
 * pointer depth and the name, read without asking the tree. Anything else
 * (qualifiers after the type, arrays, function pointers, bitfields, several
 * names, comments) gives null.
 */
const PLAIN_NAMED = /^(?:const\s+)?(?:(struct|union)\s+)?([A-Za-z_]\w*)((?:\s*\*)+\s*|\s+)([A-Za-z_]\w*)$/;
const PLAIN_UNNAMED = /^(?:const\s+)?(?:(struct|union)\s+)?([A-Za-z_]\w*)((?:\s*\*)*)\s*$/;
const PLAIN_FIELD = /^(?:const\s+)?(?:(struct|union)\s+)?([A-Za-z_]\w*)((?:\s*\*)+\s*|\s+)([A-Za-z_]\w*)\s*;$/;

function plainDecl(re: RegExp, text: string): { t: string; p: number; name: string | null } | null {
  const m = re.exec(text);
  if (!m) return null;
  const tag = m[1];
  const word = m[2]!;
  const name = m[4];
  if (tag ? NOT_IDENTIFIERS.has(word) : NOT_IDENTIFIERS.has(word) && !PRIMITIVES.has(word)) return null;
  if (name !== undefined && NOT_IDENTIFIERS.has(name)) return null;
  let p = 0;
  for (const ch of m[3] ?? '') if (ch === '*') p++;
  return { t: tag ? `${tag} ${word}` : word, p, name: name ?? null };
}

function params(ctx: Ctx, fnDecl: Node | null): ParamFact[] {
  const out: ParamFact[] = [];
  const list = fnDecl?.childForFieldName('parameters');
  if (!list) return out;
  for (const p of list.namedChildren) {
    if (!p || p.type !== 'parameter_declaration') continue;
    const ptext = ctx.normalized.slice(p.startIndex, p.endIndex);
    const plain = plainDecl(PLAIN_NAMED, ptext) ?? plainDecl(PLAIN_UNNAMED, ptext);
    if (plain) {
      if (!plain.name && plain.t === 'void' && plain.p === 0) continue;
      out.push({ n: plain.name ?? `$${out.length}`, t: plain.t, p: plain.p });
      continue;
    }
    const info = declInfo(ctx, p.childForFieldName('declarator'));
    const t = typeText(ctx, p.childForFieldName('type'));
    if (!info.name && t === 'void' && info.p === 0) continue;
    out.push({ n: info.name ?? `$${out.length}`, t, p: info.p + (info.arr ? 1 : 0) });
  }
  return out;
}

const TOP_CONTAINERS = new Set(['preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef', 'linkage_specification', 'declaration_list']);

/** Top-level items in document order; siblings by index, a node object only for the items that give facts. */
function visitTop(ctx: Ctx, n: Node, fns: Node[]): void {
  const t = n.tree;
  const stop = t.subtreeEnd[n.index]!;
  for (let i = n.index + 1; i < stop; i = t.subtreeEnd[i]!) {
    const type = t.lang.typeNames[t.typeId[i]!]!;
    switch (type) {
      case 'function_definition':
        fns.push(t.node(i));
        break;
      case 'declaration':
      case 'type_definition':
        topDeclaration(ctx, t.node(i), type === 'type_definition');
        break;
      case 'struct_specifier':
      case 'union_specifier': {
        const c = t.node(i);
        const name = c.childForFieldName('name');
        if (name) structFact(ctx, c, typeText(ctx, c));
        break;
      }
      case 'expression_statement':
        topMacroCall(ctx, t.node(i));
        break;
      default:
        if (TOP_CONTAINERS.has(type) && t.lang.namedType[t.typeId[i]!]) visitTop(ctx, t.node(i), fns);
        break;
    }
  }
}

function topMacroCall(ctx: Ctx, st: Node): void {
  const call = st.namedChild(0);
  if (!call || call.type !== 'call_expression') return;
  const fn = call.childForFieldName('function');
  if (!fn || fn.type !== 'identifier') return;
  const t = DECL_MACROS[nodeText(ctx, fn)];
  if (!t) return;
  const args = call.childForFieldName('arguments');
  const first = args?.namedChild(0);
  if (first && first.type === 'identifier') ctx.facts.globals.push({ n: nodeText(ctx, first), t, p: 0, line: lineOf(st) });
}

function scanInitializer(ctx: Ctx, n: Node, depth = 0): void {
  if (depth > 6) return;
  for (const c of n.namedChildren) {
    if (!c) continue;
    const ct = c.type;
    if (ct === 'initializer_pair') {
      const d = c.childForFieldName('designator') ?? c.namedChild(0);
      const v = c.childForFieldName('value');
      if (d && v) {
        const vt = v.type;
        if (vt === 'identifier' && d.type === 'field_designator') ctx.facts.fptrs.push([nodeText(ctx, d).replace(/^\./, ''), nodeText(ctx, v)]);
        else if (vt === 'initializer_list') scanInitializer(ctx, v, depth + 1);
      }
    } else if (ct === 'initializer_list') scanInitializer(ctx, c, depth + 1);
  }
}

function topDeclaration(ctx: Ctx, d: Node, isTypedef: boolean): void {
  const tn = d.childForFieldName('type');
  const tnType = tn ? tn.type : '';
  let t = typeText(ctx, tn);
  const decls = d.childrenForFieldName('declarator').filter((x): x is Node => x !== null);
  if (tn && (tnType === 'struct_specifier' || tnType === 'union_specifier')) {
    const body = tn.childForFieldName('body');
    if (body) {
      if (!tn.childForFieldName('name')) {
        const first = decls.length ? declInfo(ctx, decls[0]!).name : null;
        t = `${tnType === 'struct_specifier' ? 'struct' : 'union'} ${first ?? `anon${ctx.anonCounter++}`}`;
      }
      structFact(ctx, tn, t, body);
    }
  }
  const original = ctx.text.slice(d.startIndex, d.endIndex);
  const isStatic = /^\s*static\b/.test(original);
  for (const decl of decls) {
    const info = declInfo(ctx, decl);
    if (!info.name) continue;
    if (isTypedef) {
      if (info.p === 0 && !info.fn) ctx.facts.typedefs[info.name] = t;
      continue;
    }
    if (info.fn) {
      ctx.facts.prototypes.push({ name: info.name, line: lineOf(d), ret: { t, p: info.p }, params: params(ctx, info.fn) });
      continue;
    }
    // `static LIST_HEAD(x);` parses as a declaration of `x` with type LIST_HEAD.
    const macroType = tnType === 'type_identifier' ? DECL_MACROS[t] : undefined;
    const g: GlobalFact = { n: info.name, t: macroType ?? t, p: info.p, line: lineOf(d) };
    if (isStatic) g.static = 1;
    if (original.includes('__rcu') && /\b__rcu\b/.test(original)) g.rcu = 1;
    ctx.facts.globals.push(g);
    if (decl.type === 'init_declarator') {
      const v = decl.childForFieldName('value');
      if (v && v.type === 'initializer_list') scanInitializer(ctx, v);
    }
  }
}

/* ------------------------------------------------------------ functions */

interface FnState {
  ctx: Ctx;
  fact: FunctionFact;
  held: string[];
  /** Guard locks released at the end of the enclosing compound statement. */
  guardStack: number[];
  /** The assignment whose sides are being walked (a call on its right is stored to its left). */
  asg: Sides | null;
  /** No ERROR or MISSING node in the function: the text shortcuts apply (damaged ones ask the tree for everything). */
  clean: boolean;
  /** Depth of regions that run on some paths only (CallFact.g) ... */
  branch: number;
  /** ... of branches of NULL/IS_ERR tests (a return there leaves the rest of the function unconditional) ... */
  nullBranch: number;
  /** ... and a return or goto seen that only some paths take: everything after it is on some paths only. */
  jumped: boolean;
  /** Depth of `if (WARN_ON(...))` bodies (CallFact.w). */
  warn: number;
}

/** `(WARN_ON(x))`, `(unlikely(WARN_ON_ONCE(x)))`, `(!WARN(x, ...))`: a test that reports a "cannot happen". */
const WARN_TEST = /^\(\s*(?:unlikely\s*\(\s*)?!?\s*WARN(?:_ON)?(?:_ONCE)?\s*\(/;

/**
 * `(!IS_ERR(x))`, `(IS_ERR_OR_NULL(x->y))`, `(x != NULL)`, `(unlikely(!p))`, and
 * `(x)`/`(!x)` when x is a pointer variable or parameter: a test of whether a
 * pointer is there at all (a put behind it is the wrapper's whole job, not a
 * put on some paths only). `(ret)` on an int, or `(!w->flag)`, is not.
 */
const POINTER_TEST = /^\(\s*(?:(?:likely|unlikely)\s*\(\s*)?!?\s*(?:(IS_ERR_OR_NULL|IS_ERR|ZERO_OR_NULL_PTR)\s*\(\s*)?([A-Za-z_]\w*(?:(?:->|\.)[A-Za-z_]\w*)*)\s*\)?\s*([!=]=\s*NULL\s*)?\)?\s*\)$/;

function isPointerTest(s: FnState, text: string): boolean {
  const m = POINTER_TEST.exec(text);
  if (!m) return false;
  if (m[1] || m[3]) return true;
  const name = m[2]!;
  if (!/^[A-Za-z_]\w*$/.test(name)) return false;
  const t = s.fact.vars[name] ?? s.fact.params.find((p) => p.n === name);
  return !!t && t.p > 0;
}

/** A return or goto: with it taken on some paths only, what follows runs on the others only. */
function noteJump(s: FnState): void {
  if (s.branch > 0 || s.nullBranch === 0) s.jumped = true;
}

/** Walk a region that runs on some paths only (`nullTest`: a branch of a NULL/IS_ERR test). */
function inBranch(s: FnState, nullTest: boolean, run: () => void): void {
  if (nullTest) s.nullBranch++;
  else s.branch++;
  try {
    run();
  } finally {
    if (nullTest) s.nullBranch--;
    else s.branch--;
  }
}

interface Sides {
  node: Node;
  left: Node | null;
  right: Node | null;
  lt: string;
  rt: string;
}

/** An assignment's sides: its two named children when it has exactly those two, else by field. */
function assignmentSides(n: Node): Sides {
  const kids = n.namedChildren;
  if (kids.length === 2 && kids[0] && kids[1]) {
    const lt = kids[0].type;
    const rt = kids[1].type;
    if (lt !== 'comment' && lt !== 'ERROR' && rt !== 'comment' && rt !== 'ERROR') return { node: n, left: kids[0], right: kids[1], lt, rt };
  }
  const left = n.childForFieldName('left');
  const right = n.childForFieldName('right');
  return { node: n, left, right, lt: left ? left.type : '', rt: right ? right.type : '' };
}

function heldCopy(s: FnState): string[] | undefined {
  return s.held.length ? s.held.slice() : undefined;
}

function removeHeld(s: FnState, k: string): void {
  const i = s.held.lastIndexOf(k);
  if (i >= 0) s.held.splice(i, 1);
}

const JUMPS = new Set(['return_statement', 'goto_statement', 'break_statement', 'continue_statement']);

/** The statement (a block: its last statement, comments skipped) ends in a jump. */
function endsWithJump(n: Node, type: string): boolean {
  if (type !== 'compound_statement') return JUMPS.has(type);
  const kids = n.namedChildren;
  let i = kids.length - 1;
  let t = i >= 0 ? kids[i]?.type : undefined;
  while (t === 'comment' && i > 0) t = kids[--i]?.type;
  return t !== undefined && JUMPS.has(t);
}

function argKeys(s: FnState, open: number): string[] {
  const split = splitArgs(s.ctx.text, open);
  if (!split) return [];
  const out = new Array<string>(split.args.length);
  for (let i = 0; i < split.args.length; i++) out[i] = key(s.ctx, split.args[i]!);
  return out;
}

const IDENT = /[A-Za-z_]\w*/y;


/** Index of the `)` matching the `(` at `open` (string and character literals and comments skipped), or -1 before `limit`. */
function closeParen(src: string, open: number, limit: number): number {
  let depth = 0;
  for (let i = open; i < limit; i++) {
    const ch = src.charCodeAt(i);
    if (ch === 40 /* ( */) depth++;
    else if (ch === 41 /* ) */) {
      if (--depth === 0) return i;
    } else if (ch === 34 /* " */ || ch === 39 /* ' */) {
      for (i++; i < limit; i++) {
        const c = src.charCodeAt(i);
        if (c === 92 /* \ */) i++;
        else if (c === ch || c === 10) break;
      }
    } else if (ch === 47 /* / */) {
      const next = src.charCodeAt(i + 1);
      if (next === 42 /* * */) {
        const e = src.indexOf('*/', i + 2);
        if (e < 0 || e >= limit) return -1;
        i = e + 1;
      } else if (next === 47) {
        const e = src.indexOf('\n', i + 2);
        if (e < 0 || e >= limit) return -1;
        i = e;
      }
    }
  }
  return -1;
}

interface SimpleCall {
  /** The callee identifier. */
  name: string;
  /** Offset of the argument list's `(`. */
  open: number;
  /** End offset of the call (and of its argument list). */
  end: number;
}

/**
 * `name (args)` read from the text: an identifier at the call's start, blanks,
 * and a `(` whose matching `)` ends the call. Then the call's function is that
 * identifier and its argument list starts at the `(`, which saves the Nodes
 * and WASM calls of asking the tree. Anything else (`obj->ops->f(x)`,
 * `guard(T)(x)`, comments in between) gives null: ask the tree.
 */
function simpleCall(ctx: Ctx, call: Node): SimpleCall | null {
  const src = ctx.normalized;
  const start = call.startIndex;
  IDENT.lastIndex = start;
  const m = IDENT.exec(src);
  if (!m) return null;
  const name = m[0];
  let q = start + name.length;
  for (let ch = src.charCodeAt(q); ch === 32 || ch === 9 || ch === 10 || ch === 13; ch = src.charCodeAt(++q));
  if (src.charCodeAt(q) !== 40 || NOT_IDENTIFIERS.has(name)) return null;
  const end = call.endIndex;
  return closeParen(src, q, end) === end - 1 ? { name, open: q, end } : null;
}

function calleeName(ctx: Ctx, fn: Node | null, type: string = fn ? fn.type : ''): string {
  if (!fn) return '*';
  if (type === 'identifier') return nodeText(ctx, fn);
  if (type === 'field_expression') {
    const f = fn.childForFieldName('field');
    return f ? `->${nodeText(ctx, f)}` : '*';
  }
  if (type === 'parenthesized_expression') return calleeName(ctx, fn.namedChild(0));
  if (type === 'pointer_expression') return calleeName(ctx, fn.childForFieldName('argument'));
  return '*';
}

/** `guard(T)(args)`: `fnNode` is the call `guard(T)`, `open` the offset of `(args)`. */
function recordGuard(s: FnState, fnNode: Node, open: number): void {
  const ctx = s.ctx;
  const inner = fnNode.childForFieldName('function');
  if (!inner || nodeText(ctx, inner) !== 'guard') return;
  const a = open >= 0 ? argKeys(s, open) : [];
  const t0 = fnNode.childForFieldName('arguments')?.namedChild(0);
  const ty = t0 ? nodeText(ctx, t0) : '';
  const k = ty === 'rcu' ? 'rcu' : a[0];
  if (k) {
    s.held.push(k);
    s.guardStack.push(s.held.length);
  }
}

/** The xarray's own spinlock (`xa_lock(&x->xa)`), not in the lock catalog: true = acquire. */
const XA_LOCKS: Record<string, boolean> = {
  xa_lock: true, xa_lock_irq: true, xa_lock_bh: true, xa_lock_irqsave: true,
  xa_unlock: false, xa_unlock_irq: false, xa_unlock_bh: false, xa_unlock_irqrestore: false,
};

/**
 * Record a call: `sc` when it is a plain `name(args)` (else the tree is asked),
 * `open` the offset of its argument list (-1: none), `parent`/`pt` its parent
 * and the parent's type, `gpt` the grandparent's type (how the result is used).
 * `call` is null for a call read from its statement's text (then `sc` is set,
 * and `assigned` is the key it is assigned to when `pt` is an assignment).
 */
function recordCall(
  s: FnState, call: Node | null, pos: Point, sc: SimpleCall | null, open: number, cond: boolean, parent: Node | null, pt: string, gpt: string,
  assigned?: string,
): void {
  const ctx = s.ctx;
  let c: string;
  if (sc || !call) c = sc ? sc.name : '*';
  else {
    const fnNode = call.childForFieldName('function');
    const fnType = fnNode ? fnNode.type : '';
    // guard(mutex)(&lock): the callee is itself a call `guard(T)`.
    if (fnNode && fnType === 'call_expression') {
      recordGuard(s, fnNode, open);
      return;
    }
    c = calleeName(ctx, fnNode, fnType);
  }
  if (s.fact.calls.length >= MAX_CALLS_PER_FUNCTION) return;
  const a = open >= 0 ? argKeys(s, open) : [];
  const cf: CallFact = { c, l: pos.row + 1, col: pos.column + 1, a };
  const h = heldCopy(s);
  if (h) cf.h = h;
  if (cond) cf.cond = 1;
  if (s.branch > 0 || s.jumped) cf.g = 1;
  if (s.warn > 0) cf.w = 1;
  if (parent) {
    if (pt === 'expression_statement') cf.ign = 1;
    else if (pt === 'cast_expression' && gpt === 'expression_statement') cf.ign = 1;
    else if (pt === 'return_statement') cf.ret = 1;
    else if (pt === 'assignment_expression' && !call && assigned !== undefined) cf.s = assigned;
    else if (pt === 'assignment_expression' && call && (s.asg?.node === parent ? s.asg : assignmentSides(parent)).right?.id === call.id) {
      const left = (s.asg?.node === parent ? s.asg : assignmentSides(parent)).left;
      if (left) cf.s = key(ctx, ctx.text.slice(left.startIndex, left.endIndex));
      if (gpt === 'parenthesized_expression' || cond) cf.cond = 1;
    } else if (pt === 'init_declarator') {
      const info = declInfo(ctx, parent.childForFieldName('declarator'));
      if (info.name) cf.s = info.name;
    }
  }
  s.fact.calls.push(cf);
  // Lock effects for the syntactic held-lock scan.
  if (c === 'rcu_read_lock' || c === 'rcu_read_lock_bh' || c === 'rcu_read_lock_sched' || c === 'srcu_read_lock') s.held.push('rcu');
  else if (c === 'rcu_read_unlock' || c === 'rcu_read_unlock_bh' || c === 'rcu_read_unlock_sched' || c === 'srcu_read_unlock') removeHeld(s, 'rcu');
  else if (ctx.cat.assertHeld.has(c) && a[0]) {
    if (!s.held.includes(a[0])) s.held.push(a[0]);
  } else if (XA_LOCKS[c] !== undefined && a[0]) {
    if (XA_LOCKS[c]) s.held.push(a[0]);
    else removeHeld(s, a[0]);
  } else {
    const op = ctx.cat.lockOps.get(c);
    if (op && op.lockArg >= 0 && op.kind !== 'rcu') {
      const k = a[op.lockArg];
      if (k) {
        if (op.op === 'acquire') s.held.push(k);
        else removeHeld(s, k);
      }
    }
  }
}

function recordIterator(s: FnState, w: Node): void {
  const text = s.ctx.text;
  const m = /^([A-Za-z_]\w*)\s*/.exec(text.slice(w.startIndex, w.startIndex + 80));
  if (!m || !/for_each/i.test(m[1]!)) return;
  const split = splitArgs(text, w.startIndex + m[0].length);
  if (!split) return;
  const pos = w.startPosition;
  const cf: CallFact = { c: m[1]!, l: pos.row + 1, col: pos.column + 1, a: split.args.map((x) => key(s.ctx, x)), it: 1 };
  const h = heldCopy(s);
  if (h) cf.h = h;
  s.fact.calls.push(cf);
}

function recordDeclaration(s: FnState, d: Node): void {
  const t = typeText(s.ctx, d.childForFieldName('type'));
  for (const decl of d.childrenForFieldName('declarator')) {
    if (!decl) continue;
    const info = declInfo(s.ctx, decl);
    if (info.name && !info.fn) s.fact.vars[info.name] = { t, p: info.p + (info.arr ? 1 : 0) };
  }
}

/** Record a pointer store (`obj->field = value`). */
function recordStore(s: FnState, a: Node, sd: Sides): void {
  const { left, right, lt, rt } = sd;
  if (!left || !right || s.fact.stores.length > 400) return;
  if (lt !== 'field_expression' && lt !== 'pointer_expression' && lt !== 'subscript_expression') return;
  const ctx = s.ctx;
  let v: string | null = null;
  if (rt === 'identifier') v = nodeText(ctx, right);
  else if (rt === 'call_expression') v = `call:${simpleCall(ctx, right)?.name ?? calleeName(ctx, right.childForFieldName('function'))}`;
  else if (rt === 'pointer_expression' && ctx.normalized.charCodeAt(right.startIndex) === 38 /* & */) v = key(ctx, ctx.text.slice(right.startIndex, right.endIndex));
  if (v === null || v === 'NULL') return;
  s.fact.stores.push({ l: lineOf(a), to: key(ctx, ctx.text.slice(left.startIndex, left.endIndex)), v });
}

/**
 * Expression (and a few declarator and jump) nodes whose subtree records
 * nothing when their text has no `(` (every call has one), `=` (assignments)
 * or `{` (statement expressions, which may declare): `obj->base.dev`,
 * `a[i] + 1`, `&x->lock`, `i++`, `*p`, `goto err`. Skipping them
 * saves a Node per descendant; the test is on the text the tree was built
 * from, comments and strings included (conservative).
 */
const PRUNABLE = new Set([
  'field_expression', 'subscript_expression', 'binary_expression', 'unary_expression', 'pointer_expression', 'update_expression',
  'parenthesized_expression', 'cast_expression', 'expression_statement', 'argument_list', 'initializer_list', 'goto_statement',
  'break_statement', 'continue_statement', 'struct_specifier', 'union_specifier', 'enum_specifier', 'pointer_declarator',
  'array_declarator', 'sized_type_specifier', 'type_descriptor',
]);

/** No `(`, `=` or `{` in [from, to): no call, assignment, or (statement-expression) declaration. */
function inertRange(src: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const ch = src.charCodeAt(i);
    if (ch === 40 /* ( */ || ch === 61 /* = */ || ch === 123 /* { */) return false;
  }
  return true;
}

function inert(ctx: Ctx, n: Node): boolean {
  return inertRange(ctx.normalized, n.startIndex + 1, n.endIndex - 1);
}

/** Walk the named children of `n` (of type `t`, whose parent has type `pt`) with the given condition flags. */
function walkChildren(s: FnState, n: Node, t: string, pt: string, cond: boolean, condId: number | undefined, kids: (Node | null)[] = n.namedChildren): void {
  for (const c of kids) if (c) walkChild(s, c, c.type, cond || (condId !== undefined && c.id === condId), t, n, pt);
}

/** Walk `c` (of type `ct`, child of `parent` of type `pt`, grandchild of a `gpt`) unless its text shows there is nothing to record. */
function walkChild(s: FnState, c: Node, ct: string, cond: boolean, pt: string, parent: Node, gpt: string): void {
  if (LEAVES.has(ct)) return;
  if (ct === 'goto_statement') {
    noteJump(s);
    return;
  }
  if (ct === 'return_statement') {
    // (the returned expression's calls run before the jump)
    if (!s.clean || !simpleReturn(s, c)) walk(s, c, ct, cond, pt, parent, gpt);
    noteJump(s);
    return;
  }
  if (ct === 'expression_statement' && s.clean) {
    if (simpleStatement(s, c, pt)) return;
  } else if (PRUNABLE.has(ct) && inert(s.ctx, c)) return;
  walk(s, c, ct, cond, pt, parent, gpt);
}

function skipBlanks(src: string, i: number, end: number): number {
  for (let ch = src.charCodeAt(i); i < end && (ch === 32 || ch === 9 || ch === 10 || ch === 13); ch = src.charCodeAt(++i));
  return i;
}

/**
 * An expression statement handled from its text alone, without a Node for
 * the call: nothing in it (`i++;`, `*p;`), or `name(args);` with inert
 * arguments, recorded as the ignored call it is. False: walk it.
 * (`pt` is the statement's parent type.)
 */
function simpleStatement(s: FnState, st: Node, pt: string): boolean {
  const src = s.ctx.normalized;
  const start = st.startIndex;
  const end = st.endIndex;
  if (inertRange(src, start + 1, end - 1)) return true;
  IDENT.lastIndex = start;
  const m = IDENT.exec(src);
  if (!m || src.charCodeAt(end - 1) !== 59 /* ; */) return false;
  const name = m[0];
  const open = skipBlanks(src, start + name.length, end);
  if (src.charCodeAt(open) !== 40 /* ( */) return simpleAssignment(s, st, start, end);
  if (NOT_IDENTIFIERS.has(name)) return false;
  const close = closeParen(src, open, end);
  if (close < 0 || skipBlanks(src, close + 1, end) !== end - 1 || !inertRange(src, open + 1, close)) return false;
  recordCall(s, null, st.startPosition, { name, open, end: close + 1 }, open, false, st, 'expression_statement', pt);
  return true;
}

/** Start of an assignment target read from the text: an identifier or a field chain (`ret`, `obj->base.dev`). */
const LVALUE = /[A-Za-z_]\w*(?:(?:->|\.)[A-Za-z_]\w*)*/y;

/**
 * `lhs = name(args);` with `lhs` an identifier or a field chain and inert
 * arguments, from the text alone: the store (for a field) and the call
 * assigned to `lhs`, as the walk of the assignment would record them.
 */
function simpleAssignment(s: FnState, st: Node, start: number, end: number): boolean {
  const ctx = s.ctx;
  const src = ctx.normalized;
  LVALUE.lastIndex = start;
  const lm = LVALUE.exec(src);
  if (!lm) return false;
  const lhsEnd = start + lm[0].length;
  const eq = skipBlanks(src, lhsEnd, end);
  if (src.charCodeAt(eq) !== 61 /* = */ || src.charCodeAt(eq + 1) === 61) return false;
  const callStart = skipBlanks(src, eq + 1, end);
  IDENT.lastIndex = callStart;
  const m = IDENT.exec(src);
  if (!m) return false;
  const name = m[0];
  const open = skipBlanks(src, callStart + name.length, end);
  if (src.charCodeAt(open) !== 40 /* ( */ || NOT_IDENTIFIERS.has(name) || NOT_IDENTIFIERS.has(/^\w+/.exec(lm[0])![0])) return false;
  const close = closeParen(src, open, end);
  if (close < 0 || skipBlanks(src, close + 1, end) !== end - 1 || !inertRange(src, open + 1, close)) return false;
  const pos = st.startPosition;
  const lhsKey = key(ctx, ctx.text.slice(start, lhsEnd));
  if (lm[0].includes('->') || lm[0].includes('.')) {
    if (s.fact.stores.length <= 400) s.fact.stores.push({ l: pos.row + 1, to: lhsKey, v: `call:${name}` });
  }
  // The call's position: the statement's, moved along the text.
  let row = pos.row;
  let col = pos.column + (callStart - start);
  for (let i = src.indexOf('\n', start); i >= 0 && i < callStart; i = src.indexOf('\n', i + 1)) {
    row++;
    col = callStart - i - 1;
  }
  recordCall(s, null, { row, column: col }, { name, open, end: close + 1 }, open, false, st, 'assignment_expression', 'expression_statement', lhsKey);
  return true;
}

/** `return;` / `return EXPR;` with nothing to walk in EXPR, from the text alone. False: walk it. */
function simpleReturn(s: FnState, st: Node): boolean {
  const src = s.ctx.normalized;
  const start = st.startIndex;
  const end = st.endIndex;
  if (src.charCodeAt(end - 1) !== 59 /* ; */ || !src.startsWith('return', start)) return false;
  const from = skipBlanks(src, start + 6, end - 1);
  let to = end - 1;
  while (to > from && /\s/.test(src[to - 1]!)) to--;
  if (from < to) {
    // One operand, maybe negated or a field chain (`0`, `-ENOMEM`, `obj`, `&dev->base`): the returned expression, nothing to walk.
    if (from === start + 6 || !SIMPLE_RETURN.test(src.slice(from, to))) return false;
    s.fact.returns.push(key(s.ctx, s.ctx.text.slice(from, to)));
  }
  return true;
}

const SIMPLE_RETURN = /^[-!~&*]?\w+(?:(?:->|\.)[A-Za-z_]\w*)*$/;

/**
 * The syntactic walk of a function body: calls in evaluation order (arguments
 * before the call), locks held along the way, declarations, stores, returns.
 * `t` is the type of `n`, `pt` of its parent `parent`, `gpt` of the grandparent.
 */
function walk(s: FnState, n: Node, t: string, cond: boolean, pt: string, parent: Node | null, gpt: string): void {
  switch (t) {
    case 'call_expression': {
      // Arguments first (inner calls happen before the outer one).
      const sc = s.clean ? simpleCall(s.ctx, n) : null;
      if (sc) {
        if (!inertRange(s.ctx.normalized, sc.open + 1, sc.end - 1)) {
          const args = n.childForFieldName('arguments');
          if (args) walk(s, args, 'argument_list', false, t, n, pt);
        }
        recordCall(s, n, n.startPosition, sc, sc.open, cond, parent, pt, gpt);
        return;
      }
      const args = n.childForFieldName('arguments');
      if (args) {
        const at = args.type;
        if (!LEAVES.has(at) && !(PRUNABLE.has(at) && inert(s.ctx, args))) walk(s, args, at, false, t, n, pt);
      }
      recordCall(s, n, n.startPosition, null, args ? args.startIndex : -1, cond, parent, pt, gpt);
      return;
    }
    case 'declaration':
      recordDeclaration(s, n);
      break;
    case 'assignment_expression': {
      const sd = assignmentSides(n);
      recordStore(s, n, sd);
      const outer = s.asg;
      s.asg = sd;
      walkChildren(s, n, t, pt, false, undefined);
      s.asg = outer;
      return;
    }
    case 'return_statement': {
      const kids = n.namedChildren;
      const e = kids[0];
      if (e && e.type !== 'comment') s.fact.returns.push(key(s.ctx, s.ctx.text.slice(e.startIndex, e.endIndex)));
      walkChildren(s, n, t, pt, false, undefined, kids);
      return;
    }
    case 'compound_statement': {
      const mark = s.guardStack.length;
      walkChildren(s, n, t, pt, false, undefined);
      while (s.guardStack.length > mark) {
        const len = s.guardStack.pop()!;
        s.held.splice(len - 1, 1);
      }
      return;
    }
    case 'if_statement': {
      const orig = s.ctx.text.slice(n.startIndex, n.startIndex + 20);
      // Fields from the named children when they are exactly `(cond) stmt [else]`.
      let condNode: Node | null = null;
      let cons: Node | null = null;
      let consType = '';
      let alt: Node | null | undefined;
      const kids = n.namedChildren;
      if ((kids.length === 2 || kids.length === 3) && kids[0] && kids[1] && kids[0].type === 'parenthesized_expression') {
        consType = kids[1].type;
        if (consType !== 'comment' && consType !== 'ERROR' && consType !== 'else_clause') {
          const last = kids[2];
          if (!last) alt = null;
          else if (last.type === 'else_clause') alt = last;
          if (alt !== undefined) {
            condNode = kids[0];
            cons = kids[1];
          }
        }
      }
      if (alt === undefined) {
        condNode = n.childForFieldName('condition');
        cons = n.childForFieldName('consequence');
        consType = cons ? cons.type : '';
      }
      if (orig.startsWith('scoped_') && /^scoped_(cond_)?guard/.test(orig) && condNode) {
        const split = splitArgs(s.ctx.text, n.startIndex + orig.indexOf('('));
        const ty = split?.args[0] ?? '';
        const lockArg = split ? (orig.startsWith('scoped_cond') ? split.args[2] : split.args[1]) : undefined;
        const k = ty === 'rcu' ? 'rcu' : lockArg ? key(s.ctx, lockArg) : undefined;
        if (k) s.held.push(k);
        if (cons) walkChild(s, cons, consType, false, t, n, pt);
        if (k) removeHeld(s, k);
        return;
      }
      if (alt === undefined) alt = n.childForFieldName('alternative');
      if (condNode) {
        const ct = condNode.type;
        walkChild(s, condNode, ct, true, t, n, pt);
      }
      const condText = condNode ? s.ctx.text.slice(condNode.startIndex, condNode.endIndex) : '';
      const nullTest = !!condNode && isPointerTest(s, condText);
      const warn = WARN_TEST.test(condText) ? 1 : 0;
      const before = s.held.slice();
      let after: string[] | null = null;
      if (cons) {
        const c = cons;
        s.warn += warn;
        inBranch(s, nullTest, () => walkChild(s, c, consType, false, t, n, pt));
        s.warn -= warn;
        if (!endsWithJump(cons, consType)) after = s.held.slice();
      }
      if (alt) {
        s.held = before.slice();
        const a = alt;
        const altType = alt.type;
        inBranch(s, nullTest, () => walkChild(s, a, altType, false, t, n, pt));
        if (!endsWithJump(alt, altType) && after === null) after = s.held.slice();
      } else if (after === null) after = before;
      s.held = after ?? before;
      return;
    }
    case 'while_statement': {
      recordIterator(s, n);
      const condNode = n.childForFieldName('condition');
      if (condNode && !/for_each/i.test(s.ctx.text.slice(n.startIndex, n.startIndex + 40))) {
        const ct = condNode.type;
        walkChild(s, condNode, ct, true, t, n, pt);
      }
      const body = n.childForFieldName('body');
      if (body) {
        const bt = body.type;
        inBranch(s, false, () => walkChild(s, body, bt, false, t, n, pt));
      }
      return;
    }
    case 'binary_expression': {
      const op = n.childForFieldName('operator')?.type;
      if (op === '&&' || op === '||') {
        // the right operand runs only when the left does not decide
        const left = n.childForFieldName('left');
        const right = n.childForFieldName('right');
        if (left) walkChild(s, left, left.type, true, t, n, pt);
        if (right) inBranch(s, false, () => walkChild(s, right, right.type, true, t, n, pt));
        return;
      }
      walkChildren(s, n, t, pt, cond || op === '==' || op === '!=', undefined);
      return;
    }
    case 'unary_expression': {
      const op = cond ? '' : n.childForFieldName('operator')?.type;
      walkChildren(s, n, t, pt, cond || op === '!', undefined);
      return;
    }
    case 'conditional_expression': {
      const condNode = n.childForFieldName('condition');
      if (condNode) {
        const ct = condNode.type;
        walkChild(s, condNode, ct, true, t, n, pt);
      }
      const cons = n.childForFieldName('consequence');
      if (cons) {
        const ct = cons.type;
        inBranch(s, false, () => walkChild(s, cons, ct, false, t, n, pt));
      }
      const alt = n.childForFieldName('alternative');
      if (alt) {
        const at = alt.type;
        inBranch(s, false, () => walkChild(s, alt, at, false, t, n, pt));
      }
      return;
    }
    case 'do_statement':
    case 'for_statement':
    case 'switch_statement': {
      // A for or switch body runs on some paths only (the initialiser, condition and switch value
      // on all of them); a do body runs at least once (`do { ... } while (0)`).
      const condId = t === 'switch_statement' ? undefined : n.childForFieldName('condition')?.id;
      const body = t === 'do_statement' ? null : n.childForFieldName('body');
      for (const c of n.namedChildren) {
        if (!c) continue;
        if (c === body) inBranch(s, false, () => walkChild(s, c, c.type, c.id === condId, t, n, pt));
        else walkChild(s, c, c.type, c.id === condId, t, n, pt);
      }
      return;
    }
    case 'parenthesized_expression':
      walkChildren(s, n, t, pt, cond, undefined);
      return;
    default:
      break;
  }
  walkChildren(s, n, t, pt, false, undefined);
}

function functionFact(ctx: Ctx, fn: Node, name: string, damaged: boolean): FunctionFact | null {
  if (name === '<anonymous>') return null;
  const declarator = fn.childForFieldName('declarator');
  const info = declInfo(ctx, declarator);
  const body = fn.childForFieldName('body');
  const head = ctx.text.slice(fn.startIndex, body?.startIndex ?? fn.endIndex);
  const fact: FunctionFact = {
    name,
    line: lineOf(fn),
    endLine: fn.endPosition.row + 1,
    span: [fn.startIndex, fn.endIndex],
    ret: { t: typeText(ctx, fn.childForFieldName('type')), p: info.p },
    params: params(ctx, info.fn),
    vars: {},
    calls: [],
    returns: [],
    stores: [],
  };
  if (/\bstatic\b/.test(head)) fact.static = 1;
  if (/\binline\b|__always_inline/.test(head)) fact.inline = 1;
  if (damaged) fact.damaged = 1;
  if (body) {
    const s: FnState = { ctx, fact, held: [], guardStack: [], asg: null, clean: !damaged, branch: 0, nullBranch: 0, jumped: false, warn: 0 };
    if (head.includes('__must_hold')) {
      const annotations = /__must_hold\s*\(([^)]*)\)/g;
      for (let m = annotations.exec(head); m; m = annotations.exec(head)) s.held.push(key(ctx, m[1]!));
    }
    const bt = body.type;
    if (!LEAVES.has(bt)) walk(s, body, bt, false, 'function_definition', fn, '');
  }
  return fact;
}

let defaultCatalogIndex: CatalogIndex | undefined;

/**
 * Extract the facts of a file already parsed with `parseKernelC` (the same
 * ParsedFile the lock analysis uses: one parse per file for both). Does not
 * dispose it. Never throws on bad input: a broken file yields fewer facts.
 */
export function extractFactsFromParsed(parsed: ParsedFile, file: string): FileFacts {
  const text = parsed.text;
  const facts: FileFacts = {
    version: FACTS_VERSION,
    file,
    structs: [],
    typedefs: {},
    globals: [],
    functions: [],
    prototypes: [],
    fptrs: [],
    typesafeCaches: [],
    stats: { functions: 0, damaged: 0, bytes: text.length },
  };
  const ctx: Ctx = {
    text,
    normalized: parsed.normalized,
    cat: (defaultCatalogIndex ??= indexCatalog(builtinCatalog())),
    facts,
    anonCounter: 0,
    keys: new Map(),
  };
  const fns: Node[] = [];
  visitTop(ctx, parsed.tree.rootNode, fns);
  // Names and damage as parseKernelC listed them (it also lists definitions inside ERROR nodes, which the index does not take).
  const listed = new Map<number, FunctionInfo>();
  for (const f of parsed.functions) listed.set(f.node.id, f);
  for (const fn of fns) {
    facts.stats.functions++;
    let f: FunctionFact | null = null;
    try {
      const info = listed.get(fn.id);
      f = functionFact(ctx, fn, info ? info.name : functionName(fn), info ? info.damaged : hasDamage(fn));
    } catch {
      f = null;
    }
    if (f) {
      if (f.damaged) facts.stats.damaged++;
      facts.functions.push(f);
    }
  }
  if (text.includes('SLAB_TYPESAFE_BY_RCU')) {
    for (const f of facts.functions) {
      for (const c of f.calls) {
        if (!c.a.some((a) => a.includes('SLAB_TYPESAFE_BY_RCU'))) continue;
        if (/^kmem_cache_create/.test(c.c) && c.s) facts.typesafeCaches.push(c.s);
        else if (c.c === 'KMEM_CACHE' && c.a[0]) facts.typesafeCaches.push(`type:struct ${c.a[0].replace(/^struct/, '')}`);
      }
    }
  }
  return facts;
}

/** Extract the facts of one file (one parse): `parseKernelC` + `extractFactsFromParsed`. Never throws on bad input. */
export function extractFileFacts(parser: CParser, text: string, file: string): FileFacts {
  const parsed = parseKernelC(parser, text);
  try {
    return extractFactsFromParsed(parsed, file);
  } finally {
    parsed.dispose();
  }
}
