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
import { dirname, join, relative, sep } from 'node:path';
import type { Catalog } from '../core/catalog/index';
import type { CParser } from '../core/parse/parser';
import { summarizeFile, type FunctionSummary } from '../core/index/summaries';

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

/** A read-only view over several maps: the first map that has a name wins. */
export class LayeredMap<V> implements ReadonlyMap<string, V> {
  private merged: Map<string, V> | undefined;
  constructor(private readonly layers: readonly ReadonlyMap<string, V>[]) {}
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
  private all(): Map<string, V> {
    if (!this.merged) {
      this.merged = new Map();
      for (const l of this.layers) for (const [k, v] of l) if (!this.merged.has(k)) this.merged.set(k, v);
    }
    return this.merged;
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
    this.includeDirs = ['include', 'arch/x86/include', 'include/uapi', 'arch/x86/include/uapi', 'arch/x86/include/generated'].map((d) => join(root, d));
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

  resolve(inc: Include, fromDir: string): string | undefined {
    if (!inc.angled) {
      const local = join(fromDir, inc.name);
      if (this.isFile(local)) return local;
    }
    for (const d of this.includeDirs) {
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
    const dir = dirname(abs);
    const quoted: string[] = [];
    for (const inc of scanIncludes(text)) {
      if (inc.angled) continue;
      const p = this.resolve(inc, dir);
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
    const dir = dirname(abs);
    for (const inc of scanIncludes(text)) {
      if (quotedOnly && inc.angled) continue;
      const p = this.resolve(inc, dir);
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
    const dir = dirname(abs);
    for (const inc of scanIncludes(text)) {
      const p = this.resolve(inc, dir);
      if (p) visit(p, 1);
    }
    return new LayeredMap(layers);
  }
}
