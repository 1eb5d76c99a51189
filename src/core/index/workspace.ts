/**
 * The workspace index: per-file facts (facts.ts) merged into struct, function,
 * call-graph, refcounted-type, lookup-structure and release-callback tables, plus
 * learned refcount wrapper summaries (wrappers.ts). Pure: hosts hand in facts
 * (extracted or read from their cache) and get back plain data.
 *
 * Naming:
 * - types are spelled `struct foo` / `union foo` (typedefs resolved);
 * - a field or lock "class" is `struct owner.field`, where `owner` is the
 *   innermost struct that declares the field (`&dev->mode_config.lock` with
 *   `dev` a `struct drm_device *` is `struct drm_mode_config.lock`); a global is
 *   its own name; the RCU read side is `rcu`.
 */
import { indexCatalog, builtinCatalog, type CatalogIndex } from '../catalog/index';
import { indexRefcountCatalog, refLikeFieldName, type ContainerKind, type ContainerOpKind, type CounterKind, type RefcountCatalogIndex } from '../catalog/refcount';
import type { CallFact, FieldFact, FileFacts, FunctionFact, PrototypeFact, TypeRef } from './facts';
import { learnSummaries, type RefSummary } from './wrappers';
import { timed } from '../util/timing';
import { archOf, linkable } from '../util/arch';
import { CallerIds, LazyFunctions, LazyTable, packLists, packTable, type FunctionOutline, type FunctionPacker, type ResultUse } from './lazy';

export interface StructDef {
  name: string;
  file: string;
  line: number;
  fields: FieldFact[];
}

export interface FunctionDef {
  /** Unique id: `file:line`. */
  id: string;
  file: string;
  fact: FunctionFact;
}

export interface GlobalDef {
  file: string;
  line: number;
  type: TypeRef;
  rcu: boolean;
  static: boolean;
}

export interface PrototypeDef {
  file: string;
  fact: PrototypeFact;
}

export interface RefcountedType {
  type: string;
  /** Field path of the counter from the type (`refcount`, `base.refcount`, `dev.kobj`). */
  field: string;
  kind: CounterKind;
  /** The embedded refcounted type the count comes through (`struct drm_gem_object`), if not direct. */
  via?: string;
  /** Why an atomic_t counts as a refcount: `name` or `usage`. */
  evidence?: string;
}

export interface Site {
  fn: string;
  file: string;
  line: number;
  /** Lock classes held at the site (`rcu` for an RCU read side). */
  held: string[];
  /** The primitive used. */
  via: string;
}

export interface LookupStructure {
  /** Class of the head: `struct drm_device.filelist`, or a global name. */
  id: string;
  kind: ContainerKind;
  /** Where the head is declared (field or global), when known. */
  declared?: { file: string; line: number };
  /** Element types put in / found in it (when determinable), with the member linking them when it is a node. */
  elements: { type: string; member?: string }[];
  /** Declared `__rcu` or used with `_rcu` primitives / `rcu_dereference`. */
  rcu: boolean;
  publish: Site[];
  unpublish: Site[];
  lookup: Site[];
  /** Lock classes held at every publish and unpublish site (empty when none is common). */
  writeLocks: string[];
  /** Lock classes (or `rcu`) held at every lookup/iterate site. */
  readLocks: string[];
}

export interface ReleaseInfo {
  name: string;
  file: string;
  line: number;
  /** Refcounted types whose final put calls it. */
  types: string[];
  /** How it is invoked: the put primitives that name it, or `inline` after `*_dec_and_test`. */
  via: string[];
  /** Lock classes it takes (directly or through callees). */
  locks: string[];
  /** Lookup structures it unpublishes from. */
  unpublishes: string[];
  /** How the memory goes: any of `kfree`, `kfree_rcu`, `call_rcu`, `synchronize_rcu`. */
  frees: string[];
}

export interface IndexStats {
  files: number;
  structs: number;
  functions: number;
  prototypes: number;
  calls: number;
  refcountedTypes: number;
  lookupStructures: number;
  releaseCallbacks: number;
  getWrappers: number;
  putWrappers: number;
  returnsRef: number;
  damagedFunctions: number;
}

export interface WorkspaceIndex {
  files: string[];
  /** In other threads a LazyTable (lazy.ts), as are globals and prototypes. */
  structs: ReadonlyMap<string, StructDef>;
  typedefs: Map<string, string>;
  globals: ReadonlyMap<string, GlobalDef>;
  /** Definitions by name (several when static functions share a name); in other threads a LazyFunctions (lazy.ts). */
  functions: ReadonlyMap<string, FunctionDef[]>;
  prototypes: ReadonlyMap<string, PrototypeDef>;
  /** Callee name -> ids of the functions calling it. */
  callers: ReadonlyMap<string, ReadonlySet<string>>;
  /** Function-pointer field -> functions assigned to it in initialisers. */
  fptrTargets: Map<string, string[]>;
  refcounted: Map<string, RefcountedType>;
  /** Classes of atomic_t counters used as refcounts (with `*_dec_and_test`, `*_inc_not_zero`, ...). */
  atomicRefCounters: Set<string>;
  lookups: Map<string, LookupStructure>;
  releases: Map<string, ReleaseInfo>;
  /** Learned refcount summaries by function id. */
  summaries: Map<string, RefSummary>;
  /** SLAB_TYPESAFE_BY_RCU caches (keys) and types. */
  typesafeByRcu: string[];
  /** Functions named as the callback of a `call_rcu`-style call anywhere in the workspace. */
  rcuCallbacks: string[];
  stats: IndexStats;
  /** Catalog tables (not serialised). */
  cat: CatalogIndex;
  rc: RefcountCatalogIndex;
}

/* ------------------------------------------------------------ types */

export function normType(index: Pick<WorkspaceIndex, 'typedefs'>, t: string): string {
  let cur = t.replace(/^const /, '');
  for (let i = 0; i < 4; i++) {
    const next = index.typedefs.get(cur);
    if (!next || next === cur) break;
    cur = next;
  }
  return cur;
}

export function fieldOf(index: WorkspaceIndex, type: string, field: string): FieldFact | undefined {
  const s = index.structs.get(normType(index, type));
  return s?.fields.find((f) => f.n === field);
}

const CONVERTERS = /^(container_of|container_of_const|list_entry|list_first_entry|list_first_entry_or_null|list_last_entry|list_next_entry|list_prev_entry|hlist_entry|hlist_entry_safe|rb_entry|rb_entry_safe|list_entry_rcu|list_first_or_null_rcu|llist_entry)\((.*)\)$/;

/** Split a key at top-level dots: `a(b.c).d.e` -> [`a(b.c)`, `d`, `e`]. */
function splitKey(k: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < k.length; i++) {
    const ch = k[i];
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (ch === '.' && depth === 0) {
      out.push(k.slice(start, i));
      start = i + 1;
    }
  }
  out.push(k.slice(start));
  return out.map((p) => p.replace(/\[[^\]]*\]$/, ''));
}

function topArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

export interface KeyInfo {
  /** Root variable (after seeing through container_of / one-argument converters). */
  root: string | null;
  /** Index of the parameter the root is, or -1. */
  param: number;
  /** Type of the root (pointer target), when known. */
  rootType: string | null;
  /** Field path after the root. */
  path: string[];
  /** Type of the whole key's value, when known. */
  type: TypeRef | null;
  /** Innermost owner struct of the last field, when the key ends in a field. */
  owner: string | null;
  /**
   * Every field before the last is embedded (no pointer followed): the last field
   * belongs to the root object itself. `false` when a pointer field is crossed
   * (`state->fb->refcount`), `null` when a field's type is unknown.
   */
  inRoot: boolean | null;
  /** The last field is itself embedded (p = 0): `&obj->base` names a part of the root object. */
  lastEmbedded: boolean | null;
}

/** Resolve a key (lock-identity normal form) inside a function: root, parameter, types along the path. */
export function resolveKey(index: WorkspaceIndex, fn: FunctionFact | null, key: string, aliases?: Map<string, string>): KeyInfo {
  const parts = splitKey(key.replace(/^\*/, ''));
  let head = parts[0] ?? '';
  let type: TypeRef | null = null;
  let root: string | null = null;
  for (let i = 0; i < 3; i++) {
    const conv = CONVERTERS.exec(head);
    if (conv) {
      const args = topArgs(conv[2]!);
      const t = args[1]?.trim();
      if (t) type = { t: normType(index, t.startsWith('struct') || t.startsWith('union') ? t.replace(/^(struct|union)(?=\w)/, '$1 ') : `struct ${t}`), p: 1 };
      head = (args[0] ?? '').trim();
      if (type) break;
      continue;
    }
    const call = /^([A-Za-z_]\w*)\((.*)\)$/.exec(head);
    if (call) {
      const retT = firstDefinition(index, call[1]!)?.fact.ret ?? index.prototypes.get(call[1]!)?.fact.ret;
      if (retT && retT.p > 0) type = { t: normType(index, retT.t), p: retT.p };
      const args = topArgs(call[2]!);
      head = args.length === 1 ? args[0]!.trim() : '';
      if (type) break;
      continue;
    }
    break;
  }
  if (/^[A-Za-z_]\w*$/.test(head)) root = head;
  let param = -1;
  if (root && fn) {
    const aliased = aliases?.get(root);
    const r = aliased ?? root;
    param = fn.params.findIndex((p) => p.n === r);
    if (!type) {
      const v = fn.vars[root] ?? (param >= 0 ? fn.params[param] : undefined) ?? (aliased ? fn.params.find((p) => p.n === aliased) : undefined);
      if (v) type = { t: normType(index, v.t), p: v.p };
    }
  }
  if (root && !type) {
    const g = index.globals.get(root);
    if (g) type = { t: normType(index, g.type.t), p: g.type.p };
  }
  const rootType = type ? type.t : null;
  let owner: string | null = null;
  const path = parts.slice(1);
  let inRoot: boolean | null = true;
  let lastEmbedded: boolean | null = path.length ? null : true;
  for (let i = 0; i < path.length; i++) {
    if (!type) {
      if (i < path.length - 1 && inRoot) inRoot = null;
      owner = null;
      lastEmbedded = null;
      break;
    }
    owner = type.t;
    const fd = fieldOf(index, type.t, path[i]!);
    type = fd ? { t: normType(index, fd.t), p: fd.p } : null;
    const embedded = fd ? fd.p === 0 && !fd.arr : null;
    if (i < path.length - 1) {
      if (embedded === false) inRoot = false;
      else if (embedded === null && inRoot) inRoot = null;
    } else lastEmbedded = embedded;
  }
  return { root, param, rootType, path, type, owner, inRoot, lastEmbedded };
}

/** The class of a key: `struct owner.field` for a field, the global's name, or null for a local. */
export function keyClass(index: WorkspaceIndex, fn: FunctionFact | null, key: string): string | null {
  if (key === 'rcu') return 'rcu';
  const k = resolveKey(index, fn, key);
  if (k.path.length && k.owner) return `${k.owner}.${k.path[k.path.length - 1]}`;
  if (k.root && !k.path.length && (!fn || (!fn.vars[k.root] && !fn.params.some((p) => p.n === k.root)))) return k.root;
  if (k.root && k.path.length && !fn?.vars[k.root] && !fn?.params.some((p) => p.n === k.root)) return `${k.root}.${k.path.join('.')}`;
  return null;
}

/* ------------------------------------------------------------ merge */

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

const byFileMemo = new WeakMap<ReadonlyMap<string, FunctionDef[]>, Map<string, FunctionDef[]>>();
const byIdMemo = new WeakMap<ReadonlyMap<string, FunctionDef[]>, Map<string, FunctionDef>>();

/** The definitions of one file, in text order. */
export function functionsInFile(index: WorkspaceIndex, file: string): readonly FunctionDef[] {
  if (index.functions instanceof LazyFunctions) return index.functions.inFile(file);
  let m = byFileMemo.get(index.functions);
  if (!m) {
    m = new Map();
    for (const defs of index.functions.values()) for (const d of defs) push(m, d.file, d);
    for (const l of m.values()) l.sort((a, b) => (a.fact.span?.[0] ?? a.fact.line) - (b.fact.span?.[0] ?? b.fact.line));
    byFileMemo.set(index.functions, m);
  }
  return m.get(file) ?? [];
}

/** The definitions of a file in text order: name, span and damage (packed facts: without decoding them). */
export function functionOutlines(index: WorkspaceIndex, file: string): FunctionOutline[] {
  if (index.functions instanceof LazyFunctions) return index.functions.outlinesInFile(file);
  return functionsInFile(index, file).map((d) => ({ slot: -1, name: d.fact.name, span: d.fact.span, damaged: !!d.fact.damaged }));
}

/** The definition with this id (`file:line`). */
export function functionById(index: WorkspaceIndex, id: string): FunctionDef | undefined {
  if (index.functions instanceof LazyFunctions) return index.functions.byId(id);
  let m = byIdMemo.get(index.functions);
  if (!m) {
    m = new Map();
    for (const defs of index.functions.values()) for (const d of defs) m.set(d.id, d);
    byIdMemo.set(index.functions, m);
  }
  return m.get(id);
}

/** The id of resolveCallee's answer (packed facts: without decoding anything). */
export function resolveCalleeId(index: WorkspaceIndex, callerFile: string, name: string): string | undefined {
  if (index.functions instanceof LazyFunctions) {
    const k = index.functions.resolveSlot(callerFile, name);
    return k === undefined ? undefined : index.functions.idOf(k);
  }
  return resolveCallee(index, callerFile, name)?.id;
}

/** The first definition of a name in index order (packed facts: decoding that one only). */
export function firstDefinition(index: WorkspaceIndex, name: string): FunctionDef | undefined {
  if (index.functions instanceof LazyFunctions) return index.functions.first(name);
  return index.functions.get(name)?.[0];
}

/** Resolve a callee name from a caller's file: same file first, then a header, then a non-static definition. */
export function resolveCallee(index: WorkspaceIndex, callerFile: string, name: string): FunctionDef | undefined {
  if (index.functions instanceof LazyFunctions) return index.functions.resolve(callerFile, name);
  let defs = index.functions.get(name);
  if (!defs || defs.length === 0) return undefined;
  // (never into another architecture's tree)
  if (archOf(callerFile) !== null) defs = defs.filter((d) => linkable(callerFile, d.file));
  if (defs.length === 0) return undefined;
  if (defs.length === 1) return defs[0];
  return defs.find((d) => d.file === callerFile) ?? defs.find((d) => d.file.endsWith('.h')) ?? defs.find((d) => !d.fact.static) ?? defs[0];
}

const CONTAINER_TYPES: Record<string, ContainerKind> = {
  'struct list_head': 'list', 'struct hlist_head': 'hlist', 'struct hlist_nulls_head': 'hlist', 'struct idr': 'idr', 'struct xarray': 'xarray',
  'struct rb_root': 'rbtree', 'struct rb_root_cached': 'rbtree', 'struct rhashtable': 'rhashtable', 'struct rhltable': 'rhashtable',
  'struct radix_tree_root': 'radix', 'struct drm_vma_offset_manager': 'vma-offset', 'struct llist_head': 'llist',
};

/** The tables addFileTables fills (the index holds them read-only). */
interface FileTables {
  structs: Map<string, StructDef>;
  globals: Map<string, GlobalDef>;
  prototypes: Map<string, PrototypeDef>;
}

function emptyIndex(t: FileTables): WorkspaceIndex {
  return {
    files: [],
    structs: t.structs,
    typedefs: new Map(),
    globals: t.globals,
    functions: new Map(),
    prototypes: t.prototypes,
    callers: new Map(),
    fptrTargets: new Map(),
    refcounted: new Map(),
    atomicRefCounters: new Set(),
    lookups: new Map(),
    releases: new Map(),
    summaries: new Map(),
    typesafeByRcu: [],
    rcuCallbacks: [],
    stats: {
      files: 0, structs: 0, functions: 0, prototypes: 0, calls: 0, refcountedTypes: 0, lookupStructures: 0, releaseCallbacks: 0,
      getWrappers: 0, putWrappers: 0, returnsRef: 0, damagedFunctions: 0,
    },
    cat: indexCatalog(builtinCatalog()),
    rc: indexRefcountCatalog(),
  };
}

/** The tables of one file's facts but its functions, merged into the index (files in index order). */
function addFileTables(index: WorkspaceIndex, t: FileTables, ff: FileFacts): void {
  index.files.push(ff.file);
  for (const s of ff.structs) {
    const prev = t.structs.get(s.name);
    // Keep the definition with the most fields (forward declarations and config variants).
    if (!prev || prev.fields.length < s.fields.length) t.structs.set(s.name, { name: s.name, file: ff.file, line: s.line, fields: s.fields });
  }
  for (const [k, v] of Object.entries(ff.typedefs)) if (!index.typedefs.has(k)) index.typedefs.set(k, v);
  for (const g of ff.globals) {
    const prev = t.globals.get(g.n);
    if (!prev || prev.static) t.globals.set(g.n, { file: ff.file, line: g.line, type: { t: g.t, p: g.p }, rcu: g.rcu === 1, static: g.static === 1 });
  }
  for (const p of ff.prototypes) if (!t.prototypes.has(p.name)) t.prototypes.set(p.name, { file: ff.file, fact: p });
  for (const [field, fn] of ff.fptrs) {
    const l = index.fptrTargets.get(field);
    if (!l) index.fptrTargets.set(field, [fn]);
    else if (!l.includes(fn) && l.length < 64) l.push(fn);
  }
  index.typesafeByRcu.push(...ff.typesafeCaches);
}

const byFileName = (a: FileFacts, b: FileFacts): number => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);

/** Build the index from facts (any order; duplicates by file are the caller's business). */
export function buildWorkspaceIndex(allFacts: readonly FileFacts[]): WorkspaceIndex {
  const functions = new Map<string, FunctionDef[]>();
  const callers = new Map<string, Set<string>>();
  const t: FileTables = { structs: new Map(), globals: new Map(), prototypes: new Map() };
  const index: WorkspaceIndex = { ...emptyIndex(t), functions, callers };
  for (const ff of [...allFacts].sort(byFileName)) {
    addFileTables(index, t, ff);
    for (const f of ff.functions) {
      push(functions, f.name, { id: `${ff.file}:${f.line}`, file: ff.file, fact: f });
      index.stats.calls += f.calls.length;
      if (f.damaged) index.stats.damagedFunctions++;
    }
  }
  const callbacks = new Set<string>();
  const use = resultUseCounter();
  return finishIndex(index, {
    resultUse: use.get,
    scan: (d) => {
      use.add(d);
      for (const c of d.fact.calls) {
        let s = callers.get(c.c);
        if (!s) callers.set(c.c, (s = new Set()));
        s.add(d.id);
        const cb = rcuCallbackOf(index, c);
        if (cb) callbacks.add(cb);
      }
    },
    scanned: () => {
      index.rcuCallbacks = [...callbacks].sort();
    },
  });
}

/** Decoded structs, globals and prototypes the packed build keeps (each table), the most recently used. */
const BUILD_KEPT_ENTRIES = 4096;

/**
 * The same index as buildWorkspaceIndex, with the function facts packed as
 * the files arrived (`packer`; the facts given here carry no functions, or
 * theirs are ignored): the index's functions are a LazyFunctions over them and
 * its callers slot lists, and the build holds at most `maxDecodedBytes` of
 * decoded definitions at once. How `refscope check` builds the index of a
 * whole tree without every definition as an object in one thread. `tick` is
 * called every few thousand definitions (the host's chance to collect the
 * garbage of the definitions decoded and dropped).
 */
export function buildPackedIndex(allFacts: readonly FileFacts[], packer: FunctionPacker, maxDecodedBytes: number, tick?: () => void, factsRead?: () => void): WorkspaceIndex {
  const t: FileTables = { structs: new Map(), globals: new Map(), prototypes: new Map() };
  const index = emptyIndex(t);
  let n = 0;
  timed('build:fileTables', () => {
    for (const ff of [...allFacts].sort(byFileName)) {
      if (tick && (++n & 4095) === 0) tick();
      addFileTables(index, t, ff);
    }
  });
  // The rest of the build and the workers read the structs, globals and prototypes packed
  // (where the packer puts its bytes: shared memory in the CLI), decoding an entry per use.
  // As objects they were 0.3 GB of the main heap through the build on the whole Linux tree.
  timed('build:packTables', () => {
    index.structs = new LazyTable(packTable(t.structs, packer.alloc), BUILD_KEPT_ENTRIES);
    index.globals = new LazyTable(packTable(t.globals, packer.alloc), BUILD_KEPT_ENTRIES);
    index.prototypes = new LazyTable(packTable(t.prototypes, packer.alloc), BUILD_KEPT_ENTRIES);
  });
  t.structs.clear();
  t.globals.clear();
  t.prototypes.clear();
  factsRead?.(); // the host may drop the facts now
  const lazy = new LazyFunctions(timed('build:packerFinish', () => packer.finish(index.files)), maxDecodedBytes);
  index.functions = lazy;
  index.stats.calls = packer.calls;
  index.stats.damagedFunctions = packer.damaged;
  const callers = new Map<string, number[]>();
  const callbacks = new Set<string>();
  const addCaller = (name: string, k: number): void => {
    const l = callers.get(name);
    if (!l) callers.set(name, [k]);
    else if (l[l.length - 1] !== k) l.push(k);
  };
  const view = packer.slotView;
  // (with the slot view the packer counted every call; without it each definition is decoded and counted here)
  const use = view ? null : resultUseCounter();
  return finishIndex(index, {
    resultUse: use ? use.get : (name) => packer.resultUse(name),
    scan: (d, k) => {
      use?.add(d);
      for (const c of d.fact.calls) {
        if (!view) addCaller(c.c, k);
        const cb = rcuCallbackOf(index, c);
        if (cb) callbacks.add(cb);
      }
    },
    ...(view ? { calleesOf: (k: number, each: (name: string) => void) => {
      for (let j = view.callStart[k]!; j < view.callStart[k + 1]!; j++) each(view.calleeNames[view.calls[j]!]!);
    }, addCaller, needsDecode: (k: number) => view.scan[k] !== 0 } : {}),
    scanned: () => {
      index.callers = new CallerIds(packLists(callers, packer.alloc), lazy, false);
      index.rcuCallbacks = [...callbacks].sort();
      packer.slotView = null;
    },
  }, tick);
}

/** Calls to these make a definition count its first argument's counter as a reference count (scanRefCounters). */
const ATOMIC_REF_OPS = /^atomic(_long)?_(dec_and_test|inc_not_zero|dec_and_lock|dec_and_mutex_lock|sub_and_test|dec_and_lock_irqsave|dec_and_raw_lock)$/;

/**
 * The packer's `classify` for the CLI's index build: 1 for a definition the
 * build's per-definition scans act on (it calls an RCU callback primitive, an
 * rcu_dereference, a container operation, an atomic used as a refcount or a
 * put that names a release), 0 for the rest, whose call graph and allocator /
 * refcount calls the build reads from the packer's callee lists without
 * decoding the definition (on the whole Linux tree most of 680k).
 */
export function definitionScanFlags(rc: RefcountCatalogIndex = indexRefcountCatalog()): (d: FunctionFact) => number {
  return (d) => (d.calls.some((c) => rc.rcuOps.has(c.c) || rc.rcuDereference.has(c.c) || rc.containerOps.has(c.c)
    || ATOMIC_REF_OPS.test(c.c) || rc.refOps.get(c.c)?.effect === 'put-release') ? 1 : 0);
}

/** The function a `call_rcu`-style call names as its callback. */
function rcuCallbackOf(index: WorkspaceIndex, c: CallFact): string | undefined {
  const op = index.rc.rcuOps.get(c.c);
  const cb = op?.callbackArg !== undefined ? c.a[op.callbackArg] : undefined;
  return cb ? cb.replace(/^&/, '') : undefined;
}

/** What finishIndex's caller adds to its one pass over the definitions. */
interface FinishHooks {
  /** The caller's own scan of a decoded definition (e.g. the call graph). */
  scan: (d: FunctionDef, slot: number) => void;
  /** After the pass. */
  scanned: () => void;
  /** Packed facts with the packer's slot view: slot k's callees without decoding it ... */
  calleesOf?: (k: number, each: (name: string) => void) => void;
  /** ... each of which the caller records as called by k (before any scan of k) ... */
  addCaller?: (name: string, k: number) => void;
  /** ... and whether k must be decoded for the scans (else none of them acts on it). */
  needsDecode?: (k: number) => boolean;
  /** After the pass: how the index's calls of a name use its result (RefSummary.resultUse). */
  resultUse: (name: string) => ResultUse | undefined;
}

/** Counts of calls and of calls whose result is discarded, per callee name, from decoded definitions. */
function resultUseCounter(): { add: (d: FunctionDef) => void; get: (name: string) => ResultUse | undefined } {
  const counts = new Map<string, ResultUse>();
  return {
    add: (d) => {
      for (const c of d.fact.calls) {
        let u = counts.get(c.c);
        if (!u) counts.set(c.c, (u = { calls: 0, ignored: 0 }));
        u.calls++;
        if (c.ign) u.ignored++;
      }
    },
    get: (name) => counts.get(name),
  };
}

/**
 * Give each summary with a conditional get on a parameter how its callers use
 * the result (whether checking it is the convention: unchecked-get-unless-zero).
 */
function noteResultUse(summaries: ReadonlyMap<string, RefSummary>, resultUse: (name: string) => ResultUse | undefined): void {
  for (const s of summaries.values()) {
    if (!s.params.some((p) => p.effect === 'cond-get' && !p.errorOnly)) continue;
    const u = resultUse(s.name);
    if (u) s.resultUse = { calls: u.calls, ignored: u.ignored };
  }
}

/**
 * The tables made from the functions and the call graph, and the stats. One
 * pass over the definitions feeds every scan (`scan`: the caller's own, e.g.
 * the call graph), so packed facts are decoded once for all of them.
 */
function finishIndex(index: WorkspaceIndex, hooks: FinishHooks, tick?: () => void): WorkspaceIndex {
  const lookups = startLookups(index);
  const releaseCandidates: FunctionDef[] = [];
  const lazy = index.functions instanceof LazyFunctions ? index.functions : null;
  /** Packed facts: which slots call a refcount primitive or an allocator (learnSummaries visits only what can have an effect). */
  const direct = lazy ? new Uint8Array(lazy.definitions) : undefined;
  const isDirect = (name: string): boolean => index.rc.refOps.has(name) || index.rc.allocs.has(name);
  let n = 0;
  const each = (d: FunctionDef, slot: number): void => {
    if (tick && (++n & 4095) === 0) tick();
    hooks.scan(d, slot);
    if (direct && !hooks.calleesOf && d.fact.calls.some((c) => isDirect(c.c))) direct[slot] = 1;
    scanRefCounters(index, d);
    scanLookups(lookups, d);
    if (callsPutRelease(index, d)) releaseCandidates.push(d);
  };
  timed('build:scanDefinitions', () => {
    const { calleesOf, addCaller, needsDecode } = hooks;
    if (lazy && calleesOf && addCaller && needsDecode && direct) {
      // The call graph and the direct calls from the packer's callee lists; only the
      // definitions some scan acts on are decoded (in the same order as lazy.each).
      lazy.eachSlot((k) => {
        calleesOf(k, (name) => {
          addCaller(name, k);
          if (isDirect(name)) direct[k] = 1;
        });
        if (needsDecode(k)) each(lazy.at(k), k);
        else if (tick && (++n & 4095) === 0) tick();
      });
    } else if (lazy) lazy.each(each);
    else for (const defs of index.functions.values()) for (const d of defs) each(d, -1);
    hooks.scanned();
  });
  timed('build:findRefcounted', () => findRefcounted(index, tick));
  index.summaries = timed('build:learnSummaries', () => learnSummaries(index, direct, tick));
  noteResultUse(index.summaries, hooks.resultUse);
  timed('build:finishLookups', () => finishLookups(lookups));
  timed('build:findReleases', () => findReleases(index, releaseCandidates));
  const st = index.stats;
  st.files = index.files.length;
  st.structs = index.structs.size;
  st.functions = index.functions instanceof LazyFunctions ? index.functions.definitions : [...index.functions.values()].reduce((n, l) => n + l.length, 0);
  st.prototypes = index.prototypes.size;
  st.refcountedTypes = index.refcounted.size;
  st.lookupStructures = index.lookups.size;
  st.releaseCallbacks = index.releases.size;
  const w = learnedWrappers(index);
  st.getWrappers = w.gets.length;
  st.putWrappers = w.puts.length;
  st.returnsRef = w.returnsRef.length;
  return index;
}

/* ------------------------------------------------------------ refcounted types */

const NOT_REFCOUNTED = new Set(['struct kref', 'struct refcount_struct', 'struct percpu_ref', 'struct kref_dummy']);

function directCounter(index: WorkspaceIndex, f: FieldFact, usedAsRef: Set<string>, owner: string): { kind: CounterKind; evidence?: string } | null {
  if (f.p !== 0 || f.arr) return null;
  const t = normType(index, f.t);
  if (t === 'struct kref') return { kind: 'kref' };
  if (t === 'refcount_t' || t === 'struct refcount_struct') return { kind: 'refcount' };
  if (t === 'struct percpu_ref') return { kind: 'percpu_ref' };
  if (t === 'struct kobject') return { kind: 'kobject' };
  if (t === 'struct device') return { kind: 'device' };
  if (t === 'atomic_t' || t === 'atomic_long_t') {
    if (usedAsRef.has(`${owner}.${f.n}`)) return { kind: 'atomic', evidence: 'usage' };
    if (refLikeFieldName(f.n) && /ref/i.test(f.n)) return { kind: 'atomic', evidence: 'name' };
  }
  return null;
}

/** Scan of one definition for findRefcounted: atomic_t fields used with dec_and_test / inc_not_zero anywhere. */
function scanRefCounters(index: WorkspaceIndex, d: FunctionDef): void {
  for (const c of d.fact.calls) {
    if (!ATOMIC_REF_OPS.test(c.c)) continue;
    const k = c.a[c.c.includes('sub_and_test') ? 1 : 0];
    if (!k) continue;
    const cls = keyClass(index, d.fact, k);
    if (cls) index.atomicRefCounters.add(cls);
  }
}

/**
 * Refcounted types, once every definition went through scanRefCounters.
 * `tick` every few thousand structs: a packed build decodes each struct once
 * per round (whole tree, up to nine rounds over 102k structs).
 */
function findRefcounted(index: WorkspaceIndex, tick?: () => void): void {
  const usedAsRef = index.atomicRefCounters;
  let n = 0;
  for (const s of index.structs.values()) {
    if (tick && (++n & 4095) === 0) tick();
    // Nested named-inline parts (`struct outer::mm`) belong to their object: not objects themselves.
    if (NOT_REFCOUNTED.has(s.name) || s.name.includes('::')) continue;
    for (const f of s.fields) {
      const d = directCounter(index, f, usedAsRef, s.name);
      if (d && (!index.refcounted.has(s.name) || rank(d.kind) < rank(index.refcounted.get(s.name)!.kind))) {
        index.refcounted.set(s.name, { type: s.name, field: f.n, kind: d.kind, ...(d.evidence ? { evidence: d.evidence } : {}) });
      }
    }
  }
  // Embedded refcounted structs, to a fixpoint.
  for (let round = 0; round < 8; round++) {
    let changed = false;
    for (const s of index.structs.values()) {
      if (tick && (++n & 4095) === 0) tick();
      if (index.refcounted.has(s.name) || NOT_REFCOUNTED.has(s.name)) continue;
      for (const f of s.fields) {
        if (f.p !== 0 || f.arr) continue;
        const inner = index.refcounted.get(normType(index, f.t));
        if (inner && inner.type !== s.name) {
          index.refcounted.set(s.name, { type: s.name, field: `${f.n}.${inner.field}`, kind: inner.kind, via: inner.via ?? inner.type });
          changed = true;
          break;
        }
      }
    }
    if (!changed) break;
  }
}

function rank(k: CounterKind): number {
  return ({ kref: 0, refcount: 1, percpu_ref: 2, atomic: 3, kobject: 4, device: 5 } as Record<CounterKind, number>)[k];
}

/* ------------------------------------------------------------ lookup structures */

function lookupEntry(index: WorkspaceIndex, id: string, kind: ContainerKind): LookupStructure {
  let l = index.lookups.get(id);
  if (!l) {
    l = { id, kind, elements: [], rcu: false, publish: [], unpublish: [], lookup: [], writeLocks: [], readLocks: [] };
    index.lookups.set(id, l);
  }
  return l;
}

function heldClasses(index: WorkspaceIndex, fn: FunctionFact, c: CallFact): string[] {
  const out: string[] = [];
  for (const h of c.h ?? []) {
    const cls = h === 'rcu' ? 'rcu' : keyClass(index, fn, h) ?? h;
    if (!out.includes(cls)) out.push(cls);
  }
  return out;
}

function addElement(l: LookupStructure, type: string | null, member?: string): void {
  // A list head or node is the structure's plumbing, never an object it holds (`struct list_head __rcu *ima_rules`).
  if (!type || type === 'void' || l.elements.length >= 16 || NODE_TYPES.test(type) || HEAD_TYPES.test(type)) return;
  if (!l.elements.some((e) => e.type === type && e.member === member)) l.elements.push(member ? { type, member } : { type });
}

function intersect(sites: Site[]): string[] {
  if (sites.length === 0) return [];
  let acc = sites[0]!.held.slice();
  for (const s of sites.slice(1)) acc = acc.filter((h) => s.held.includes(h));
  return acc;
}

const MAX_SITES = 64;

const NODE_TYPES = /^struct (list_head|hlist_node|hlist_nulls_node|rb_node|llist_node|rhash_head|rhlist_head|drm_vma_offset_node|drm_mm_node)$/;

/** A node type (`struct list_head`, `struct rb_node`...): what links an element into a container, never the element. */
export function isNodeType(type: string): boolean {
  return NODE_TYPES.test(type);
}
/** Types of container heads (and the RCU callback head), which are no elements either. */
const HEAD_TYPES = /^struct (hlist_head|hlist_nulls_head|rb_root|rb_root_cached|llist_head|rhashtable|rhltable|xarray|idr|callback_head|rcu_head)$/;
/** Macros that declare a container head (`LIST_HEAD(cancel_list);` in a function body is a local list). */
const HEAD_MACROS: ReadonlySet<string> = new Set(['LIST_HEAD', 'HLIST_HEAD', 'LLIST_HEAD', 'DEFINE_XARRAY', 'DEFINE_XARRAY_ALLOC', 'DEFINE_XARRAY_ALLOC1', 'DEFINE_IDR', 'DEFINE_HASHTABLE']);

/** Containers whose elements are linked through `owner.member`. */
export function containersOfMember(index: WorkspaceIndex, owner: string, member: string): LookupStructure[] {
  return [...index.lookups.values()].filter((l) => l.elements.some((e) => e.type === owner && e.member === member));
}

/**
 * Lookup structures in three steps: the declared heads, a scan of each
 * definition (with every other scan, in one pass over the functions), and the
 * sites linked and the locks common to them.
 */
interface LookupScan {
  index: WorkspaceIndex;
  /** Node-only operations (`list_del(&obj->node)`) by `owner|member`, attached to containers holding that member. */
  orphans: Map<string, { op: ContainerOpKind; site: Site }[]>;
}

function startLookups(index: WorkspaceIndex): LookupScan {
  // Declared heads: struct fields and globals of a container type, and __rcu pointers.
  for (const s of index.structs.values()) {
    for (const f of s.fields) {
      const t = normType(index, f.t);
      const kind = f.p === 0 ? CONTAINER_TYPES[t] : undefined;
      if (kind && !f.arr) {
        if (t === 'struct list_head' && !/list|head|entries|objects|queue|pending|clients|free|active|lru|items|all/i.test(f.n)) continue; // list nodes, not heads
        lookupEntry(index, `${s.name}.${f.n}`, kind).declared = { file: s.file, line: 0 };
      } else if (f.rcu && f.p > 0) {
        const l = lookupEntry(index, `${s.name}.${f.n}`, 'rcu-pointer');
        l.rcu = true;
        l.declared = { file: s.file, line: 0 };
        if (t.startsWith('struct ')) addElement(l, t);
      }
    }
  }
  for (const [name, g] of index.globals) {
    const kind = g.type.p === 0 ? CONTAINER_TYPES[normType(index, g.type.t)] : undefined;
    if (kind) lookupEntry(index, name, kind).declared = { file: g.file, line: g.line };
    else if (g.rcu && g.type.p > 0) {
      const l = lookupEntry(index, name, 'rcu-pointer');
      l.rcu = true;
      l.declared = { file: g.file, line: g.line };
    }
  }
  return { index, orphans: new Map() };
}

function scanLookups(scan: LookupScan, d: FunctionDef): void {
  const { index, orphans } = scan;
  const rc = index.rc;
  const fn = d.fact;
  // Heads this function declares itself (the facts see `LIST_HEAD(x);` as a call): a local
  // list is private to one call of the function, and the same name in other functions is
  // another list. Merged under a bare name, they made one "global" structure of them all.
  let localHeads: Set<string> | null = null;
  for (const c of fn.calls) {
    if (HEAD_MACROS.has(c.c) && c.a[0] && /^[A-Za-z_]\w*$/.test(c.a[0])) (localHeads ??= new Set()).add(c.a[0]);
  }
  for (const c of fn.calls) {
    if (rc.rcuDereference.has(c.c) && c.a[0]) {
      const cls = keyClass(index, fn, c.a[0]);
      if (cls) {
        const l = lookupEntry(index, cls, 'rcu-pointer');
        l.rcu = true;
        if (l.lookup.length < MAX_SITES) l.lookup.push({ fn: fn.name, file: d.file, line: c.l, held: heldClasses(index, fn, c), via: c.c });
        if (c.s) {
          const v = resolveKey(index, fn, c.s);
          if (v.type && v.type.p > 0) addElement(l, v.type.t);
        }
      }
      continue;
    }
    const op = rc.containerOps.get(c.c);
    if (!op) continue;
    let headKey = op.headArg >= 0 ? c.a[op.headArg] : undefined;
    if (op.container === 'list' && op.op === 'lookup') headKey = c.a[0];
    if (!headKey) {
      // `list_del(&obj->node)`: the container is found later through the element's member.
      const e = op.elemIsNode && c.a[op.elemArg] ? resolveKey(index, fn, c.a[op.elemArg]!) : null;
      if (e?.owner && e.path.length) {
        const k = `${e.owner}|${e.path[e.path.length - 1]}`;
        const site: Site = { fn: fn.name, file: d.file, line: c.l, held: heldClasses(index, fn, c), via: c.c };
        const l = orphans.get(k);
        if (!l) orphans.set(k, [{ op: op.op, site }]);
        else if (l.length < MAX_SITES) l.push({ op: op.op, site });
      }
      continue;
    }
    const id = keyClass(index, fn, headKey);
    if (!id || localHeads?.has(id)) continue;
    const l = lookupEntry(index, id, op.container);
    if (op.rcu || (c.h ?? []).includes('rcu')) l.rcu = l.rcu || op.rcu === true;
    const site: Site = { fn: fn.name, file: d.file, line: c.l, held: heldClasses(index, fn, c), via: c.c };
    const list = op.op === 'insert' ? l.publish : op.op === 'remove' ? l.unpublish : l.lookup;
    if (list.length < MAX_SITES) list.push(site);
    // Element type.
    if (op.elemArg >= 0 && c.a[op.elemArg]) {
      const e = resolveKey(index, fn, c.a[op.elemArg]!);
      if (op.elemIsNode && e.path.length && e.owner) addElement(l, e.owner, e.path[e.path.length - 1]);
      else if (!op.elemIsNode && e.type && (e.type.p > 0 || op.op === 'iterate')) {
        const member = op.op === 'iterate' && op.memberArg !== undefined ? c.a[op.memberArg] : undefined;
        addElement(l, e.type.t, member);
      }
    } else if (op.returnsElem && c.s) {
      const v = resolveKey(index, fn, c.s);
      if (v.type && v.type.p > 0 && !NODE_TYPES.test(v.type.t)) addElement(l, v.type.t);
    }
  }
}

function finishLookups(scan: LookupScan): void {
  const { index, orphans } = scan;
  if (orphans.size) {
    for (const l of index.lookups.values()) {
      for (const e of l.elements) {
        if (!e.member) continue;
        for (const o of orphans.get(`${e.type}|${e.member}`) ?? []) {
          const list = o.op === 'insert' ? l.publish : o.op === 'remove' ? l.unpublish : l.lookup;
          if (list.length < MAX_SITES && !list.some((x) => x.file === o.site.file && x.line === o.site.line)) list.push(o.site);
        }
      }
    }
  }
  for (const l of index.lookups.values()) {
    l.writeLocks = intersect([...l.publish, ...l.unpublish]);
    l.readLocks = intersect(l.lookup);
    if (l.readLocks.includes('rcu')) l.rcu = true;
  }
  // Drop declared heads never used with a primitive and with no declared rcu: they are noise for the rules.
  for (const [id, l] of index.lookups) {
    if (!l.publish.length && !l.unpublish.length && !l.lookup.length && !l.rcu && l.kind === 'list') index.lookups.delete(id);
  }
}

/* ------------------------------------------------------------ release callbacks */

function bareName(k: string): string {
  return k.replace(/^&/, '').replace(/^\((\w+)\)$/, '$1');
}

/** A definition findReleases looks at: it calls a put that names a release function. */
function callsPutRelease(index: WorkspaceIndex, d: FunctionDef): boolean {
  return d.fact.calls.some((c) => index.rc.refOps.get(c.c)?.effect === 'put-release');
}

/** Release callbacks, from the definitions callsPutRelease picked (in iteration order), once the lookup structures are known. */
function findReleases(index: WorkspaceIndex, candidates: readonly FunctionDef[]): void {
  const rc = index.rc;
  const addRelease = (name: string, callerFile: string, type: string | null, via: string) => {
    const def = resolveCallee(index, callerFile, name);
    if (!def) return;
    let r = index.releases.get(name);
    if (!r) {
      r = { name, file: def.file, line: def.fact.line, types: [], via: [], locks: [], unpublishes: [], frees: [] };
      describeRelease(index, def, r);
      index.releases.set(name, r);
    }
    if (type && !r.types.includes(type)) r.types.push(type);
    if (!r.via.includes(via)) r.via.push(via);
  };
  for (const d of candidates) {
    const fn = d.fact;
    for (const c of fn.calls) {
      const op = rc.refOps.get(c.c);
      if (!op || op.effect !== 'put-release') continue;
      const counter = c.a[op.counterArg];
      const k = counter ? resolveKey(index, fn, counter) : null;
      const type = k?.owner ?? null;
      if (op.releaseArg !== undefined) {
        const rel = c.a[op.releaseArg];
        if (rel && /^&?\(?[A-Za-z_]\w*\)?$/.test(rel)) addRelease(bareName(rel), d.file, type, c.c);
      } else if (c.cond && fn.calls.some((o) => rc.frees.has(o.c) || rc.rcuOps.has(o.c))) {
        addRelease(fn.name, d.file, type, `inline:${c.c}`);
      }
    }
  }
}

function describeRelease(index: WorkspaceIndex, def: FunctionDef, r: ReleaseInfo): void {
  const rc = index.rc;
  const seen = new Set<string>();
  // `direct`: reached through plain calls only. A function-pointer call
  // (`obj->funcs->free(obj)`) may run any of the functions assigned to that
  // field, so what they unpublish and free is kept (every driver's free path
  // ends in the common one), but the locks one driver's callback takes are not
  // attributed to the release.
  const visit = (d: FunctionDef, depth: number, direct: boolean) => {
    const key = `${d.id}${direct ? '' : '~'}`;
    if (seen.has(key) || seen.has(d.id) || seen.size > 48) return;
    seen.add(key);
    for (const c of d.fact.calls) {
      // what a "cannot happen" branch does (`if (WARN_ON(!list_empty(...))) cancel(...)`,
      // btrfs_put_block_group()) is not what the release does
      if (c.w) continue;
      const lop = index.cat.lockOps.get(c.c);
      if (direct && lop && lop.op === 'acquire' && lop.lockArg >= 0 && c.a[lop.lockArg]) {
        const cls = keyClass(index, d.fact, c.a[lop.lockArg]!) ?? c.a[lop.lockArg]!;
        if (!r.locks.includes(cls)) r.locks.push(cls);
      }
      const cop = rc.containerOps.get(c.c);
      if (cop && cop.op === 'remove') {
        const head = cop.headArg >= 0 ? c.a[cop.headArg] : undefined;
        let id: string | null = head ? keyClass(index, d.fact, head) : null;
        if (!id && cop.elemIsNode && c.a[cop.elemArg]) {
          const e = resolveKey(index, d.fact, c.a[cop.elemArg]!);
          if (e.owner && e.path.length) {
            const holders = containersOfMember(index, e.owner, e.path[e.path.length - 1]!);
            for (const h of holders) if (!r.unpublishes.includes(h.id)) r.unpublishes.push(h.id);
            if (!holders.length) id = `${cop.container}:${e.owner}.${e.path[e.path.length - 1]}`;
          }
        }
        if (id && !r.unpublishes.includes(id)) r.unpublishes.push(id);
      }
      const rop = rc.rcuOps.get(c.c);
      const free = rc.frees.get(c.c);
      const how = rop ? rop.kind : free ? (free.deferred ? 'kfree_rcu' : 'kfree') : null;
      if (how && how !== 'rcu_barrier' && !r.frees.includes(how)) r.frees.push(how);
      if (depth < 3 && !lop && !cop && !rop && !free) {
        if (c.c.startsWith('->')) {
          for (const t of (index.fptrTargets.get(c.c.slice(2)) ?? []).slice(0, 6)) {
            const td = resolveCallee(index, d.file, t);
            if (td) visit(td, depth + 2, false);
          }
        } else {
          const cd = resolveCallee(index, d.file, c.c);
          if (cd) visit(cd, depth + 1, direct);
        }
      }
    }
  };
  visit(def, 0, true);
}

/* ------------------------------------------------------------ queries */

export interface LearnedWrappers {
  /** Functions that take a reference on a parameter (+1, or +1 if non-zero with the result returned). */
  gets: string[];
  /** Functions that drop a reference on a parameter. */
  puts: string[];
  /** Functions returning a new reference (allocation, get, lookup-and-get). */
  returnsRef: string[];
}

export function learnedWrappers(index: WorkspaceIndex): LearnedWrappers {
  const gets = new Set<string>();
  const puts = new Set<string>();
  const returnsRef = new Set<string>();
  for (const s of index.summaries.values()) {
    if (index.rc.refOps.has(s.name)) continue; // the primitives themselves (kref_get in kref.h) are not wrappers
    if (s.params.some((p) => p.effect === 'get' || p.effect === 'cond-get')) gets.add(s.name);
    if (s.params.some((p) => p.effect === 'put')) puts.add(s.name);
    if (s.returnsRef) returnsRef.add(s.name);
  }
  const sort = (x: Set<string>) => [...x].sort();
  return { gets: sort(gets), puts: sort(puts), returnsRef: sort(returnsRef) };
}

const summaryNames = new WeakMap<Map<string, RefSummary>, Set<string>>();

/** The summary of the function `name` as seen from `fromFile` (same-file static first). */
export function summaryOf(index: WorkspaceIndex, name: string, fromFile = ''): RefSummary | undefined {
  // Most names asked about (printk, memcpy, local helpers) have no summary under any definition.
  let names = summaryNames.get(index.summaries);
  if (!names) summaryNames.set(index.summaries, (names = new Set([...index.summaries.values()].map((x) => x.name))));
  if (!names.has(name)) return undefined;
  const id = resolveCalleeId(index, fromFile, name);
  return id ? index.summaries.get(id) : undefined;
}

export type { RefSummary, ContainerOpKind };
