/**
 * Node host of the index's facts cache: one JSON file per source content under
 * a cache directory (default `<root>/.refscope-cache`, or
 * `$XDG_CACHE_HOME/refscope` when no root is given), named by
 * sha256(FACTS_VERSION + path + text). Entries are written to a temporary file
 * and renamed into place (atomic on POSIX), so a crash never leaves a partial
 * entry; an unreadable, truncated or foreign entry is ignored (and rewritten by
 * the next store). Nothing here throws on cache trouble: the cache is an
 * optimisation only.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { FACTS_VERSION, type FactsCache, type FileFacts } from '../core/index/index';

export function defaultCacheDir(root?: string): string {
  if (root) return join(root, '.refscope-cache');
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg && xdg.length ? xdg : join(homedir(), '.cache'), 'refscope');
}

export interface CacheCounters {
  hits: number;
  misses: number;
  /** Entries present but unreadable (corrupt, truncated, other version): ignored and rebuilt. */
  corrupt: number;
  writes: number;
  writeErrors: number;
}

let tmpCounter = 0;

export class NodeFactsCache implements FactsCache {
  readonly counters: CacheCounters = { hits: 0, misses: 0, corrupt: 0, writes: 0, writeErrors: 0 };
  private readonly made = new Set<string>();

  constructor(readonly dir: string) {}

  /** Content key: sha256 over the analyser version, the file label and the text. */
  keyOf(file: string, text: string): string {
    return createHash('sha256').update(`refscope-facts-v${FACTS_VERSION}\0${file}\0`).update(text).digest('hex');
  }

  pathOf(file: string, text: string): string {
    const k = this.keyOf(file, text);
    return join(this.dir, k.slice(0, 2), `${k.slice(2)}.json`);
  }

  load(file: string, text: string): FileFacts | undefined {
    return this.loadWithJson(file, text)?.facts;
  }

  /** Cached facts with the JSON text they were read from (hosts that send facts on as text reuse it). */
  loadWithJson(file: string, text: string): { facts: FileFacts; json: string } | undefined {
    const p = this.pathOf(file, text);
    let raw: string;
    try {
      raw = readFileSync(p, 'utf8');
    } catch {
      this.counters.misses++;
      return undefined;
    }
    try {
      const v = JSON.parse(raw) as unknown;
      if (isFacts(v) && v.version === FACTS_VERSION && v.file === file) {
        this.counters.hits++;
        return { facts: v, json: raw };
      }
    } catch {
      // fall through: corrupt entry
    }
    this.counters.corrupt++;
    this.counters.misses++;
    return undefined;
  }

  store(file: string, text: string, facts: FileFacts): void {
    this.storeJson(file, text, JSON.stringify(facts));
  }

  /** Store facts given as their JSON text (`JSON.stringify` of a FileFacts). */
  storeJson(file: string, text: string, json: string): void {
    const p = this.pathOf(file, text);
    const sub = dirname(p);
    const tmp = `${p}.${process.pid}.${tmpCounter++}.tmp`;
    try {
      if (!this.made.has(sub)) {
        ensureDir(sub, 0);
        this.made.add(sub);
      }
      writeFileSync(tmp, json);
      renameSync(tmp, p);
      this.counters.writes++;
    } catch {
      this.counters.writeErrors++;
      try {
        unlinkSync(tmp);
      } catch {
        // nothing to clean
      }
    }
  }
}

/** mkdir -p without `recursive: true` (which spins forever on some errors, e.g. under /proc). Throws on failure. */
function ensureDir(dir: string, depth: number): void {
  try {
    mkdirSync(dir);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || depth > 64) throw e;
    const parent = dirname(dir);
    if (parent === dir) throw e;
    ensureDir(parent, depth + 1);
    mkdirSync(dir);
  }
}

function isFacts(v: unknown): v is FileFacts {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o['version'] === 'number' && typeof o['file'] === 'string' && Array.isArray(o['structs']) && Array.isArray(o['functions'])
    && Array.isArray(o['globals']) && Array.isArray(o['prototypes']) && Array.isArray(o['fptrs']) && Array.isArray(o['typesafeCaches'])
    && typeof o['typedefs'] === 'object' && o['typedefs'] !== null && typeof o['stats'] === 'object' && o['stats'] !== null;
}
