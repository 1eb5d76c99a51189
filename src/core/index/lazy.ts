/**
 * The function facts of a workspace index, decoded on demand. An index is mostly
 * function facts (calls, arguments, variables: on the whole Linux tree 680k
 * definitions, 576 MB of their JSON and some 1.9 GB as objects), and a worker
 * that runs the refcount rules on its files touches the definitions of only
 * the names those files call. So the facts are packed: each definition's facts
 * as JSON text (shortened by packFactJson) in byte chunks (shared memory, one
 * copy for all threads), with the definitions of each file and of each name,
 * and what the index build
 * needs of each without decoding it (line, call count, flags).
 * `LazyFunctions` answers `index.functions` lookups from them, parsing a
 * definition when it is asked for (and keeping it, within a budget).
 *
 * The CLI packs the facts as the files arrive (`FunctionPacker`) and builds
 * the index over the packed form (`buildPackedIndex`), so no thread ever holds
 * every definition as an object. The small tables go to the workers as they
 * are; structs, globals and prototypes packed per entry (`packTable`,
 * `LazyTable`).
 *
 * Per definition, not per file: a worker asking for one callee decodes that
 * callee, not the hundred other functions of its file (on the whole tree a
 * worker asked for definitions in a third of the files and, decoding whole
 * files, held 2.7-3 GB of them).
 *
 * Same answers as the map buildWorkspaceIndex makes: definitions of a name in
 * the order of the index's (sorted) files, and within a file in text order;
 * iterating the whole map decodes every definition.
 */
import { archOf, linkable } from '../util/arch';
import type { FunctionFact } from './facts';
import type { FunctionDef } from './workspace';
import { utf8ByteLength as utf8Length } from '../util/text';

export interface PackedFunctions {
  /** The index's files, in index order. */
  files: string[];
  /** UTF-8 of the definitions' FunctionFacts as JSON packed by packFactJson, back to back in chunks (shared memory when shipped). */
  chunks: Uint8Array[];
  /** Slot k's JSON is chunks[chunk[k]].subarray(starts[k], starts[k] + lengths[k]). */
  chunk: Uint32Array;
  starts: Uint32Array;
  lengths: Uint32Array;
  /** File i's definitions are the slots fileStart[i] .. fileStart[i + 1] - 1, in text order. */
  fileStart: Uint32Array;
  /** Line of each slot's definition (its id is `file:line`, known without decoding it). */
  lines: Uint32Array;
  /** Calls made by each slot's definition (the index build orders its fixpoint by it, without decoding). */
  calls: Uint32Array;
  /** Per slot: SLOT_SUMMARIZABLE | SLOT_STATIC | SLOT_DAMAGED. */
  flags: Uint8Array;
  /** Each slot's definition spans [spanStart, spanEnd) of its file's text (refcountFocus reads them without decoding). */
  spanStart: Uint32Array;
  spanEnd: Uint32Array;
  /** Name -> slots (ascending) of its definitions. */
  names: PackedLists;
}

/**
 * A map from names to ascending lists of slots in three flat arrays: what a
 * worker gets without a structured clone of a JS array per name (on the whole
 * Linux tree 600k names of definitions and 400k callee names, each thread held
 * its own copy as arrays of arrays).
 */
export interface PackedLists {
  /** The names' UTF-8, each followed by a newline (names are C identifiers). */
  keys: Uint8Array;
  /** Name i's list is items[starts[i]] .. items[starts[i + 1] - 1]. */
  starts: Uint32Array;
  items: Uint32Array;
}

/** Pack name -> slots lists (`alloc`: where the bytes go, e.g. shared memory). */
export function packLists(lists: ReadonlyMap<string, readonly number[]>, alloc: (bytes: number) => Uint8Array = (n) => new Uint8Array(n)): PackedLists {
  let total = 0;
  for (const [name, l] of lists) {
    if (name.includes('\n')) throw new Error(`packLists: a name with a newline (${JSON.stringify(name)})`);
    total += l.length;
  }
  const keyText = new TextEncoder().encode([...lists.keys()].map((k) => `${k}\n`).join(''));
  const keys = alloc(keyText.length);
  keys.set(keyText);
  const u32 = (n: number): Uint32Array => {
    const bytes = alloc(4 * n);
    return new Uint32Array(bytes.buffer, bytes.byteOffset, n);
  };
  const starts = u32(lists.size + 1);
  const items = u32(total);
  let i = 0;
  let at = 0;
  for (const l of lists.values()) {
    starts[i++] = at;
    for (const k of l) items[at++] = k;
  }
  starts[i] = at;
  return { keys, starts, items };
}

/** The map a PackedLists holds, read in place (one string per name on this thread, the lists never copied). */
export class SlotLists {
  private readonly at = new Map<string, number>();

  constructor(private readonly packed: PackedLists) {
    const text = new TextDecoder().decode(packed.keys);
    let from = 0;
    for (let i = 0; i + 1 < packed.starts.length; i++) {
      const to = text.indexOf('\n', from);
      this.at.set(text.slice(from, to), i);
      from = to + 1;
    }
  }

  get(name: string): Uint32Array | undefined {
    const i = this.at.get(name);
    return i === undefined ? undefined : this.list(i);
  }

  private list(i: number): Uint32Array {
    return this.packed.items.subarray(this.packed.starts[i]!, this.packed.starts[i + 1]!);
  }

  has(name: string): boolean {
    return this.at.has(name);
  }

  get size(): number {
    return this.at.size;
  }

  keys(): MapIterator<string> {
    return this.at.keys();
  }

  *values(): Generator<Uint32Array> {
    for (const i of this.at.values()) yield this.list(i);
  }

  *entries(): Generator<[string, Uint32Array]> {
    for (const [name, i] of this.at) yield [name, this.list(i)];
  }

  /** The packed form (to ship it to another thread). */
  get packedLists(): PackedLists {
    return this.packed;
  }
}

/** The definition has parameters or returns a pointer (it can have a refcount summary). */
export const SLOT_SUMMARIZABLE = 1;
export const SLOT_STATIC = 2;
/** The definition has parse damage (FunctionFact.damaged). */
export const SLOT_DAMAGED = 4;

/** How a function's callers use its result (RefSummary.resultUse). */
export interface ResultUse {
  /** Calls of the name in the index. */
  calls: number;
  /** Those whose result is discarded (an expression statement, CallFact.ign). */
  ignored: number;
}

/** The bit of a packed callee item that marks a call whose result is discarded (the rest is the callee id). */
const IGNORED_CALL = 0x80000000;

/** What the index build reads of each slot without decoding it (FunctionPacker.slotView). */
export interface SlotView {
  /** The packer's `classify` flags of the slot's definition (non-zero: the build decodes it to scan it). */
  scan: Uint8Array;
  /** Slot k's callees are calleeNames[calls[callStart[k] .. callStart[k + 1] - 1]], in the order of its calls. */
  callStart: Uint32Array;
  calls: Uint32Array;
  calleeNames: readonly string[];
}

/** Where a definition is in its file, known without decoding its facts. */
export interface FunctionOutline {
  slot: number;
  name: string;
  span: [number, number];
  damaged: boolean;
}

/**
 * The packed facts' JSON, shorter: the 31 most frequent JSON fragments of
 * FunctionFacts (keys with their punctuation, measured over 10k definitions
 * of 400 kernel files) are each stored as one control character U+0001..U+001F,
 * which JSON.stringify never writes raw (it escapes them inside strings). On
 * that sample the packed bytes were 69% of the JSON (whole tree: 608 MB of
 * shared memory held from pass 1 to the end). Encoding is a left-to-right
 * substitution and decoding its inverse, so any string round-trips exactly,
 * whatever it contains. Longest fragments first: the alternation takes the
 * first that matches.
 */
const FACT_TOKENS: readonly string[] = [
  ',"params":[{"', ',"returns":["', ',"calls":[{"', ',"returns":[', ',"endLine":', ',"static":1', ',"stores":[', ',"vars":{"',
  ',"ret":{"', '{"name":"', ',"span":[', ',"cond":1', ',"line":', ',"ign":1', ',"col":', ',"a":["', ',{"c":"', ',{"n":"',
  ',"to":"', ',"h":["', ',"g":1', ',"t":"', ',"s":"', '{"t":"', ',"v":"', ',"l":', ',"p":', '"],"', '":{"', '}],"', '],"',
];
const FACT_ENCODE = new RegExp(FACT_TOKENS.map((t) => t.replace(/[[\]{}()*+?.\\^$|]/g, '\\$&')).join('|'), 'g');
const FACT_CODE = new Map(FACT_TOKENS.map((t, i) => [t, String.fromCharCode(i + 1)]));
const FACT_DECODE = /[\u0001-\u001f]/g;
const factToken = (c: string): string => FACT_TOKENS[c.charCodeAt(0) - 1]!;
/** How much longer the JSON is than its packed form, about (the decoded budget counts JSON bytes). */
const FACT_EXPANSION = 1.45;

/** JSON.stringify output -> its packed form (packFactJson / unpackFactJson round-trip any string without U+0001..U+001F). */
export function packFactJson(json: string): string {
  return json.replace(FACT_ENCODE, (m) => FACT_CODE.get(m)!);
}

export function unpackFactJson(packed: string): string {
  return packed.replace(FACT_DECODE, factToken);
}

/** Chunk size of the packed facts: big enough to be few, small enough that the last one's slack is nothing. */
const CHUNK_BYTES = 32 << 20;

/**
 * Packs function facts as files arrive, in any order, so that a host never
 * holds every file's function facts as objects (on the whole Linux tree 680k
 * definitions: 1.9 GB of objects against 576 MB packed). `finish` lays the
 * slots out in the index's file order; the bytes stay where they were written.
 */
export class FunctionPacker {
  private readonly chunks: Uint8Array[] = [];
  private used = 0;
  private readonly encoder = new TextEncoder();
  /** Records in arrival order. */
  private readonly rChunk: number[] = [];
  private readonly rStart: number[] = [];
  private readonly rLength: number[] = [];
  private readonly rLine: number[] = [];
  private readonly rSpan: number[] = [];
  private readonly rSpanEnd: number[] = [];
  private readonly rCalls: number[] = [];
  private readonly rFlags: number[] = [];
  private readonly rName: string[] = [];
  /** File -> its records. */
  private readonly byFile = new Map<string, number[]>();
  /** Calls of every definition added, and the definitions with parse damage (the index stats). */
  calls = 0;
  damaged = 0;

  /** Callee names, interned (the build's call graph), and each record's callees as ids, back to back. */
  private readonly calleeIds = new Map<string, number>();
  private readonly calleeNames: string[] = [];
  private callItems = new Uint32Array(1 << 16);
  private callUsed = 0;
  private readonly rCallStart: number[] = [];
  private readonly rScan: number[] = [];
  /** After finish(): the build's view of each slot without decoding it (null without `classify`). */
  slotView: SlotView | null = null;
  /** After finish() with `classify`: per callee id, its calls in the index, and those whose result is discarded. */
  private useCalls = new Uint32Array(0);
  private useIgnored = new Uint32Array(0);

  /**
   * `alloc`: where the packed bytes go (shared memory, to ship them to workers).
   * `classify`: flags of a definition the index build must decode to scan
   * (workspace.ts definitionScanFlags): with it the packer also keeps every
   * definition's callees, and the build decodes only the definitions it flags.
   */
  constructor(readonly alloc: (bytes: number) => Uint8Array, private readonly chunkBytes = CHUNK_BYTES, private readonly classify?: (d: FunctionFact) => number) {}

  private addCallees(d: FunctionFact): void {
    this.rCallStart.push(this.callUsed);
    this.rScan.push(this.classify!(d));
    if (this.callUsed + d.calls.length > this.callItems.length) {
      const grown = new Uint32Array(Math.max(this.callItems.length * 2, this.callUsed + d.calls.length));
      grown.set(this.callItems.subarray(0, this.callUsed));
      this.callItems = grown;
    }
    for (const c of d.calls) {
      let id = this.calleeIds.get(c.c);
      if (id === undefined) {
        id = this.calleeNames.length;
        this.calleeIds.set(c.c, id);
        this.calleeNames.push(c.c);
      }
      this.callItems[this.callUsed++] = c.ign ? (id | IGNORED_CALL) >>> 0 : id;
    }
  }

  /**
   * How the index's calls of `name` use its result (with `classify`, after
   * finish()): how many there are, and how many discard it (an expression
   * statement). Undefined when nothing calls `name`.
   */
  resultUse(name: string): ResultUse | undefined {
    const id = this.calleeIds.get(name);
    if (id === undefined || !this.useCalls[id]) return undefined;
    return { calls: this.useCalls[id]!, ignored: this.useIgnored[id]! };
  }

  /** The function facts of one file (a file added twice gets both sets). */
  add(file: string, defs: readonly FunctionFact[]): void {
    let records = this.byFile.get(file);
    if (!records) this.byFile.set(file, (records = []));
    if (defs.length === 0) return;
    const json = defs.map((d) => packFactJson(JSON.stringify(d)));
    const sizes = json.map((j) => utf8Length(j));
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total > 0xffffffff) throw new Error('FunctionPacker: more than 4 GB of function facts in one file');
    let cur = this.chunks[this.chunks.length - 1];
    if (!cur || this.used + total > cur.length) {
      cur = this.alloc(Math.max(this.chunkBytes, total));
      this.chunks.push(cur);
      this.used = 0;
    }
    const c = this.chunks.length - 1;
    defs.forEach((d, i) => {
      const r = this.encoder.encodeInto(json[i]!, cur.subarray(this.used, this.used + sizes[i]!));
      // (JSON.stringify output has no lone surrogates, so the counted length is the encoded one.)
      if (r.written !== sizes[i]) throw new Error(`FunctionPacker: encoded ${r.written} bytes, counted ${sizes[i]}`);
      records.push(this.rName.length);
      this.rChunk.push(c);
      this.rStart.push(this.used);
      this.rLength.push(sizes[i]!);
      this.rLine.push(d.line);
      this.rSpan.push(d.span?.[0] ?? d.line);
      this.rSpanEnd.push(d.span?.[1] ?? 0);
      this.rCalls.push(d.calls.length);
      this.rFlags.push((d.params.length > 0 || d.ret.p > 0 ? SLOT_SUMMARIZABLE : 0) | (d.static ? SLOT_STATIC : 0) | (d.damaged ? SLOT_DAMAGED : 0));
      this.rName.push(d.name);
      if (this.classify) this.addCallees(d);
      this.used += sizes[i]!;
      this.calls += d.calls.length;
      if (d.damaged) this.damaged++;
    });
  }

  /** The packed facts with `files` (the index's order) as the file list; files never added have no definitions. */
  finish(files: readonly string[]): PackedFunctions {
    const n = this.rName.length;
    const chunk = new Uint32Array(n);
    const starts = new Uint32Array(n);
    const lengths = new Uint32Array(n);
    const lines = new Uint32Array(n);
    const calls = new Uint32Array(n);
    const flags = new Uint8Array(n);
    const spanStart = new Uint32Array(n);
    const spanEnd = new Uint32Array(n);
    const view = this.classify ? { scan: new Uint8Array(n), callStart: new Uint32Array(n + 1), calls: new Uint32Array(this.callUsed), calleeNames: this.calleeNames } : null;
    let callAt = 0;
    // (counted over the definitions placed, so a file left out or added twice counts as the index has it)
    const useCalls = this.classify ? new Uint32Array(this.calleeNames.length) : new Uint32Array(0);
    const useIgnored = new Uint32Array(useCalls.length);
    const fileStart = new Uint32Array(files.length + 1);
    const names = new Map<string, number[]>();
    let k = 0;
    const placed = new Set<string>();
    files.forEach((f, i) => {
      fileStart[i] = k;
      if (placed.has(f)) return; // a file listed twice has its definitions at its first place
      placed.add(f);
      const records = this.byFile.get(f) ?? [];
      // Text order (a file added twice: its two sets merged).
      const order = records.length > 1 ? [...records].sort((a, b) => this.rSpan[a]! - this.rSpan[b]! || a - b) : records;
      for (const r of order) {
        chunk[k] = this.rChunk[r]!;
        starts[k] = this.rStart[r]!;
        lengths[k] = this.rLength[r]!;
        lines[k] = this.rLine[r]!;
        calls[k] = this.rCalls[r]!;
        flags[k] = this.rFlags[r]!;
        spanEnd[k] = this.rSpanEnd[r]!;
        spanStart[k] = spanEnd[k] ? this.rSpan[r]! : 0;
        if (view) {
          view.scan[k] = this.rScan[r]!;
          view.callStart[k] = callAt;
          const from = this.rCallStart[r]!;
          const to = from + this.rCalls[r]!;
          for (let j = from; j < to; j++) {
            const item = this.callItems[j]!;
            const id = item & ~IGNORED_CALL;
            useCalls[id]++;
            if (item & IGNORED_CALL) useIgnored[id]++;
            view.calls[callAt++] = id;
          }
        }
        const name = this.rName[r]!;
        const l = names.get(name);
        if (!l) names.set(name, [k]);
        else l.push(k);
        k++;
      }
    });
    fileStart[files.length] = k;
    const trimmed = k === n ? null : k; // records of files not in the list are left out
    const cut = <A extends Uint32Array | Uint8Array>(a: A): A => (trimmed === null ? a : (a.slice(0, trimmed) as A));
    if (view) {
      view.callStart[k] = callAt;
      this.slotView = { scan: cut(view.scan), callStart: view.callStart.slice(0, k + 1), calls: view.calls.slice(0, callAt), calleeNames: view.calleeNames };
      this.callItems = new Uint32Array(0); // copied into the view
      this.useCalls = useCalls;
      this.useIgnored = useIgnored;
    }
    return {
      files: [...files], chunks: [...this.chunks], chunk: cut(chunk), starts: cut(starts), lengths: cut(lengths), fileStart, lines: cut(lines), calls: cut(calls), flags: cut(flags),
      spanStart: cut(spanStart), spanEnd: cut(spanEnd), names: packLists(names, this.alloc),
    };
  }
}

/**
 * `index.callers` as slot lists: callee name -> the slots of the definitions
 * calling it, in the order buildWorkspaceIndex's id sets have. Each caller id
 * (`file:line`, the full path spelled out again for every callee it calls) is
 * made on demand: on the whole Linux tree the map as strings was half of the
 * shipped tables (114 of 220 MB), and every worker held its own copy.
 */
export class CallerIds implements ReadonlyMap<string, ReadonlySet<string>> {
  private readonly slots: SlotLists;
  private readonly memo: Map<string, ReadonlySet<string>> | null;

  /** `memo`: keep each id set made (a worker asks for the same names again and again; an index build asks for each a few times). */
  constructor(packed: PackedLists, private readonly functions: LazyFunctions, memo = true) {
    this.slots = new SlotLists(packed);
    this.memo = memo ? new Map() : null;
  }

  /** The slot lists as packed (to ship them to another thread). */
  get packedCallers(): PackedLists {
    return this.slots.packedLists;
  }

  /** The slots of the functions calling `name` (in the order of get's ids). */
  slotsOf(name: string): Uint32Array | undefined {
    return this.slots.get(name);
  }

  get(name: string): ReadonlySet<string> | undefined {
    const hit = this.memo?.get(name);
    if (hit) return hit;
    const slots = this.slots.get(name);
    if (!slots) return undefined;
    const ids = new Set(Array.from(slots, (k) => this.functions.idOf(k)));
    this.memo?.set(name, ids);
    return ids;
  }

  has(name: string): boolean {
    return this.slots.has(name);
  }

  get size(): number {
    return this.slots.size;
  }

  forEach(cb: (value: ReadonlySet<string>, key: string, map: ReadonlyMap<string, ReadonlySet<string>>) => void): void {
    for (const k of this.slots.keys()) cb(this.get(k)!, k, this);
  }
  *entries(): MapIterator<[string, ReadonlySet<string>]> {
    for (const k of this.slots.keys()) yield [k, this.get(k)!];
  }
  keys(): MapIterator<string> {
    return this.slots.keys();
  }
  *values(): MapIterator<ReadonlySet<string>> {
    for (const k of this.slots.keys()) yield this.get(k)!;
  }
  [Symbol.iterator](): MapIterator<[string, ReadonlySet<string>]> {
    return this.entries();
  }
}

export class LazyFunctions implements ReadonlyMap<string, FunctionDef[]> {
  private readonly decoder = new TextDecoder();
  private readonly names: SlotLists;
  private readonly fileIndex: Map<string, number>;
  /** Decoded definitions by slot (in use order when a budget is set: least recently used first). */
  private readonly decoded = new Map<number, FunctionDef>();
  private readonly memo = new Map<string, FunctionDef[]>();
  private readonly fileMemo = new Map<number, FunctionDef[]>();
  private full: Map<string, FunctionDef[]> | undefined;
  /** JSON bytes (sizeOf) of the definitions decoded and kept now. */
  private keptBytes = 0;
  /** Definitions decoded again after an eviction (how often the budget bit). */
  redecoded = 0;
  private readonly everDecoded = new Set<number>();

  /**
   * `maxDecodedBytes` bounds what stays decoded (by JSON size, sizeOf): past it
   * the least recently used definitions are dropped and decoded again when asked
   * for. Definitions are identified by `id`, never by object, so a re-decoded
   * definition is the same definition.
   */
  constructor(private readonly packed: PackedFunctions, private readonly maxDecodedBytes = Infinity) {
    this.names = new SlotLists(packed.names);
    this.fileIndex = new Map();
    packed.files.forEach((f, i) => {
      if (!this.fileIndex.has(f)) this.fileIndex.set(f, i); // a file listed twice has its definitions at its first place
    });
  }

  /** Slot k's JSON size (about: its packed size times FACT_EXPANSION), what the budget counts. */
  private sizeOf(k: number): number {
    return Math.round(this.packed.lengths[k]! * FACT_EXPANSION);
  }

  /** Definitions decoded so far (distinct). */
  get decodedFunctions(): number {
    return this.everDecoded.size;
  }

  /** The id (`file:line`) of slot k's definition, without decoding it. */
  idOf(k: number): string {
    return `${this.packed.files[this.fileOf(k)]}:${this.packed.lines[k]}`;
  }

  /** Definitions in the index. */
  get definitions(): number {
    return this.packed.lines.length;
  }

  /** The file of slot k (binary search over fileStart). */
  private fileOf(k: number): number {
    const fs = this.packed.fileStart;
    let lo = 0;
    let hi = this.packed.files.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fs[mid]! <= k) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Slot k's definition parsed from its JSON (not kept). */
  private decode(k: number, file?: number): FunctionDef {
    const p = this.packed;
    const path = p.files[file ?? this.fileOf(k)]!;
    const start = p.starts[k]!;
    const fact = JSON.parse(unpackFactJson(this.decoder.decode(p.chunks[p.chunk[k]!]!.subarray(start, start + p.lengths[k]!)))) as FunctionFact;
    return { id: `${path}:${fact.line}`, file: path, fact };
  }

  /**
   * Every definition once, in the order of iterating the full map (by name in
   * index order, each name's definitions in file order), without keeping what
   * it decodes: a whole-index scan in the memory of one definition.
   */
  each(cb: (d: FunctionDef, slot: number) => void): void {
    for (const slots of this.names.values()) {
      for (const k of slots) {
        const kept = this.decoded.get(k);
        if (kept) {
          cb(kept, k);
          continue;
        }
        if (!this.everDecoded.has(k)) this.everDecoded.add(k);
        else this.redecoded++;
        const d = this.decode(k);
        // Kept while that evicts nothing: an index that fits the budget is decoded once for all scans.
        if (this.keptBytes + this.sizeOf(k) <= this.maxDecodedBytes) {
          this.decoded.set(k, d);
          this.keptBytes += this.sizeOf(k);
        }
        cb(d, k);
      }
    }
  }

  /** Drop every decoded definition (they are decoded again when asked for): a host done with the index on this thread. */
  dropDecoded(): void {
    this.decoded.clear();
    this.memo.clear();
    this.fileMemo.clear();
    this.full = undefined;
    this.keptBytes = 0;
  }

  /** Every slot, in the order of `each`, without decoding. */
  eachSlot(cb: (slot: number) => void): void {
    for (const slots of this.names.values()) for (const k of slots) cb(k);
  }

  /** Slot -> the name of its definition (built on first use from the name lists). */
  private slotNames: string[] | undefined;

  /** The definitions of a file in text order, with their names, spans and damage, without decoding them. */
  outlinesInFile(file: string): FunctionOutline[] {
    const i = this.fileIndex.get(file);
    if (i === undefined) return [];
    if (!this.slotNames) {
      const names = new Array<string>(this.definitions);
      for (const [name, slots] of this.names.entries()) for (const k of slots) names[k] = name;
      this.slotNames = names;
    }
    const p = this.packed;
    const out: FunctionOutline[] = [];
    for (let k = p.fileStart[i]!; k < p.fileStart[i + 1]!; k++) {
      out.push({ slot: k, name: this.slotNames[k]!, span: [p.spanStart[k]!, p.spanEnd[k]!], damaged: (p.flags[k]! & SLOT_DAMAGED) !== 0 });
    }
    return out;
  }

  /** Calls made by slot k's definition, without decoding it. */
  callsAt(k: number): number {
    return this.packed.calls[k]!;
  }

  /** Slot k's SLOT_* flags, without decoding it. */
  flagsAt(k: number): number {
    return this.packed.flags[k]!;
  }

  /** Slot k's definition (decoded and kept, within the budget). */
  at(k: number): FunctionDef {
    return this.slot(k);
  }

  /** The facts as packed (to ship them to another thread). */
  get packedFacts(): PackedFunctions {
    return this.packed;
  }

  /** The slot of the definition with this id (the last one when two share a line), without decoding. */
  slotOfId(id: string): number | undefined {
    const colon = id.lastIndexOf(':');
    const i = this.fileIndex.get(id.slice(0, colon));
    if (i === undefined) return undefined;
    const line = Number(id.slice(colon + 1));
    for (let k = this.packed.fileStart[i + 1]! - 1; k >= this.packed.fileStart[i]!; k--) if (this.packed.lines[k] === line) return k;
    return undefined;
  }

  private slot(k: number, file?: number): FunctionDef {
    const d = this.decoded.get(k);
    if (d) {
      if (this.maxDecodedBytes !== Infinity) {
        this.decoded.delete(k); // most recently used last
        this.decoded.set(k, d);
      }
      return d;
    }
    const size = this.sizeOf(k);
    if (this.keptBytes + size > this.maxDecodedBytes && this.decoded.size > 0 && !this.full) {
      for (const [j] of this.decoded) {
        if (this.keptBytes + size <= this.maxDecodedBytes / 2) break;
        this.decoded.delete(j);
        this.keptBytes -= this.sizeOf(j);
      }
      this.memo.clear(); // its lists may hold dropped definitions
      this.fileMemo.clear();
    }
    if (this.everDecoded.has(k)) this.redecoded++;
    else this.everDecoded.add(k);
    const def = this.decode(k, file);
    this.decoded.set(k, def);
    this.keptBytes += size;
    return def;
  }

  get(name: string): FunctionDef[] | undefined {
    const hit = this.memo.get(name);
    if (hit) return hit;
    const slots = this.names.get(name);
    if (!slots) return undefined;
    const out = Array.from(slots, (k) => this.slot(k));
    this.memo.set(name, out);
    return out;
  }

  /**
   * resolveCallee (workspace.ts) for this map, decoding only what the choice
   * needs: the one definition, else the caller's file's, else the first in a
   * header, else the first non-static, else the first.
   */
  resolve(callerFile: string, name: string): FunctionDef | undefined {
    const k = this.resolveSlot(callerFile, name);
    return k === undefined ? undefined : this.slot(k);
  }

  /** The slot resolve() answers with, decoding nothing (staticness is in the slot flags). */
  resolveSlot(callerFile: string, name: string): number | undefined {
    const all = this.names.get(name);
    if (!all || all.length === 0) return undefined;
    // (never into another architecture's tree)
    const slots = archOf(callerFile) === null ? all : Array.from(all).filter((k) => linkable(callerFile, this.packed.files[this.fileOf(k)]!));
    if (slots.length === 0) return undefined;
    if (slots.length === 1) return slots[0]!;
    const fi = this.fileIndex.get(callerFile);
    if (fi !== undefined) {
      const lo = this.packed.fileStart[fi]!;
      const hi = this.packed.fileStart[fi + 1]!;
      const own = slots.find((k) => k >= lo && k < hi);
      if (own !== undefined) return own;
    }
    for (const k of slots) if (this.packed.files[this.fileOf(k)]!.endsWith('.h')) return k;
    for (const k of slots) if ((this.packed.flags[k]! & SLOT_STATIC) === 0) return k;
    return slots[0]!;
  }

  /** The first definition of a name (in index order), decoding that one only. */
  first(name: string): FunctionDef | undefined {
    const k = this.names.get(name)?.[0];
    return k === undefined ? undefined : this.slot(k);
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  get size(): number {
    return this.names.size;
  }

  /** The definitions in one file, in text order. */
  inFile(file: string): readonly FunctionDef[] {
    const i = this.fileIndex.get(file);
    if (i === undefined) return [];
    const hit = this.fileMemo.get(i);
    if (hit) return hit;
    const out: FunctionDef[] = [];
    for (let k = this.packed.fileStart[i]!; k < this.packed.fileStart[i + 1]!; k++) out.push(this.slot(k, i));
    this.fileMemo.set(i, out);
    return out;
  }

  /** The definition with this id (`file:line`; the last one when two share a line, as a map built over all would keep). */
  byId(id: string): FunctionDef | undefined {
    const k = this.slotOfId(id);
    return k === undefined ? undefined : this.slot(k);
  }

  private all(): Map<string, FunctionDef[]> {
    if (!this.full) {
      const m = new Map<string, FunctionDef[]>();
      this.packed.files.forEach((_, i) => {
        for (let k = this.packed.fileStart[i]!; k < this.packed.fileStart[i + 1]!; k++) {
          const d = this.slot(k, i);
          const l = m.get(d.fact.name);
          if (l) l.push(d);
          else m.set(d.fact.name, [d]);
        }
      });
      this.full = m;
    }
    return this.full;
  }

  forEach(cb: (value: FunctionDef[], key: string, map: ReadonlyMap<string, FunctionDef[]>) => void): void {
    this.all().forEach((v, k) => cb(v, k, this));
  }
  entries(): MapIterator<[string, FunctionDef[]]> {
    return this.all().entries();
  }
  /** The names in the order of the full map (first definition in file order), without decoding anything. */
  keys(): MapIterator<string> {
    return this.names.keys();
  }
  values(): MapIterator<FunctionDef[]> {
    return this.all().values();
  }
  [Symbol.iterator](): MapIterator<[string, FunctionDef[]]> {
    return this.all().entries();
  }
}

/**
 * A table of the index (structs, globals, prototypes: on the whole Linux tree
 * 91 MB of them serialised, some 380 MB of objects in every worker that read
 * them whole) packed for another thread: the keys as they are, each value's
 * JSON in chunks of shared memory. A worker's rules ask for the types and
 * globals of the code they walk, a fraction of the table.
 */
export interface PackedTable {
  keys: string[];
  /** Value i's JSON is bytes.subarray(starts[i], starts[i] + lengths[i]). */
  bytes: Uint8Array;
  starts: Uint32Array;
  lengths: Uint32Array;
}

/**
 * Pack a table of JSON-able values, in its iteration order, into one buffer of
 * its size. Each value is written as JSON twice, once to count its bytes and
 * once to encode it, so no more than one value's text is alive at a time (all
 * of them at once were 0.3 GB on the whole Linux tree, beside the facts).
 */
export function packTable<V>(table: ReadonlyMap<string, V>, alloc: (bytes: number) => Uint8Array): PackedTable {
  const keys: string[] = [];
  const n = table.size;
  const starts = new Uint32Array(n);
  const lengths = new Uint32Array(n);
  let total = 0;
  let i = 0;
  for (const [k, v] of table) {
    keys.push(k);
    starts[i] = total;
    lengths[i] = utf8Length(JSON.stringify(v));
    total += lengths[i++]!;
    if (total > 0xffffffff) throw new Error('packTable: more than 4 GB');
  }
  const bytes = alloc(total);
  const encoder = new TextEncoder();
  i = 0;
  for (const v of table.values()) {
    const r = encoder.encodeInto(JSON.stringify(v), bytes.subarray(starts[i]!, starts[i]! + lengths[i]!));
    if (r.written !== lengths[i]) throw new Error(`packTable: encoded ${r.written} bytes, counted ${lengths[i]}`);
    i++;
  }
  return { keys, bytes, starts, lengths };
}

/** A packTable read back: `get` and `has` decode only the value asked for (and keep it); iterating decodes all. */
export class LazyTable<V> implements ReadonlyMap<string, V> {
  private readonly decoder = new TextDecoder();
  private readonly at: Map<string, number>;
  private readonly decoded = new Map<number, V>();

  /**
   * `keep`: how many decoded values to keep, the most recently used (a worker
   * reads a few entries again and again and keeps them all; the index build
   * scans all of them and keeps a few thousand).
   */
  constructor(private readonly packed: PackedTable, private readonly keep = Infinity) {
    this.at = new Map(packed.keys.map((k, i) => [k, i]));
  }

  /** The table as packed (to ship it to another thread). */
  get packedTable(): PackedTable {
    return this.packed;
  }

  /** Values decoded so far. */
  get decodedValues(): number {
    return this.decoded.size;
  }

  private value(i: number): V {
    let v = this.decoded.get(i);
    if (v !== undefined) {
      if (this.keep !== Infinity) {
        this.decoded.delete(i); // most recently used last
        this.decoded.set(i, v);
      }
      return v;
    }
    const p = this.packed;
    v = JSON.parse(this.decoder.decode(p.bytes.subarray(p.starts[i]!, p.starts[i]! + p.lengths[i]!))) as V;
    if (this.keep > 0) {
      if (this.decoded.size >= this.keep) this.decoded.delete(this.decoded.keys().next().value!);
      this.decoded.set(i, v);
    }
    return v;
  }

  get(key: string): V | undefined {
    const i = this.at.get(key);
    return i === undefined ? undefined : this.value(i);
  }

  has(key: string): boolean {
    return this.at.has(key);
  }

  get size(): number {
    return this.packed.keys.length;
  }

  forEach(cb: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [k, i] of this.at) cb(this.value(i), k, this);
  }
  *entries(): MapIterator<[string, V]> {
    for (const [k, i] of this.at) yield [k, this.value(i)];
  }
  keys(): MapIterator<string> {
    return this.at.keys();
  }
  *values(): MapIterator<V> {
    for (const i of this.at.values()) yield this.value(i);
  }
  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }
}
