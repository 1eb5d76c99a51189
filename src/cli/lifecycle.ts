/**
 * `refscope lifecycle --type "struct NAME" [--root DIR] PATH...`: extract the
 * lifecycle model of a refcounted type from the code (refcount field, release
 * callbacks, lookup functions and their protection, roles) and decide every
 * pair of roles (or the combination given with --roles) with the explorer.
 *
 * Speed: only files that can matter are indexed. Round 1: files under the
 * PATHs (and headers under ROOT/include) whose text names the type. Round 2:
 * headers defining the struct types that the round-1 functions touching lookup
 * structures take or declare (e.g. `struct drm_file` for `filp->object_idr`),
 * and PATH files naming the learned lookup/release functions. Facts come from
 * the on-disk cache or from worker threads (dist/cli.js is its own worker entry:
 * see the worker test at the bottom of this file).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { cpus } from 'node:os';
import { containerOp } from '../core/catalog/refcount';
import { buildWorkspaceIndex, factsFor, type FactsCache, type FileFacts, type WorkspaceIndex } from '../core/index/index';
import type { CParser } from '../core/parse/parser';
import {
  checkCombinations, closeTypeMatches, extractLifecycle, resolveRoleNames, rolePairs, UnknownTypeError, type CombinationResult, type LifecycleModel,
} from '../core/sim/lifecycle';
import type { SimTraceStep } from '../core/sim/types';
import { nodeParser } from '../node/assets';
import { defaultCacheDir, NodeFactsCache } from '../node/cache';
import { collectFiles } from './files';
import { CliError, type CliIO } from './io';
import { runWorkers, workerScript } from './pool';

export const LIFECYCLE_USAGE = `usage: refscope lifecycle --type "struct NAME" [--root DIR] [--format text|json]
                          [--roles A,B,...] [--jobs N] [--cache-dir DIR | --no-cache]
                          [--max-states N] PATH...

Extracts the lifecycle of a refcounted struct type from the C files under the
PATHs (refcount field, get/put wrappers, lookup functions and the lock or RCU
that protects them, publish/unpublish sites, release callbacks and how they
free) and turns it into roles (lookup, unpublish, put) whose ops point at the
real source lines. Every pair of roles (or the combination given with --roles,
by role name or function name) is explored in every interleaving.

  --type T         the type, e.g. "struct drm_gem_object" (required)
  --root DIR       tree top: file names are shown relative to it, and headers
                   under DIR/include that define the types involved are indexed
  --roles A,B      check only this combination (repeat for several)
  --jobs N         worker threads for indexing (default: number of cores)
  --cache-dir DIR  facts cache (default ~/.cache/refscope); --no-cache: none
  --max-states N   bound per combination (verdict 'incomplete'); default 200000

exit status: 0 every combination is safe, 1 a violation was found (or a
combination is incomplete), 2 usage error (e.g. unknown type)`;

interface Options {
  type: string;
  root: string | null;
  format: 'text' | 'json';
  roles: string[][];
  jobs: number;
  cacheDir: string | null;
  maxStates: number;
  paths: string[];
}

function parseArgs(argv: string[], cwd: string): Options | 'help' {
  const o: Options = { type: '', root: null, format: 'text', roles: [], jobs: Math.max(1, cpus().length), cacheDir: defaultCacheDir(), maxStates: 200_000, paths: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new CliError(`${a} needs a value`);
      return v;
    };
    const flag = a.startsWith('--') && a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--type':
        o.type = value();
        break;
      case '--root':
        o.root = resolve(cwd, value());
        break;
      case '--format': {
        const v = value();
        if (v !== 'text' && v !== 'json') throw new CliError(`--format must be text or json (got '${v}')`);
        o.format = v;
        break;
      }
      case '--roles':
        o.roles.push(value().split(',').map((s) => s.trim()).filter(Boolean));
        break;
      case '--jobs': {
        const n = Number.parseInt(value(), 10);
        if (!Number.isFinite(n) || n < 1) throw new CliError('--jobs needs a positive number');
        o.jobs = n;
        break;
      }
      case '--cache-dir':
        o.cacheDir = resolve(cwd, value());
        break;
      case '--no-cache':
        o.cacheDir = null;
        break;
      case '--max-states': {
        const n = Number.parseInt(value(), 10);
        if (!Number.isFinite(n) || n <= 0) throw new CliError('--max-states needs a positive number');
        o.maxStates = n;
        break;
      }
      default:
        if (a.startsWith('-') && a !== '-') throw new CliError(`unknown option '${a}'`);
        o.paths.push(a);
    }
  }
  if (!o.type.trim()) throw new CliError('--type "struct NAME" is required; see refscope lifecycle --help');
  if (o.paths.length === 0) throw new CliError('no PATH given; see refscope lifecycle --help');
  return o;
}

/* ------------------------------------------------------------ file selection */

export interface Candidate {
  abs: string;
  label: string;
  text: string;
}

const STRUCT_DEF = /^(?:struct|union)\s+(\w+)\s*\{/gm;

function readText(abs: string): string | null {
  try {
    return readFileSync(abs, 'utf8');
  } catch {
    return null;
  }
}

function walkHeaders(dir: string, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walkHeaders(p, out);
    else if (e.name.endsWith('.h') && e.isFile()) out.push(p);
  }
}

function wordRe(names: string[]): RegExp {
  const esc = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`\\b(?:${esc.join('|')})\\b`);
}

/* ------------------------------------------------------------ workers */

interface LifecycleWorkerInput {
  kind: 'refscope-lifecycle-worker';
  files: Array<{ abs: string; label: string }>;
  next: SharedArrayBuffer;
  cacheDir: string | null;
}

type LifecycleWorkerMessage = { kind: 'facts'; facts: FileFacts; cached: boolean } | { kind: 'error'; label: string; message: string } | { kind: 'done' } | { kind: 'fatal'; message: string };

function isLifecycleWorkerInput(d: unknown): d is LifecycleWorkerInput {
  return typeof d === 'object' && d !== null && (d as { kind?: unknown }).kind === 'refscope-lifecycle-worker';
}

async function runLifecycleWorker(): Promise<void> {
  const input = workerData as LifecycleWorkerInput;
  const post = (m: LifecycleWorkerMessage): void => parentPort?.postMessage(m);
  try {
    const parser = await nodeParser();
    const cache = input.cacheDir ? new NodeFactsCache(input.cacheDir) : undefined;
    const next = new Int32Array(input.next);
    for (;;) {
      const i = Atomics.add(next, 0, 1);
      if (i >= input.files.length) break;
      const f = input.files[i]!;
      const text = readText(f.abs);
      if (text === null) {
        post({ kind: 'error', label: f.label, message: 'cannot read' });
        continue;
      }
      try {
        const r = factsFor(parser, text, f.label, cache);
        post({ kind: 'facts', facts: r.facts, cached: r.cached });
      } catch (e) {
        post({ kind: 'error', label: f.label, message: e instanceof Error ? e.message : String(e) });
      }
    }
    post({ kind: 'done' });
  } catch (e) {
    post({ kind: 'fatal', message: e instanceof Error ? e.message : String(e) });
  }
}

interface Extracted {
  facts: FileFacts[];
  cached: number;
  errors: number;
}

let mainParser: Promise<CParser> | null = null;

async function extractAll(files: Candidate[], jobs: number, cacheDir: string | null): Promise<Extracted> {
  const out: Extracted = { facts: [], cached: 0, errors: 0 };
  const cache: FactsCache | undefined = cacheDir ? new NodeFactsCache(cacheDir) : undefined;
  // Cache hits in the main thread (no parse); misses go to the workers.
  const misses: Candidate[] = [];
  for (const f of files) {
    const hit = cache?.load(f.label, f.text);
    if (hit && hit.file === f.label) {
      out.facts.push(hit);
      out.cached++;
    } else misses.push(f);
  }
  if (misses.length === 0) return out;
  const total = misses.reduce((n, f) => n + f.text.length, 0);
  if (jobs <= 1 || misses.length < 8 || total < 400_000) {
    mainParser ??= nodeParser();
    const parser = await mainParser;
    for (const f of misses) {
      try {
        out.facts.push(factsFor(parser, f.text, f.label, cache).facts);
      } catch {
        out.errors++;
      }
    }
    return out;
  }
  misses.sort((a, b) => b.text.length - a.text.length);
  const input: LifecycleWorkerInput = { kind: 'refscope-lifecycle-worker', files: misses.map((f) => ({ abs: f.abs, label: f.label })), next: new SharedArrayBuffer(4), cacheDir };
  const n = Math.max(1, Math.min(jobs, misses.length));
  const script = workerScript();
  await runWorkers<LifecycleWorkerMessage>(script, input, n, (m) => {
    if (m.kind === 'facts') out.facts.push(m.facts);
    else if (m.kind === 'error') out.errors++;
    else if (m.kind === 'done') return 'done';
    else return new Error(`worker failed: ${m.message}`);
  });
  return out;
}

/* ------------------------------------------------------------ the command */

export interface Indexed {
  index: WorkspaceIndex;
  /** Every text read (PATH files and ROOT/include headers), for the unknown-type fallback. */
  all: Candidate[];
  texts: Map<string, string>;
  files: number;
  cached: number;
  errors: number;
}

/** The texts a lifecycle extraction can draw on: the files under the PATHs and the headers under ROOT/include. */
export interface TextSet {
  pathTexts: Candidate[];
  headerTexts: Candidate[];
}

/** Reads the files under `paths` and (with a root) ROOT/include's headers; files over 1 MB (generated register headers) are left out. */
export function loadTexts(paths: string[], root: string | null, cwd: string): TextSet {
  const labelOf = (abs: string, display: string): string => (root ? relative(root, abs) : display);
  const pathTexts: Candidate[] = [];
  for (const f of collectFiles(paths, cwd)) {
    if (f.size > 1 << 20) continue;
    const text = readText(f.abs);
    if (text !== null) pathTexts.push({ abs: f.abs, label: labelOf(f.abs, f.display), text });
  }
  const headerTexts: Candidate[] = [];
  if (root) {
    const hs: string[] = [];
    walkHeaders(join(root, 'include'), hs);
    for (const abs of hs) {
      if (statSync(abs).size > 1 << 20) continue;
      const text = readText(abs);
      if (text !== null) headerTexts.push({ abs, label: relative(root, abs), text });
    }
  }
  return { pathTexts, headerTexts };
}

/**
 * `set` with `overrides` (absolute path -> text, or null for "absent") standing
 * in for the disk: one end of a change under review. Override files that are
 * not in `set` are added when they lie under one of `paths` (or ROOT/include).
 */
export function overlayTexts(set: TextSet, overrides: ReadonlyMap<string, string | null>, paths: string[], root: string | null, cwd: string): TextSet {
  const seen = new Set<string>();
  const apply = (cs: Candidate[]): Candidate[] => cs.flatMap((c) => {
    seen.add(c.abs);
    const o = overrides.get(c.abs);
    return o === null ? [] : o === undefined ? [c] : [{ ...c, text: o }];
  });
  const out = { pathTexts: apply(set.pathTexts), headerTexts: apply(set.headerTexts) };
  const under = (abs: string, d: string) => abs === d || abs.startsWith(d.endsWith(sep) ? d : d + sep);
  const dirs = paths.map((p) => resolve(cwd, p));
  for (const [abs, text] of overrides) {
    if (text === null || seen.has(abs) || !/\.[ch]$/.test(abs)) continue;
    const label = root ? relative(root, abs) : relative(cwd, abs);
    if (root && under(abs, join(root, 'include')) && abs.endsWith('.h')) out.headerTexts.push({ abs, label, text });
    else if (dirs.some((d) => under(abs, d))) out.pathTexts.push({ abs, label, text });
  }
  return out;
}

async function indexFor(o: Options, io: CliIO): Promise<Indexed> {
  return indexForTypes([o.type], loadTexts(o.paths, o.root, io.cwd), o.jobs, o.cacheDir);
}

/**
 * The workspace index for the lifecycles of `typeNames` (one, or several at
 * once: the union of what each needs): the files of `set` that can matter
 * (three rounds, see the file comment).
 */
export async function indexForTypes(typeNames: readonly string[], set: TextSet, jobs: number, cacheDir: string | null): Promise<Indexed> {
  const o = { jobs, cacheDir };
  const bares = typeNames.map((t) => t.trim().replace(/\s+/g, ' ').replace(/^(struct|union) /, ''));
  const types = bares.map((b) => `struct ${b}`);
  const { pathTexts, headerTexts } = set;
  const chosen = new Map<string, Candidate>();
  const typeRe = wordRe(bares);
  for (const c of [...pathTexts, ...headerTexts]) if (typeRe.test(c.text)) chosen.set(c.abs, c);
  const round1 = await extractAll([...chosen.values()], o.jobs, o.cacheDir);
  let facts = round1.facts;
  let cached = round1.cached;
  let errors = round1.errors;
  // Round 2: headers defining the struct types of functions that touch lookup structures, and PATH
  // files naming the type's lookup, release and wrapper functions.
  let index = buildWorkspaceIndex(facts);
  const missing = new Set<string>();
  for (const defs of index.functions.values()) {
    for (const d of defs) {
      if (!d.fact.calls.some((c) => containerOp(c.c, index.rc) || /lock/.test(c.c))) continue;
      for (const t of [...d.fact.params, ...Object.values(d.fact.vars)]) {
        const m = /^struct (\w+)$/.exec(t.t);
        if (m && !index.structs.has(t.t)) missing.add(m[1]!);
      }
    }
  }
  const more = new Map<string, Candidate>();
  if (missing.size) {
    for (const c of [...headerTexts, ...pathTexts.filter((p) => p.abs.endsWith('.h'))]) {
      if (chosen.has(c.abs)) continue;
      STRUCT_DEF.lastIndex = 0;
      for (const m of c.text.matchAll(STRUCT_DEF)) {
        if (missing.has(m[1]!)) {
          more.set(c.abs, c);
          break;
        }
      }
      if (more.size >= 48) break;
    }
  }
  const counted = types.filter((t) => index.refcounted.has(t));
  if (counted.length) {
    const names = new Set<string>();
    for (const r of index.releases.values()) if (r.types.some((t) => counted.includes(t))) names.add(r.name);
    for (const l of index.lookups.values()) {
      if (!l.elements.some((e) => counted.includes(e.type))) continue;
      for (const s of [...l.lookup, ...l.unpublish]) names.add(s.fn);
    }
    if (names.size) {
      const re = wordRe([...names]);
      for (const c of pathTexts) if (!chosen.has(c.abs) && !more.has(c.abs) && re.test(c.text)) more.set(c.abs, c);
    }
  }
  if (more.size) {
    const round2 = await extractAll([...more.values()], o.jobs, o.cacheDir);
    facts = [...facts, ...round2.facts];
    cached += round2.cached;
    errors += round2.errors;
    for (const [k, v] of more) chosen.set(k, v);
    index = buildWorkspaceIndex(facts);
  }
  // Round 3: definitions of the helpers the type's lookup/unpublish sites go through (lock
  // wrappers such as drm_vma_offset_lock_lookup, primitives such as drm_vma_offset_remove).
  const counted3 = types.filter((t) => index.refcounted.has(t));
  if (counted3.length) {
    const helpers = new Set<string>();
    for (const l of index.lookups.values()) {
      if (!l.elements.some((e) => counted3.includes(e.type))) continue;
      for (const site of [...l.lookup, ...l.unpublish]) {
        if (!index.functions.has(site.via)) helpers.add(site.via);
        for (const d of index.functions.get(site.fn) ?? []) {
          for (const c of d.fact.calls) if (/lock/.test(c.c) && !index.functions.has(c.c) && !/^(mutex|spin|raw_spin|read|write|down|up|rcu)_/.test(c.c)) helpers.add(c.c);
        }
      }
    }
    const names = [...helpers].filter((n) => /^\w+$/.test(n)).slice(0, 64);
    if (names.length) {
      const def = new RegExp(`^[A-Za-z_][\\w \\t*]*\\b(?:${names.join('|')})\\s*\\([^;{]*\\)\\s*\\{`, 'm');
      const quick = wordRe(names);
      const more3 = new Map<string, Candidate>();
      for (const c of [...pathTexts, ...headerTexts]) {
        if (chosen.has(c.abs) || !quick.test(c.text)) continue;
        if (def.test(c.text)) more3.set(c.abs, c);
        if (more3.size >= 32) break;
      }
      if (more3.size) {
        const round3 = await extractAll([...more3.values()], o.jobs, o.cacheDir);
        facts = [...facts, ...round3.facts];
        cached += round3.cached;
        errors += round3.errors;
        for (const [k, v] of more3) chosen.set(k, v);
        index = buildWorkspaceIndex(facts);
      }
    }
  }
  const texts = new Map<string, string>();
  for (const c of chosen.values()) texts.set(c.label, c.text);
  return { index, all: [...pathTexts, ...headerTexts], texts, files: chosen.size, cached, errors };
}

function stepJson(s: SimTraceStep): { thread: string; op: string; file: string; line: number; note: string; state: SimTraceStep['state'] } {
  return { thread: s.thread, op: s.op, file: s.file, line: s.line, note: s.note, state: s.state };
}

function jsonReport(lm: LifecycleModel, results: CombinationResult[], stats: { files: number; ms: number; cached: number }): unknown {
  return {
    type: lm.type,
    refcountField: lm.refcountField,
    counterKind: lm.counterKind,
    gets: lm.gets,
    puts: lm.puts,
    releaseCallbacks: lm.releaseCallbacks.map((r) => ({ function: r.function, file: r.file, line: r.line, locks: r.locks, frees: r.frees, unpublishes: r.unpublishes })),
    lookups: lm.lookups.map((l) => ({ function: l.function, file: l.file, line: l.line, structure: l.structure, protectedBy: l.protectedBy, get: l.get, ...(l.via ? { via: l.via } : {}) })),
    structures: lm.structures.map((s) => ({ id: s.id, kind: s.kind, rcu: s.rcu, holdsRef: s.holdsRef, readLocks: s.readLocks, writeLocks: s.writeLocks, publish: s.publish.length, unpublish: s.unpublish.length })),
    roles: lm.roles.map((r) => ({ name: r.name, kind: r.kind, function: r.function, file: r.file, line: r.line, ...(r.structure ? { structure: r.structure } : {}), summary: r.summary })),
    combinations: results.map((c) => ({
      roles: c.roles,
      verdict: c.verdict,
      states: c.states,
      violations: c.violations.map((v) => ({ kind: v.kind, message: v.message, trace: v.trace.map(stepJson) })),
    })),
    stats,
  };
}

function textReport(lm: LifecycleModel, results: CombinationResult[], stats: { files: number; ms: number; cached: number }): string {
  const lines: string[] = [];
  lines.push(`${lm.type}: refcount field '${lm.refcountField}' (${lm.counterKind})`);
  if (lm.gets.length) lines.push(`  get wrappers: ${lm.gets.slice(0, 12).join(', ')}${lm.gets.length > 12 ? `, ... (${lm.gets.length})` : ''}`);
  if (lm.puts.length) lines.push(`  put wrappers: ${lm.puts.slice(0, 12).join(', ')}${lm.puts.length > 12 ? `, ... (${lm.puts.length})` : ''}`);
  lines.push('release callbacks:');
  for (const r of lm.releaseCallbacks) lines.push(`  ${r.function}  ${r.file}:${r.line}  locks: ${r.locks.join(', ') || 'none'}; frees: ${r.frees}${r.unpublishes.length ? `; unpublishes: ${r.unpublishes.join(', ')}` : ''}`);
  if (!lm.releaseCallbacks.length) lines.push('  (none found)');
  lines.push('lookups:');
  for (const l of lm.lookups) lines.push(`  ${l.function}  ${l.file}:${l.line}  ${l.structure}  protected by ${l.protectedBy}; get: ${l.get}`);
  if (!lm.lookups.length) lines.push('  (none found)');
  lines.push('lookup structures:');
  for (const s of lm.structures) lines.push(`  ${s.id} (${s.kind}${s.rcu ? ', rcu' : ''})  ${s.holdsRef ? 'holds a reference' : 'holds no reference'}; publish ${s.publish.length}, unpublish ${s.unpublish.length}`);
  lines.push('roles:');
  for (const r of lm.roles) lines.push(`  ${r.name.padEnd(40)} ${r.file}:${r.line}  ${r.summary}`);
  lines.push('combinations:');
  for (const c of results) {
    lines.push(`  ${c.roles.join(' + ')}: ${c.verdict}${c.violations.length ? ` [${c.violations.map((v) => v.kind).join(', ')}]` : ''} (${c.states} states)`);
    for (const v of c.violations) {
      lines.push(`    ${v.kind}: ${v.message}`);
      v.trace.forEach((s, i) => lines.push(`      ${String(i + 1).padStart(2)}. ${s.thread}: ${s.op}${s.note ? `  -- ${s.note}` : ''}  (${s.file}:${s.line})`));
    }
  }
  const safe = results.filter((c) => c.verdict === 'safe').length;
  const bad = results.filter((c) => c.verdict === 'violation').length;
  lines.push(`${results.length} combinations: ${safe} safe, ${bad} with a violation, ${results.length - safe - bad} incomplete; ${stats.files} files indexed (${stats.cached} from cache) in ${stats.ms} ms`);
  return lines.join('\n') + '\n';
}

/** Refcounted types named like `type` among all files read: index only the files defining similar struct names. */
async function closeMatchesFromText(all: Candidate[], type: string, o: Options): Promise<string[]> {
  const want = type.replace(/^(struct|union) /, '');
  const near = (n: string): boolean => n.includes(want) || want.includes(n) || editDistanceAtMost(n, want, Math.max(2, Math.floor(want.length / 4)));
  const files: Candidate[] = [];
  for (const c of all) {
    STRUCT_DEF.lastIndex = 0;
    for (const m of c.text.matchAll(STRUCT_DEF)) {
      if (near(m[1]!)) {
        files.push(c);
        break;
      }
    }
    if (files.length >= 32) break;
  }
  if (!files.length) return [];
  const ex = await extractAll(files, o.jobs, o.cacheDir);
  return closeTypeMatches(buildWorkspaceIndex(ex.facts), type);
}

function editDistanceAtMost(a: string, b: string, k: number): boolean {
  if (Math.abs(a.length - b.length) > k) return false;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]! <= k;
}

/** Text of a 1-based line of an indexed file (op texts in traces); each file split once. */
export function sourceLineOf(texts: ReadonlyMap<string, string>): (file: string, line: number) => string | undefined {
  const lines = new Map<string, string[]>();
  return (file, line) => {
    let l = lines.get(file);
    if (!l) {
      const t = texts.get(file);
      if (t === undefined) return undefined;
      lines.set(file, (l = t.split('\n')));
    }
    return l[line - 1];
  };
}

export async function lifecycleCommand(argv: string[], io: CliIO): Promise<number> {
  const o = parseArgs(argv, io.cwd);
  if (o === 'help') {
    io.stdout(LIFECYCLE_USAGE + '\n');
    return 0;
  }
  const t0 = performance.now();
  const ix = await indexFor(o, io);
  const sourceLine = sourceLineOf(ix.texts);
  let lm: LifecycleModel;
  try {
    lm = extractLifecycle(ix.index, o.type, { sourceLine });
  } catch (e) {
    if (!(e instanceof UnknownTypeError)) throw e;
    if (e.closeMatches.length) throw new CliError(e.message);
    throw new CliError(new UnknownTypeError(e.type, await closeMatchesFromText(ix.all, e.type, o)).message);
  }
  let combos: string[][];
  if (o.roles.length) {
    combos = o.roles.map((given) => {
      const r = resolveRoleNames(lm, given);
      if (r.unknown.length) throw new CliError(`unknown role(s) ${r.unknown.join(', ')} (roles: ${lm.roles.map((x) => x.name).join(', ')})`);
      return r.roles;
    });
  } else {
    combos = rolePairs(lm);
    if (combos.length === 0 && lm.roles.length === 1) combos = [[lm.roles[0]!.name]];
  }
  const results = checkCombinations(lm, combos, { maxStates: o.maxStates });
  const stats = { files: ix.files, ms: Math.round(performance.now() - t0), cached: ix.cached };
  if (o.format === 'json') io.stdout(JSON.stringify(jsonReport(lm, results, stats), null, 2) + '\n');
  else io.stdout(textReport(lm, results, stats));
  return results.every((c) => c.verdict === 'safe') ? 0 : 1;
}

if (!isMainThread && isLifecycleWorkerInput(workerData)) void runLifecycleWorker();
