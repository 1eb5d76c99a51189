/**
 * The function facts of a workspace index, decoded on demand. An index is mostly
 * function facts (calls, arguments, variables: on the whole Linux tree some 680
 * MB of their JSON), and a worker that runs the refcount rules on its files
 * touches the definitions of only the names those files call. Hosts that hand
 * an index to other threads send the small tables as they are and the function
 * facts packed: each definition's facts as JSON text in one byte buffer (shared
 * memory, one copy for all threads), with the definitions of each file and of
 * each name. `LazyFunctions` answers `index.functions` lookups from that buffer,
 * parsing a definition the first time it is asked for.
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
import type { FunctionFact } from './facts';
import type { FunctionDef } from './workspace';
import { utf8ByteLength as utf8Length } from '../util/text';

export interface PackedFunctions {
  /** The index's files, in index order. */
  files: string[];
  /** UTF-8 JSON of each definition's FunctionFact, back to back (slot k is bytes[offsets[k], offsets[k + 1])). */
  bytes: Uint8Array;
  offsets: Uint32Array;
  /** File i's definitions are the slots fileStart[i] .. fileStart[i + 1] - 1, in text order. */
  fileStart: Uint32Array;
  /** Line of each slot's definition (its id is `file:line`, known without decoding it). */
  lines: Uint32Array;
  /** Name -> slots (ascending) of its definitions. */
  names: [string, number[]][];
}

/** Pack the function facts of `files` (index order), each file's definitions given in text order. */
export function packFunctions(files: readonly string[], defsOf: (file: string) => readonly FunctionFact[], alloc: (bytes: number) => Uint8Array): PackedFunctions {
  const json: string[] = [];
  const lines: number[] = [];
  const fileStart = new Uint32Array(files.length + 1);
  const names = new Map<string, number[]>();
  files.forEach((f, i) => {
    fileStart[i] = json.length;
    for (const fact of defsOf(f)) {
      const l = names.get(fact.name);
      if (!l) names.set(fact.name, [json.length]);
      else l.push(json.length);
      json.push(JSON.stringify(fact));
      lines.push(fact.line);
    }
  });
  fileStart[files.length] = json.length;
  // Sizes first, then each definition encoded straight into the buffer.
  const offsets = new Uint32Array(json.length + 1);
  let total = 0;
  json.forEach((j, k) => {
    offsets[k] = total;
    total += utf8Length(j);
    if (total > 0xffffffff) throw new Error('packFunctions: more than 4 GB of function facts');
  });
  offsets[json.length] = total;
  const bytes = alloc(total);
  const encoder = new TextEncoder();
  json.forEach((j, k) => {
    const r = encoder.encodeInto(j, bytes.subarray(offsets[k]!, offsets[k + 1]!));
    // (JSON.stringify output has no lone surrogates, so the counted length is the encoded one.)
    if (r.written !== offsets[k + 1]! - offsets[k]!) throw new Error(`packFunctions: encoded ${r.written} bytes, counted ${offsets[k + 1]! - offsets[k]!}`);
  });
  return { files: [...files], bytes, offsets, fileStart, lines: Uint32Array.from(lines), names: [...names] };
}

/**
 * `index.callers` for another thread: each caller id (`file:line`, the full path
 * spelled out again for every callee it calls) as its definition's slot in
 * `packed`, in the same order. On the whole Linux tree the map was half of the
 * shipped tables (114 of 220 MB) and every worker held its own copy of it as
 * strings; `CallerIds` reads it back.
 */
export function packCallers(callers: ReadonlyMap<string, ReadonlySet<string>>, packed: PackedFunctions): [string, number[]][] {
  const slotOf = new Map<string, number>();
  packed.files.forEach((f, i) => {
    for (let k = packed.fileStart[i]!; k < packed.fileStart[i + 1]!; k++) slotOf.set(`${f}:${packed.lines[k]}`, k); // the last of a line, as byId keeps
  });
  const out: [string, number[]][] = [];
  for (const [name, ids] of callers) {
    const slots: number[] = [];
    for (const id of ids) {
      const k = slotOf.get(id);
      if (k !== undefined) slots.push(k);
    }
    out.push([name, slots]);
  }
  return out;
}

/** The callers map read back from packCallers' slots (ids made on demand; same sets, same order). */
export class CallerIds implements ReadonlyMap<string, ReadonlySet<string>> {
  private readonly slots: Map<string, number[]>;
  private readonly memo = new Map<string, ReadonlySet<string>>();

  constructor(entries: [string, number[]][], private readonly functions: LazyFunctions) {
    this.slots = new Map(entries);
  }

  get(name: string): ReadonlySet<string> | undefined {
    const hit = this.memo.get(name);
    if (hit) return hit;
    const slots = this.slots.get(name);
    if (!slots) return undefined;
    const ids = new Set(slots.map((k) => this.functions.idOf(k)));
    this.memo.set(name, ids);
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
  private readonly names: Map<string, number[]>;
  private readonly fileIndex: Map<string, number>;
  /** Decoded definitions by slot (in use order when a budget is set: least recently used first). */
  private readonly decoded = new Map<number, FunctionDef>();
  private readonly memo = new Map<string, FunctionDef[]>();
  private readonly fileMemo = new Map<number, FunctionDef[]>();
  private full: Map<string, FunctionDef[]> | undefined;
  /** Packed bytes of the definitions decoded and kept now. */
  private keptBytes = 0;
  /** Definitions decoded again after an eviction (how often the budget bit). */
  redecoded = 0;
  private readonly everDecoded = new Set<number>();

  /**
   * `maxDecodedBytes` bounds what stays decoded (by packed JSON size): past it
   * the least recently used definitions are dropped and decoded again when asked
   * for. Definitions are identified by `id`, never by object, so a re-decoded
   * definition is the same definition.
   */
  constructor(private readonly packed: PackedFunctions, private readonly maxDecodedBytes = Infinity) {
    this.names = new Map(packed.names);
    this.fileIndex = new Map(packed.files.map((f, i) => [f, i]));
  }

  private sizeOf(k: number): number {
    return this.packed.offsets[k + 1]! - this.packed.offsets[k]!;
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
    return this.packed.offsets.length - 1;
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
    const path = this.packed.files[file ?? this.fileOf(k)]!;
    const fact = JSON.parse(this.decoder.decode(this.packed.bytes.subarray(this.packed.offsets[k], this.packed.offsets[k + 1]))) as FunctionFact;
    const def: FunctionDef = { id: `${path}:${fact.line}`, file: path, fact };
    this.decoded.set(k, def);
    this.keptBytes += size;
    return def;
  }

  get(name: string): FunctionDef[] | undefined {
    const hit = this.memo.get(name);
    if (hit) return hit;
    const slots = this.names.get(name);
    if (!slots) return undefined;
    const out = slots.map((k) => this.slot(k));
    this.memo.set(name, out);
    return out;
  }

  /**
   * resolveCallee (workspace.ts) for this map, decoding only what the choice
   * needs: the one definition, else the caller's file's, else the first in a
   * header, else the first non-static, else the first.
   */
  resolve(callerFile: string, name: string): FunctionDef | undefined {
    const slots = this.names.get(name);
    if (!slots || slots.length === 0) return undefined;
    if (slots.length === 1) return this.slot(slots[0]!);
    const fi = this.fileIndex.get(callerFile);
    if (fi !== undefined) {
      const lo = this.packed.fileStart[fi]!;
      const hi = this.packed.fileStart[fi + 1]!;
      const own = slots.find((k) => k >= lo && k < hi);
      if (own !== undefined) return this.slot(own, fi);
    }
    for (const k of slots) {
      const f = this.fileOf(k);
      if (this.packed.files[f]!.endsWith('.h')) return this.slot(k, f);
    }
    for (const k of slots) {
      const d = this.slot(k);
      if (!d.fact.static) return d;
    }
    return this.slot(slots[0]!);
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
    const colon = id.lastIndexOf(':');
    const defs = this.inFile(id.slice(0, colon));
    const line = Number(id.slice(colon + 1));
    for (let k = defs.length - 1; k >= 0; k--) if (defs[k]!.fact.line === line) return defs[k];
    return undefined;
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
