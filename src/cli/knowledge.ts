import { timed } from '../core/util/timing';
/**
 * Workspace knowledge for one analysed file: summaries of the functions defined in
 * the headers it includes (`<linux/x.h>` against the workspace's include dirs,
 * `"x.h"` against the including file's directory, followed transitively for
 * quoted includes). Summaries are computed lazily (a header is parsed the first
 * time the analysis asks for a name it may define), cached per header for the
 * life of the worker, and each file sees exactly the headers it includes, so results do not depend on
 * which worker analysed which file.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { Catalog } from '../core/catalog/index';
import type { CParser } from '../core/parse/parser';
import { summarizeFile, type FunctionSummary } from '../core/index/summaries';
import { archOf } from '../core/util/arch';

/** What an include line is (the reference definition; scanIncludes finds the same lines faster). */
export const INCLUDE_LINE = /^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\r\n]+)[>"]/gm;
/** The same at one line start (`lastIndex`). */
const INCLUDE_AT = /[ \t]*#[ \t]*include[ \t]*([<"])([^>"\r\n]+)[>"]/y;
const LINE_END = new Set(['\n', '\r', '\u2028', '\u2029']);
/** Generated register headers are huge and define no functions. */
const MAX_HEADER_BYTES = 1 << 20;
const MAX_DEPTH = 4;

export interface Include {
  angled: boolean;
  name: string;
}

/**
 * The `#include` lines of a file, as INCLUDE_LINE reads them: a line
 * starting with optional blanks, `#`, optional blanks, `include`, optional
 * blanks, then `<name>` or `"name"`. Found by searching for `include` and
 * checking the line around it (the multi-line pattern alone tries every line
 * start, which costs as much as a fifth of a parse on big files).
 */
export function scanIncludes(text: string): Include[] {
  const out: Include[] = [];
  for (let at = text.indexOf('include'); at >= 0; at = text.indexOf('include', at + 7)) {
    // back over blanks, `#`, blanks, to the line start
    let k = at - 1;
    while (k >= 0 && (text[k] === ' ' || text[k] === '\t')) k--;
    if (k < 0 || text[k] !== '#') continue;
    k--;
    while (k >= 0 && (text[k] === ' ' || text[k] === '\t')) k--;
    if (k >= 0 && !LINE_END.has(text[k]!)) continue;
    INCLUDE_AT.lastIndex = k + 1;
    const m = INCLUDE_AT.exec(text);
    if (m) out.push({ angled: m[1] === '<', name: m[2]!.trim() });
  }
  return out;
}

/**
 * A read-only map whose lookups are the subclass's own and whose iteration goes
 * through a Map built on first use (`build()`): the analysis looks names up,
 * and iterates rarely.
 */
abstract class DerivedMap<V> implements ReadonlyMap<string, V> {
  private built: Map<string, V> | undefined;
  abstract get(key: string): V | undefined;
  abstract has(key: string): boolean;
  protected abstract build(): Map<string, V>;
  private all(): Map<string, V> {
    return (this.built ??= this.build());
  }
  get size(): number {
    return this.all().size;
  }
  forEach(cb: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    this.all().forEach((v, k) => cb(v, k, this));
  }
  entries(): MapIterator<[string, V]> {
    return this.all().entries();
  }
  keys(): MapIterator<string> {
    return this.all().keys();
  }
  values(): MapIterator<V> {
    return this.all().values();
  }
  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.all().entries();
  }
}

/** A read-only view over several maps: the first map that has a name wins. */
export class LayeredMap<V> extends DerivedMap<V> {
  constructor(private readonly layers: readonly ReadonlyMap<string, V>[]) {
    super();
  }
  get(key: string): V | undefined {
    for (const l of this.layers) {
      const v = l.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }
  has(key: string): boolean {
    return this.layers.some((l) => l.has(key));
  }
  protected build(): Map<string, V> {
    const merged = new Map<string, V>();
    for (const l of this.layers) for (const [k, v] of l) if (!merged.has(k)) merged.set(k, v);
    return merged;
  }
}

/**
 * One header: the names it may define (a cheap scan of lines that start at column
 * 0 with something followed by `name(`, the kernel's style for definitions) and
 * its summaries, computed on first use of one of those names.
 */
class HeaderEntry {
  private summaries: ReadonlyMap<string, FunctionSummary> | undefined;
  constructor(
    readonly candidates: ReadonlySet<string>,
    readonly quoted: string[],
    private compute: (() => ReadonlyMap<string, FunctionSummary>) | undefined,
  ) {}
  get resolved(): boolean {
    return this.summaries !== undefined;
  }
  map(): ReadonlyMap<string, FunctionSummary> {
    if (!this.summaries) {
      this.summaries = this.compute?.() ?? EMPTY;
      this.compute = undefined;
    }
    return this.summaries;
  }
}

const EMPTY = new Map<string, FunctionSummary>();
const DEFINITION_START = /^(?![ \t#/*])[^\n;]*?\b([A-Za-z_]\w*)[ \t]*\(/gm;

const ANNOTATION = /__acquires|__releases|__must_hold|__cond_acquires|__cond_releases/;

/** Names a header may define: definitions (a `{` before the next `;`) and annotated prototypes. */
export function candidateNames(text: string): Set<string> {
  const out = new Set<string>();
  DEFINITION_START.lastIndex = 0;
  for (let m = DEFINITION_START.exec(text); m; m = DEFINITION_START.exec(text)) {
    const from = DEFINITION_START.lastIndex;
    const semi = text.indexOf(';', from);
    const brace = text.indexOf('{', from);
    const end = semi < 0 ? text.length : semi;
    if ((brace >= 0 && brace < end) || ANNOTATION.test(text.slice(from, end))) out.add(m[1]!);
  }
  // Copied out through JSON: a match is a slice of the text and would keep all of it alive
  // (a worker's 16k headers on the whole Linux tree, 110 MB of its heap).
  return out.size === 0 ? out : new Set(JSON.parse(JSON.stringify([...out])) as string[]);
}

/** Summaries of one header's functions, parsed only when the analysis asks for one of its names. */
class LazyHeaderMap implements ReadonlyMap<string, FunctionSummary> {
  constructor(private readonly entry: HeaderEntry) {}
  get(key: string): FunctionSummary | undefined {
    return this.entry.candidates.has(key) || this.entry.resolved ? this.entry.map().get(key) : undefined;
  }
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }
  get size(): number {
    return this.entry.map().size;
  }
  forEach(cb: (value: FunctionSummary, key: string, map: ReadonlyMap<string, FunctionSummary>) => void): void {
    this.entry.map().forEach((v, k) => cb(v, k, this));
  }
  entries(): MapIterator<[string, FunctionSummary]> {
    return this.entry.map().entries();
  }
  keys(): MapIterator<string> {
    return this.entry.map().keys();
  }
  values(): MapIterator<FunctionSummary> {
    return this.entry.map().values();
  }
  [Symbol.iterator](): MapIterator<[string, FunctionSummary]> {
    return this.entry.map().entries();
  }
}

/** The architecture whose tree (`arch/<a>/` below the root) an absolute path is in, or null. */
export function archOfFile(root: string, abs: string): string | null {
  const rel = relative(root, abs);
  return rel.startsWith('..') || isAbsolute(rel) ? null : archOf(rel.split(sep).join('/'));
}

/**
 * The cross-file summaries as a file in `arch` (null: outside every
 * architecture's tree) sees them: without the names another architecture's
 * tree defines, with the ones only its own tree resolves (CrossFilePlan).
 */
export function archKnowledge(global: ReadonlyMap<string, FunctionSummary>, archOfName: ReadonlyMap<string, string>, adds: ReadonlyMap<string, FunctionSummary> | undefined, arch: string | null): ReadonlyMap<string, FunctionSummary> {
  if (arch === null) return global;
  const own = new ArchView(global, archOfName, arch);
  return adds && adds.size ? new LayeredMap<FunctionSummary>([adds, own]) : own;
}

/** `global` without the names another architecture's tree defines. */
class ArchView extends DerivedMap<FunctionSummary> {
  constructor(private readonly global: ReadonlyMap<string, FunctionSummary>, private readonly archOfName: ReadonlyMap<string, string>, private readonly arch: string) {
    super();
  }
  get(key: string): FunctionSummary | undefined {
    const a = this.archOfName.get(key);
    return a !== undefined && a !== this.arch ? undefined : this.global.get(key);
  }
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }
  protected build(): Map<string, FunctionSummary> {
    const kept = new Map<string, FunctionSummary>();
    for (const [k, v] of this.global) if (this.get(k) !== undefined) kept.set(k, v);
    return kept;
  }
}

export class HeaderKnowledge {
  private readonly includeDirs: string[];
  private readonly exists = new Map<string, boolean>();
  private readonly headers = new Map<string, { entry: HeaderEntry; view: LazyHeaderMap } | null>();
  /** Number of headers summarised (parsed) by this worker. */
  summarized = 0;

  constructor(
    private readonly parser: CParser,
    private readonly catalog: Catalog,
    root: string,
    private readonly cwd: string,
  ) {
    this.root = root;
    this.includeDirs = this.dirsOf('x86');
  }

  private readonly root: string;
  private readonly archDirs = new Map<string, string[]>();

  private dirsOf(arch: string): string[] {
    return ['include', `arch/${arch}/include`, 'include/uapi', `arch/${arch}/include/uapi`, `arch/${arch}/include/generated`].map((d) => join(this.root, d));
  }

  /**
   * The include path for a file: a file in an architecture's tree (`arch/<a>/`)
   * is built for that architecture and finds `<asm/...>` in `arch/<a>/include`;
   * any other file as for x86.
   */
  private dirsFor(abs: string): string[] {
    const arch = archOfFile(this.root, abs);
    if (arch === null || arch === 'x86') return this.includeDirs;
    let dirs = this.archDirs.get(arch);
    if (!dirs) this.archDirs.set(arch, (dirs = this.dirsOf(arch)));
    return dirs;
  }

  /**
   * Forget every header summary and include lookup (a worker done with the lock
   * analysis, before the refcount pass: on the whole Linux tree they were 580 MB
   * of each worker's heap). Asking again afterwards parses the headers again.
   */
  release(): void {
    this.exists.clear();
    this.headers.clear();
  }

  private isFile(p: string): boolean {
    let v = this.exists.get(p);
    if (v === undefined) {
      try {
        v = statSync(p).isFile();
      } catch {
        v = false;
      }
      this.exists.set(p, v);
    }
    return v;
  }

  /** Where an include in a file (`from`: its absolute path) is found: beside it when quoted, else on the file's include path. */
  resolve(inc: Include, from: string): string | undefined {
    if (!inc.angled) {
      const local = join(dirname(from), inc.name);
      if (this.isFile(local)) return local;
    }
    for (const d of this.dirsFor(from)) {
      const p = join(d, inc.name);
      if (this.isFile(p)) return p;
    }
    return undefined;
  }

  /** Label used in traces that point into a header: relative to the cwd. */
  private label(abs: string): string {
    const rel = relative(this.cwd, abs);
    return (rel && !rel.startsWith('..') ? rel : abs).split(sep).join('/');
  }

  private header(abs: string): { entry: HeaderEntry; view: LazyHeaderMap } | null {
    const known = this.headers.get(abs);
    if (known !== undefined) return known;
    this.headers.set(abs, null); // include cycles terminate
    let text: string;
    try {
      if (statSync(abs).size > MAX_HEADER_BYTES) return null;
      text = readFileSync(abs, 'utf8');
    } catch {
      return null;
    }
    const quoted: string[] = [];
    for (const inc of scanIncludes(text)) {
      if (inc.angled) continue;
      const p = this.resolve(inc, abs);
      if (p) quoted.push(p);
    }
    const candidates = candidateNames(text);
    // The text is read again when a summary is first asked for, not kept: a worker's headers
    // (16k on the whole Linux tree) held as text were 180 MB of its heap through pass 1.
    const entry = new HeaderEntry(candidates, quoted, () => {
      if (candidates.size === 0) return EMPTY;
      const own = new Map<string, FunctionSummary>();
      try {
        const now = readFileSync(abs, 'utf8');
        this.summarized++;
        // Copied out through JSON: a name sliced from the text would keep all of it alive.
        for (const s of timed('summarizeHeader', () => summarizeFile(this.parser, now, this.label(abs), this.catalog))) if (!own.has(s.name)) own.set(s.name, JSON.parse(JSON.stringify(s)) as FunctionSummary);
      } catch {
        // A header gone, or one the summariser cannot handle, contributes no knowledge.
      }
      return own;
    });
    const h = { entry, view: new LazyHeaderMap(entry) };
    this.headers.set(abs, h);
    return h;
  }

  /** Label of a header in index facts and traces (relative to the cwd when below it). */
  labelOf(abs: string): string {
    return this.label(abs);
  }

  /** The headers a file includes (absolute; quoted ones only when `quotedOnly`), resolved as the analysis does. */
  includesOf(abs: string, text: string, quotedOnly = false): string[] {
    const out: string[] = [];
    for (const inc of scanIncludes(text)) {
      if (quotedOnly && inc.angled) continue;
      const p = this.resolve(inc, abs);
      if (p && !out.includes(p)) out.push(p);
    }
    return out;
  }

  /** Knowledge for a file with this text at this absolute path. */
  forFile(abs: string, text: string): ReadonlyMap<string, FunctionSummary> {
    const layers: ReadonlyMap<string, FunctionSummary>[] = [];
    const visited = new Set<string>([abs]);
    const visit = (p: string, depth: number) => {
      if (visited.has(p)) return;
      visited.add(p);
      const h = this.header(p);
      if (!h) return;
      if (h.entry.candidates.size) layers.push(h.view);
      if (depth < MAX_DEPTH) for (const q of h.entry.quoted) visit(q, depth + 1);
    };
    for (const inc of scanIncludes(text)) {
      const p = this.resolve(inc, abs);
      if (p) visit(p, 1);
    }
    return new LayeredMap(layers);
  }
}
