/**
 * The function facts of a workspace index, decoded on demand. An index is mostly
 * function facts (calls, arguments, variables: on drivers/gpu/drm 70 of its 100
 * MB), and a worker that runs the refcount rules on a few files touches the
 * definitions of only the names those files call. Hosts that hand an index to
 * other threads send the small tables as they are and the function facts packed:
 * each file's facts as JSON text in one byte buffer (shared memory, one copy for
 * all threads), with the files that define each name. `LazyFunctions` answers
 * `index.functions` lookups from that buffer, parsing a file's facts the first
 * time one of its definitions is asked for.
 *
 * Same answers as the map buildWorkspaceIndex makes: definitions of a name in
 * the order of the index's (sorted) files, and within a file in text order;
 * iterating the whole map decodes every file.
 */
import type { FileFacts } from './facts';
import type { FunctionDef } from './workspace';

export interface PackedFunctions {
  /** The index's files, in index order. */
  files: string[];
  /** UTF-8 JSON of each file's FileFacts, back to back (file i is bytes[offsets[i], offsets[i + 1])). */
  bytes: Uint8Array;
  offsets: number[];
  /** Name -> indices (ascending) of the files that define it. */
  names: [string, number[]][];
}

/** Pack the function facts of `files` (index order) given each file's facts JSON. */
export function packFunctions(files: readonly string[], jsonOf: (file: string) => string | undefined, definedNames: (file: string) => readonly string[], alloc: (bytes: number) => Uint8Array): PackedFunctions {
  const encoder = new TextEncoder();
  const encoded = files.map((f) => encoder.encode(jsonOf(f) ?? '{"functions":[]}'));
  const offsets = [0];
  for (const e of encoded) offsets.push(offsets[offsets.length - 1]! + e.length);
  const bytes = alloc(offsets[offsets.length - 1]!);
  encoded.forEach((e, i) => bytes.set(e, offsets[i]!));
  const names = new Map<string, number[]>();
  files.forEach((f, i) => {
    for (const n of definedNames(f)) {
      const l = names.get(n);
      if (!l) names.set(n, [i]);
      else if (l[l.length - 1] !== i) l.push(i);
    }
  });
  return { files: [...files], bytes, offsets, names: [...names] };
}

interface FileDefs {
  all: FunctionDef[];
  byName: Map<string, FunctionDef[]>;
}

export class LazyFunctions implements ReadonlyMap<string, FunctionDef[]> {
  private readonly decoder = new TextDecoder();
  private readonly names: Map<string, number[]>;
  private readonly fileIndex: Map<string, number>;
  private readonly decoded = new Map<number, FileDefs>();
  private readonly memo = new Map<string, FunctionDef[]>();
  private full: Map<string, FunctionDef[]> | undefined;
  /** Packed bytes of the files decoded and kept now. */
  private keptBytes = 0;
  /** Files decoded again after an eviction (how often the budget bit). */
  redecoded = 0;
  private readonly everDecoded = new Set<number>();

  /**
   * `maxDecodedBytes` bounds what stays decoded (by packed JSON size): past it
   * the least recently used files are dropped and decoded again when asked for,
   * so a worker that runs the rules over a whole tree does not end up holding
   * every function of it. Definitions are identified by `id`, never by object,
   * so a re-decoded definition is the same definition.
   */
  constructor(private readonly packed: PackedFunctions, private readonly maxDecodedBytes = Infinity) {
    this.names = new Map(packed.names);
    this.fileIndex = new Map(packed.files.map((f, i) => [f, i]));
  }

  private sizeOf(i: number): number {
    return this.packed.offsets[i + 1]! - this.packed.offsets[i]!;
  }

  /** Files whose facts have been decoded so far. */
  get decodedFiles(): number {
    return this.decoded.size;
  }

  private defsOf(i: number): FileDefs {
    let d = this.decoded.get(i);
    if (d) {
      if (this.maxDecodedBytes !== Infinity) {
        this.decoded.delete(i); // most recently used last
        this.decoded.set(i, d);
      }
      return d;
    }
    const size = this.sizeOf(i);
    if (this.keptBytes + size > this.maxDecodedBytes && this.decoded.size > 0 && !this.full) {
      for (const [j] of this.decoded) {
        if (this.keptBytes + size <= this.maxDecodedBytes / 2) break;
        this.decoded.delete(j);
        this.keptBytes -= this.sizeOf(j);
      }
      this.memo.clear(); // its lists may hold dropped files' definitions
    }
    if (this.everDecoded.has(i)) this.redecoded++;
    else this.everDecoded.add(i);
    const file = this.packed.files[i]!;
    let facts: Pick<FileFacts, 'functions'>;
    try {
      facts = JSON.parse(this.decoder.decode(this.packed.bytes.subarray(this.packed.offsets[i], this.packed.offsets[i + 1]))) as FileFacts;
    } catch {
      facts = { functions: [] };
    }
    const all = (facts.functions ?? []).map((fact): FunctionDef => ({ id: `${file}:${fact.line}`, file, fact }));
    const byName = new Map<string, FunctionDef[]>();
    for (const def of all) {
      const l = byName.get(def.fact.name);
      if (l) l.push(def);
      else byName.set(def.fact.name, [def]);
    }
    d = { all, byName };
    this.decoded.set(i, d);
    this.keptBytes += size;
    return d;
  }

  get(name: string): FunctionDef[] | undefined {
    const hit = this.memo.get(name);
    if (hit) return hit;
    const files = this.names.get(name);
    if (!files) return undefined;
    const out: FunctionDef[] = [];
    for (const i of files) out.push(...(this.defsOf(i).byName.get(name) ?? []));
    this.memo.set(name, out);
    return out;
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
    return i === undefined ? [] : this.defsOf(i).all;
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
        for (const d of this.defsOf(i).all) {
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
  keys(): MapIterator<string> {
    return this.all().keys();
  }
  values(): MapIterator<FunctionDef[]> {
    return this.all().values();
  }
  [Symbol.iterator](): MapIterator<[string, FunctionDef[]]> {
    return this.all().entries();
  }
}
