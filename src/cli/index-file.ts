/**
 * The workspace index as an artifact (`refscope index --out FILE`, `refscope
 * check --index FILE`): everything one run learned, so the next run skips the
 * files whose content did not change.
 *
 * Layout: one file, blobs first, then a JSON manifest, then a fixed-size
 * trailer that says where the manifest starts:
 *
 *     <blob><blob>...<manifest JSON>\n<TRAILER: "refscope-index <format> <offset> <length>", space-padded to 64 bytes>
 *
 * so a reader opens the file, reads the trailer and the manifest, and reads
 * only the blobs it needs (positional reads): a warm run with nothing changed
 * reads the per-file results and never the facts. A blob is JSON text (UTF-8);
 * the manifest holds `[offset, length]` pairs. The writer streams blobs into a
 * temporary file beside FILE and renames it into place at the end, so a crash
 * or an error never leaves a half-written index, and a reader never sees one.
 *
 * What is valid when (checked by check.ts, see `IndexManifest`):
 *  - a file's facts: same label and content hash;
 *  - its pass-1 outcome (lock analysis with header knowledge, cross-file offer,
 *    lock-order edges): also the same hashes for every header its analysis can
 *    read: no file or header that its recorded includes reach, transitively,
 *    has changed (`affectedByChanges`);
 *  - the pass-2 results of every file (lock re-analysis with cross-file
 *    summaries, refcount rules with the workspace index): only when the
 *    fingerprint over all files and headers is the same.
 * Any other difference (tool or facts version, catalog, format) makes the whole
 * index stale: the run goes cold and writes a new one.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FACTS_VERSION } from '../core/index/index';
import { TOOL_BUILD } from './version';

export const INDEX_FORMAT = 2;
const TRAILER_BYTES = 64;
const TRAILER = /^refscope-index (\d+) (\d+) (\d+) *\n$/;

/** [offset, length] of a blob. */
export type BlobRef = [number, number];

export interface IndexedFile {
  /** The label reports use (the PATH as given joined with the path below it). */
  display: string;
  /** sha256 of the file's bytes. */
  hash: string;
  /** Absolute paths of the headers it includes, as resolved by the analysis. */
  includes: string[];
  /** JSON of the pass-1 FileOutcome (with its cross-file offer). */
  pass1: BlobRef;
  /** JSON of the file's FileFacts, or null (directive-only or not extractable). */
  facts: BlobRef | null;
}

export interface IndexedHeader {
  hash: string;
  /** Quoted includes (absolute), as the headers phase resolves them. */
  includes: string[];
  facts: BlobRef | null;
}

export interface IndexManifest {
  format: number;
  tool: string;
  factsVersion: number;
  /** sha256 of the catalog (built-ins and .refscope.json) the run used. */
  catalog: string;
  /** Absolute workspace root and cwd of the run that wrote it (labels are relative to the cwd). */
  root: string;
  cwd: string;
  /** PATH files by absolute path. */
  files: Record<string, IndexedFile>;
  /** Headers outside the PATHs by absolute path. */
  headers: Record<string, IndexedHeader>;
  /** Pass-2 results, valid for this fingerprint only (absent when the writing run was sharded). */
  pass2?: {
    fingerprint: string;
    crossFile: { summaries: number; ambiguous: number; reanalysed: number; pass2Ms: number };
    /** IndexSummary of the run (index statistics, learned wrappers). */
    summary: unknown;
    /** JSON of the file's final results (`StoredFinal`) by absolute path. */
    results: Record<string, BlobRef>;
  };
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Identity of a run's analysis configuration: an index made under another one is stale. */
export function configIdentity(catalogJson: string): Pick<IndexManifest, 'format' | 'tool' | 'factsVersion' | 'catalog'> {
  return { format: INDEX_FORMAT, tool: TOOL_BUILD, factsVersion: FACTS_VERSION, catalog: sha256(catalogJson) };
}

/** Why an index file cannot be used, for the run's log line. */
export class IndexUnusable extends Error {}

/** An index opened for reading: the manifest, and blobs on demand. Close it when done. */
export class IndexReader {
  private closed = false;

  private constructor(private readonly fd: number, readonly manifest: IndexManifest, readonly path: string, readonly bytes: number) {}

  /** Opens FILE; throws IndexUnusable with the reason when it is not a readable index. */
  static open(path: string): IndexReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new IndexUnusable(`cannot open ${path}: ${(e as Error).message}`);
    }
    try {
      const size = fstatSync(fd).size;
      if (size < TRAILER_BYTES) throw new IndexUnusable(`${path} is not a Refscope index (too short)`);
      const trailer = readAt(fd, size - TRAILER_BYTES, TRAILER_BYTES).toString('latin1');
      const m = TRAILER.exec(trailer);
      if (!m) throw new IndexUnusable(`${path} is not a Refscope index (no trailer)`);
      const [format, off, len] = [Number(m[1]), Number(m[2]), Number(m[3])];
      if (format !== INDEX_FORMAT) throw new IndexUnusable(`${path} has index format ${format}, this Refscope reads ${INDEX_FORMAT}`);
      if (off + len > size - TRAILER_BYTES) throw new IndexUnusable(`${path} is truncated`);
      let manifest: IndexManifest;
      try {
        manifest = JSON.parse(readAt(fd, off, len).toString('utf8')) as IndexManifest;
      } catch {
        throw new IndexUnusable(`${path} has a corrupt manifest`);
      }
      if (typeof manifest !== 'object' || manifest === null || typeof manifest.files !== 'object' || typeof manifest.headers !== 'object') {
        throw new IndexUnusable(`${path} has a corrupt manifest`);
      }
      return new IndexReader(fd, manifest, path, size);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** The blob's bytes (a copy). */
  raw(ref: BlobRef): Buffer {
    if (this.closed) throw new Error('index reader is closed');
    const [off, len] = ref;
    if (!(off >= 0 && len >= 0 && off + len <= this.bytes - TRAILER_BYTES)) throw new IndexUnusable(`${this.path}: blob out of range`);
    return readAt(this.fd, off, len);
  }

  text(ref: BlobRef): string {
    return this.raw(ref).toString('utf8');
  }

  json<T>(ref: BlobRef): T {
    try {
      return JSON.parse(this.text(ref)) as T;
    } catch (e) {
      if (e instanceof IndexUnusable) throw e;
      throw new IndexUnusable(`${this.path}: corrupt blob at ${ref[0]}`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

function readAt(fd: number, off: number, len: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, off + got);
    if (n === 0) throw new IndexUnusable('unexpected end of the index file');
    got += n;
  }
  return buf;
}

let tmpCounter = 0;

/** Streams blobs into a temporary file beside the target; `commit` writes the manifest and renames it into place. */
export class IndexWriter {
  private readonly fd: number;
  private readonly tmp: string;
  private at = 0;
  private done = false;

  constructor(readonly path: string) {
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${tmpCounter++}.tmp`);
    try {
      this.fd = openSync(this.tmp, 'w');
    } catch (e) {
      throw new Error(`cannot write the index ${path}: ${(e as Error).message}`);
    }
  }

  /** Appends a blob (a string is written as UTF-8). */
  blob(data: string | Uint8Array): BlobRef {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const off = this.at;
    let put = 0;
    while (put < buf.length) put += writeSync(this.fd, buf, put, buf.length - put, off + put);
    this.at += buf.length;
    return [off, buf.length];
  }

  /** Writes the manifest and the trailer and renames the file into place. */
  commit(manifest: IndexManifest): number {
    const [off, len] = this.blob(JSON.stringify(manifest));
    this.blob('\n');
    const trailer = `refscope-index ${INDEX_FORMAT} ${off} ${len}`;
    this.blob(trailer.padEnd(TRAILER_BYTES - 1, ' ') + '\n');
    closeSync(this.fd);
    this.done = true;
    try {
      renameSync(this.tmp, this.path);
    } catch (e) {
      this.abort();
      throw new Error(`cannot write the index ${this.path}: ${(e as Error).message}`);
    }
    return this.at;
  }

  /** Drops the temporary file (after an error). */
  abort(): void {
    if (!this.done) {
      this.done = true;
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      // renamed or never written
    }
  }
}

/**
 * The recorded files and headers whose pass-1 results a change can reach: every
 * node (absolute path) from which a changed one is reachable over the recorded
 * includes (every kind: a superset of what the header knowledge follows, so a
 * change there is never missed). A node is changed when `changed(abs)` says so,
 * and an include target the index does not record counts as changed. One
 * breadth-first walk over the reversed include graph: O(files + includes).
 */
export function affectedByChanges(includesOf: ReadonlyMap<string, readonly string[]>, changed: (abs: string) => boolean): Set<string> {
  const users = new Map<string, string[]>();
  const start: string[] = [];
  for (const [abs, incs] of includesOf) {
    if (changed(abs)) start.push(abs);
    for (const h of incs) {
      let l = users.get(h);
      if (!l) users.set(h, (l = []));
      l.push(abs);
      if (!includesOf.has(h)) start.push(h);
    }
  }
  const out = new Set<string>();
  const queue = [...new Set(start)];
  for (const q of queue) out.add(q);
  for (let k = 0; k < queue.length; k++) {
    for (const u of users.get(queue[k]!) ?? []) {
      if (out.has(u)) continue;
      out.add(u);
      queue.push(u);
    }
  }
  return out;
}

/** Which of N shards a file belongs to (1-based K): by its label, so it is the same on every runner. */
export function shardOf(display: string, n: number): number {
  let h = 2166136261;
  for (let i = 0; i < display.length; i++) {
    h ^= display.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return (h % n) + 1;
}
