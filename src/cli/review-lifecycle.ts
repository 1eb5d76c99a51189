/**
 * Lifecycle impact of a change under review (`check --since/--range/--patch`).
 *
 * 1. The functions the change touched, at either end (src/core/review/lines.ts
 *    over the two texts, mapped to function definitions through the facts).
 * 2. Of those, the ones that do lifecycle work (a refcount, container, free or
 *    RCU primitive of the catalog, or container_of); the struct types those
 *    primitives work on (the type of the variable each argument starts from)
 *    are the candidate types.
 * 3. Candidates whose definition has a counter (a textual check, embedded
 *    structs followed) go through a cheap stage 1: an index of the changed files
 *    and the definitions alone says whether a touched function is one of the
 *    type's release callbacks, publish/unpublish/lookup sites or get/put
 *    wrappers. A function that only cross-file knowledge would make one (a lookup
 *    through a helper defined elsewhere) is missed there.
 * 4. For the remaining types the lifecycle is extracted at both ends (`refscope
 *    lifecycle`'s file selection over the changed files' directories, with what
 *    is below them, and ROOT/include, with the changed files' texts of that end, all types in one
 *    index per end) and, when a touched function takes part in the model, every
 *    combination of roles is explored at both ends and the verdicts compared
 *    (src/core/review/lifecycle.ts).
 */
import { dirname } from 'node:path';
import { containerOp, freeOp, indexRefcountCatalog, rcuOp, refOp } from '../core/catalog/refcount';
import { buildWorkspaceIndex, factsFor } from '../core/index/index';
import type { FileFacts, FunctionFact } from '../core/index/facts';
import type { WorkspaceIndex } from '../core/index/workspace';
import { changedLines } from '../core/review/lines';
import { compareLifecycle, functionsOnLines, lifecycleFunctions, type LifecycleImpact } from '../core/review/lifecycle';
import { checkCombinations, extractLifecycle, rolePairs, UnknownTypeError, type CombinationResult, type LifecycleModel } from '../core/sim/lifecycle';
import { nodeParser } from '../node/assets';
import { NodeFactsCache } from '../node/cache';
import type { InputFile } from './files';
import { indexForTypes, loadTexts, overlayTexts, sourceLineOf, type Candidate, type TextSet } from './lifecycle';

export interface LifecycleReview {
  impacts: LifecycleImpact[];
  /** Types whose lifecycle was checked at both ends (touched, refcounted). */
  checked: string[];
  ms: number;
}

/** Struct types that are plumbing, never the refcounted object of a lifecycle. */
const PLUMBING = new Set([
  'list_head', 'hlist_head', 'hlist_node', 'rb_node', 'rb_root', 'rcu_head', 'kref', 'mutex', 'rw_semaphore', 'spinlock', 'idr', 'xarray', 'ida',
  'work_struct', 'delayed_work', 'completion', 'wait_queue_head', 'callback_head', 'llist_node', 'llist_head', 'rhash_head', 'refcount_struct', 'file',
  'inode', 'seq_file', 'device', 'kobject', 'page', 'task_struct', 'timer_list', 'rhashtable', 'radix_tree_root',
]);

/** At most this many candidate types per review section, by how many touched functions use them. */
const MAX_TYPES = 8;
/** Bound per combination in a review (the `lifecycle` command's default is 200,000). */
const MAX_STATES = 100_000;

const COUNTER_FIELD = /\b(?:struct\s+kref|refcount_t|atomic_t|atomic_long_t|struct\s+percpu_ref|struct\s+kobject|struct\s+device)\s+\w+\s*;/;
const EMBEDDED = /\bstruct\s+(\w+)\s+\w+\s*;/g;

/**
 * A textual pre-check of "is struct X refcounted" over an end's texts, before
 * its lifecycle is indexed: the body of X's definition has a counter field
 * (kref, refcount_t, atomic_t, percpu_ref, kobject, device) or embeds, by value,
 * a struct that has one (three levels). The index decides for real afterwards.
 */
/** Struct definitions (`struct NAME {` positions) of a file's text, scanned once per text and shared by both ends. */
const DEF_SCAN = /\bstruct\s+(\w+)\s*\{/g;
const scanned = new WeakMap<Candidate, Map<string, number>>();
function definitionsIn(c: Candidate): Map<string, number> {
  let m = scanned.get(c);
  if (!m) {
    m = new Map();
    DEF_SCAN.lastIndex = 0;
    for (const x of c.text.matchAll(DEF_SCAN)) if (!m.has(x[1]!)) m.set(x[1]!, x.index + x[0].length - 1);
    scanned.set(c, m);
  }
  return m;
}

class StructDefs {
  private readonly bodies = new Map<string, string | null>();
  /** The file of each definition found. */
  readonly where = new Map<string, Candidate>();
  private first: Map<string, { c: Candidate; at: number }> | undefined;
  constructor(private readonly set: TextSet) {}

  body(name: string): string | null {
    if (this.bodies.has(name)) return this.bodies.get(name)!;
    if (!this.first) {
      // PATH files first, then ROOT/include: the first definition of a name wins.
      this.first = new Map();
      for (const c of [...this.set.pathTexts, ...this.set.headerTexts]) {
        for (const [n, at] of definitionsIn(c)) if (!this.first.has(n)) this.first.set(n, { c, at });
      }
    }
    const d = this.first.get(name);
    let found: string | null = null;
    if (d) {
      let depth = 0;
      for (let i = d.at; i < d.c.text.length && i < d.at + 200_000; i++) {
        const ch = d.c.text[i];
        if (ch === '{') depth++;
        else if (ch === '}' && --depth === 0) {
          found = d.c.text.slice(d.at + 1, i);
          this.where.set(name, d.c);
          break;
        }
      }
    }
    this.bodies.set(name, found);
    return found;
  }

  /** `files` collects the definitions on the way (the type's and the embedded ones that carry the counter). */
  refcounted(type: string, files?: Set<Candidate>, depth = 0): boolean {
    const name = type.replace(/^struct /, '');
    const b = this.body(name);
    if (b === null) return false;
    const here = this.where.get(name)!;
    if (COUNTER_FIELD.test(b)) {
      files?.add(here);
      return true;
    }
    if (depth >= 3) return false;
    for (const m of b.matchAll(EMBEDDED)) {
      if (m[1] !== name && !PLUMBING.has(m[1]!) && this.refcounted(`struct ${m[1]!}`, files, depth + 1)) {
        files?.add(here);
        return true;
      }
    }
    return false;
  }
}

interface EndFile {
  abs: string;
  label: string;
  text: string;
}

function isPrimitive(name: string, rc: ReturnType<typeof indexRefcountCatalog>): boolean {
  return name === 'container_of' || refOp(name, rc) !== undefined || containerOp(name, rc) !== undefined || freeOp(name, rc) !== undefined || rcuOp(name, rc) !== undefined;
}

/**
 * The struct types a function's lifecycle primitives work on: the type of the
 * variable or parameter each argument of a refcount, container, free or RCU
 * primitive starts from (`kref_put(obj.refcount, ...)` -> obj's type), and
 * container_of's type argument. Empty for a function that does no lifecycle work.
 */
function primitiveTypes(fn: FunctionFact, rc: ReturnType<typeof indexRefcountCatalog>): string[] {
  const out = new Set<string>();
  const typeOf = (name: string) => fn.vars[name] ?? fn.params.find((p) => p.n === name);
  for (const c of fn.calls) {
    if (!isPrimitive(c.c, rc)) continue;
    for (const a of c.a) {
      const co = /^struct(\w+)$/.exec(a);
      if (co && c.c === 'container_of') {
        if (!PLUMBING.has(co[1]!)) out.add(`struct ${co[1]!}`);
        continue;
      }
      const id = /^[&*(]*(\w+)/.exec(a)?.[1];
      const t = id ? typeOf(id) : undefined;
      const m = t ? /^struct (\w+)$/.exec(t.t) : null;
      if (m && !PLUMBING.has(m[1]!)) out.add(`struct ${m[1]!}`);
    }
  }
  return [...out];
}

/**
 * Whether a touched function takes part in `type`'s lifecycle as the index
 * sees it (what extractLifecycle builds its roles from): a release callback of
 * the type, a publish/unpublish/lookup site of a structure holding it, or a
 * learned get/put wrapper taking or returning it.
 */
function touchesLifecycle(index: WorkspaceIndex, type: string, touched: ReadonlySet<string>): boolean {
  if (!index.refcounted.has(type)) return false;
  for (const r of index.releases.values()) if (touched.has(r.name) && r.types.includes(type)) return true;
  for (const l of index.lookups.values()) {
    if (!l.elements.some((e) => e.type === type)) continue;
    for (const site of [...l.publish, ...l.unpublish, ...l.lookup]) if (touched.has(site.fn)) return true;
  }
  for (const sm of index.summaries.values()) {
    if (!touched.has(sm.name) || (sm.params.length === 0 && !sm.returnsRef)) continue;
    for (const d of index.functions.get(sm.name) ?? []) {
      if ([d.fact.ret, ...d.fact.params].some((t) => t.t === type && t.p >= 1)) return true;
    }
  }
  return false;
}

/** One end: the index for all candidate types at once, then each type's model and verdicts (null: not refcounted there). */
async function endVerdicts(types: string[], set: TextSet, jobs: number, cacheDir: string | null): Promise<Map<string, { lm: LifecycleModel; results: CombinationResult[] } | null>> {
  const out = new Map<string, { lm: LifecycleModel; results: CombinationResult[] } | null>();
  if (types.length === 0) return out;
  const t0 = performance.now();
  const ix = await indexForTypes(types, set, jobs, cacheDir);
  if (process.env.REFSCOPE_DEBUG_REVIEW) process.stderr.write(`review lifecycle: index of ${ix.files} files (${ix.cached} cached) for ${types.length} types in ${Math.round(performance.now() - t0)} ms\n`);
  const sourceLine = sourceLineOf(ix.texts);
  for (const type of types) {
    let lm: LifecycleModel;
    try {
      lm = extractLifecycle(ix.index, type, { sourceLine });
    } catch (e) {
      if (e instanceof UnknownTypeError) {
        out.set(type, null);
        continue;
      }
      throw e;
    }
    out.set(type, { lm, results: [] });
  }
  return out;
}

function explore(v: { lm: LifecycleModel; results: CombinationResult[] }): void {
  let combos = rolePairs(v.lm);
  if (combos.length === 0 && v.lm.roles.length === 1) combos = [[v.lm.roles[0]!.name]];
  v.results = checkCombinations(v.lm, combos, { maxStates: MAX_STATES });
}

/**
 * The directories whose files a review's lifecycle check reads: those of the
 * changed files, with what is below them. A change to drivers/gpu/drm/drm_gem.c
 * reads all of drm, as `refscope lifecycle ... drivers/gpu/drm` does: the
 * drivers' free callbacks (through `obj->funcs->free`) are where struct
 * drm_gem_object leaves the mmap offset manager, and without them the model of
 * the unchanged code would already race.
 */
function dirsOf(base: readonly InputFile[], head: readonly InputFile[]): string[] {
  return [...new Set([...base, ...head].map((f) => dirname(f.abs)))];
}

/**
 * Reads the texts the lifecycle check may need (the changed files' directories
 * and ROOT/include) and scans them for struct definitions: file I/O and regex
 * work that needs no facts, run while the two ends are analysed in the workers
 * (the main thread mostly waits then). Starts after `delayMs` so the workers
 * are up first.
 */
export async function prepareLifecycleTexts(base: readonly InputFile[], head: readonly InputFile[], o: { root: string; cwd: string }, delayMs = 50): Promise<TextSet> {
  await new Promise((r) => setTimeout(r, delayMs));
  const set = loadTexts(dirsOf(base, head), o.root, o.cwd);
  for (const c of [...set.pathTexts, ...set.headerTexts]) {
    definitionsIn(c);
    await new Promise((r) => setImmediate(r)); // let the workers' messages through
  }
  return set;
}

/**
 * The lifecycle impact of one change: `base`/`head` are the changed files at
 * each end (as `compareEnds` analyses them), `renames` maps base display names
 * to head display names.
 */
export async function reviewLifecycles(
  base: readonly InputFile[],
  head: readonly InputFile[],
  renames: ReadonlyMap<string, string>,
  o: { root: string; cwd: string; jobs: number; cacheDir: string | null; texts?: Promise<TextSet> },
): Promise<LifecycleReview> {
  const t0 = performance.now();
  const parser = await nodeParser();
  const cache = o.cacheDir ? new NodeFactsCache(o.cacheDir) : undefined;
  const rc = indexRefcountCatalog();
  const ends = {
    base: base.filter((f) => f.text !== undefined).map((f): EndFile => ({ abs: f.abs, label: f.display, text: f.text! })),
    head: head.filter((f) => f.text !== undefined).map((f): EndFile => ({ abs: f.abs, label: f.display, text: f.text! })),
  };
  const headByLabel = new Map(ends.head.map((f) => [f.label, f]));
  const baseByHeadLabel = new Map(ends.base.map((f) => [renames.get(f.label) ?? f.label, f]));
  // 1 + 2: touched functions doing lifecycle work, and their struct types.
  const touched = new Set<string>();
  const typeCount = new Map<string, number>();
  /** Struct types the touched functions take or declare (their definitions join stage 1 below). */
  const touchedTypes = new Set<string>();
  const visit = (fns: FunctionFact[]) => {
    for (const fn of fns) {
      touched.add(fn.name);
      for (const t of [fn.ret, ...fn.params, ...Object.values(fn.vars)]) {
        const m = /^struct (\w+)$/.exec(t.t);
        if (m && !PLUMBING.has(m[1]!)) touchedTypes.add(m[1]!);
      }
      for (const t of primitiveTypes(fn, rc)) typeCount.set(t, (typeCount.get(t) ?? 0) + 1);
    }
  };
  // Facts by label and text: each changed file's twice (touched functions, stage 1), each definition once for both ends.
  const memo = new Map<string, { text: string; facts: FileFacts | null }>();
  const factsOfFile = (f: { label: string; text: string }): FileFacts | null => {
    const m = memo.get(f.label);
    if (m && m.text === f.text) return m.facts;
    let facts: FileFacts | null;
    try {
      facts = factsFor(parser, f.text, f.label, cache).facts;
    } catch {
      facts = null;
    }
    // One entry per label: the ends alternate, so keep whichever text was asked last.
    memo.set(f.label, { text: f.text, facts });
    return facts;
  };
  const memoEnd = new Map<EndFile, FileFacts | null>();
  const factsOf = (f: EndFile): FunctionFact[] => {
    if (!memoEnd.has(f)) memoEnd.set(f, factsOfFile(f));
    return memoEnd.get(f)?.functions ?? [];
  };
  for (const h of ends.head) {
    const b = baseByHeadLabel.get(h.label);
    const lines = changedLines(b?.text ?? null, h.text);
    visit(functionsOnLines(factsOf(h), lines.changed));
    if (b) visit(functionsOnLines(factsOf(b), lines.removed));
  }
  for (const [label, b] of baseByHeadLabel) if (!headByLabel.has(label)) visit(factsOf(b)); // deleted files
  // REFSCOPE_DEBUG_REVIEW=1: where the lifecycle check's time goes, on stderr.
  const dbg = (what: string) => {
    if (process.env.REFSCOPE_DEBUG_REVIEW) process.stderr.write(`review lifecycle: ${what} at ${Math.round(performance.now() - t0)} ms\n`);
  };
  dbg('touched functions');
  const types = [...typeCount.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).slice(0, MAX_TYPES).map(([t]) => t);
  if (types.length === 0) return { impacts: [], checked: [], ms: Math.round(performance.now() - t0) };
  // 3: both ends' texts (the changed files' directories and ROOT/include), each with its end's changed files.
  const dirs = dirsOf(base, head);
  const overrides = (mine: EndFile[], other: EndFile[]): Map<string, string | null> => {
    const m = new Map<string, string | null>();
    for (const f of other) m.set(f.abs, null);
    for (const f of mine) m.set(f.abs, f.text);
    return m;
  };
  const disk = o.texts ? await o.texts : loadTexts(dirs, o.root, o.cwd);
  dbg('texts read');
  const baseSet = overlayTexts(disk, overrides(ends.base, ends.head), dirs, o.root, o.cwd);
  const headSet = overlayTexts(disk, overrides(ends.head, ends.base), dirs, o.root, o.cwd);
  // Only types whose definition (at either end) has a counter, directly or in an embedded struct.
  const defs = { base: new StructDefs(baseSet), head: new StructDefs(headSet) };
  const impacts: LifecycleImpact[] = [];
  const checked: string[] = [];
  const defFiles = { base: new Set<Candidate>(), head: new Set<Candidate>() };
  const counted = types.filter((t) => defs.base.refcounted(t, defFiles.base) || defs.head.refcounted(t, defFiles.head));
  // Stage 1, cheap: the lifecycle of each type from the changed files and the definitions alone
  // (all facts cached by the two ends' checks). Only types whose lifecycle there includes a
  // touched function are indexed in full. A function that only cross-file knowledge would make
  // a lifecycle function of the type (a lookup through a helper defined elsewhere) is missed.
  const small = (end: 'base' | 'head'): Set<string> => {
    const files = new Set<{ text: string; label: string }>([...ends[end], ...defFiles[end]]);
    for (const t of touchedTypes) {
      if (defs[end].body(t) === null) continue;
      const c = defs[end].where.get(t);
      if (c) files.add(c);
    }
    const facts = [...files].flatMap((f) => {
      const x = ends[end].includes(f as EndFile) ? memoEnd.get(f as EndFile) ?? factsOfFile(f) : factsOfFile(f);
      return x ? [x] : [];
    });
    const index = buildWorkspaceIndex(facts);
    const keep = new Set<string>();
    for (const t of counted) if (touchesLifecycle(index, t, touched)) keep.add(t);
    return keep;
  };
  dbg('definitions found');
  const keepBase = small('base');
  const keepHead = small('head');
  const wanted = counted.filter((t) => keepBase.has(t) || keepHead.has(t));
  dbg('stage 1');
  if (process.env.REFSCOPE_DEBUG_REVIEW) process.stderr.write(`review lifecycle: candidates ${types.join(', ')}; refcounted ${counted.join(', ')}; touched ${wanted.join(', ')}; texts ${disk.pathTexts.length}+${disk.headerTexts.length} (${Math.round(performance.now() - t0)} ms)\n`);
  const [bv, hv] = [await endVerdicts(wanted, baseSet, o.jobs, o.cacheDir), await endVerdicts(wanted, headSet, o.jobs, o.cacheDir)];
  for (const type of wanted) {
    const b = bv.get(type) ?? null;
    const h = hv.get(type) ?? null;
    if (!b && !h) continue;
    const names = new Set([...(b ? lifecycleFunctions(b.lm) : []), ...(h ? lifecycleFunctions(h.lm) : [])]);
    const hit = [...touched].filter((f) => names.has(f));
    if (hit.length === 0) continue;
    // Explored only now: a type whose lifecycle the change does not touch costs its extraction only.
    if (b) explore(b);
    if (h) explore(h);
    checked.push(type);
    impacts.push(compareLifecycle(type, hit, b?.results ?? null, h?.results ?? null));
  }
  return { impacts, checked, ms: Math.round(performance.now() - t0) };
}
