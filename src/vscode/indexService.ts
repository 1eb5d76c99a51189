/**
 * The workspace index in the extension: per-file facts (`factsFor` /
 * `extractFileFacts` in src/core/index, run by the analysis backend, so in the
 * desktop host they are extracted in the worker thread) merged by
 * `buildWorkspaceIndex`. Files come from `vscode.workspace.findFiles` with the
 * `refscope.index.include`/`exclude` globs and are read through
 * `vscode.workspace.fs` (virtual workspaces included); files over
 * `refscope.maxFileSizeKB` are skipped. Facts are cached in memory by content
 * hash, so a rebuild after a save re-extracts only the changed file. The index
 * is built lazily on the first `getIndex` and kept current on save and on
 * file-system changes (debounced).
 */
import * as vscode from 'vscode';
import { buildWorkspaceIndex, FACTS_VERSION, type FileFacts, type WorkspaceIndex } from '../core/index/index';
import { utf8ByteLength } from '../core/util/text';
import type { AnalysisBackend } from './backend';
import { fileKey } from './convert';
import { Disposable } from './dispose';
import { readSettings } from './settings';

export interface IndexService {
  /** The current index, building or updating it first if needed. Rejects with vscode.CancellationError when `token` is cancelled. */
  getIndex(token?: vscode.CancellationToken): Promise<WorkspaceIndex>;
  /** A new index is available (after a build or an update). */
  readonly onDidChange: vscode.Event<void>;
  /** Forget every cached fact and build the index again from the files. */
  rebuild(): Promise<void>;
  /** Build progress in [0, 1] while indexing, undefined when idle. */
  readonly progress: number | undefined;
}

/** What the extension itself uses beyond the shared interface (status bar, commands). */
export interface RefscopeIndexService extends IndexService, vscode.Disposable {
  /** Fires whenever `progress` changes (start, each few files, end). */
  readonly onDidProgress: vscode.Event<number | undefined>;
  /** URIs of the files in the last built index. */
  readonly files: readonly vscode.Uri[];
  /** The last built index without waiting (undefined before the first build). */
  readonly current: WorkspaceIndex | undefined;
}

/** FNV-1a over UTF-16 units plus the length: the content key of the in-memory facts cache. */
export function contentHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${FACTS_VERSION}:${text.length}:${h.toString(16)}`;
}

const UPDATE_DELAY_MS = 400;
const PROGRESS_STEP = 8;

type FactsSource = Pick<AnalysisBackend, 'facts'>;

class WorkspaceIndexService extends Disposable implements RefscopeIndexService {
  private readonly cache = new Map<string, { hash: string; facts: FileFacts }>();
  private readonly _onDidChange = this._register(new vscode.EventEmitter<void>());
  private readonly _onDidProgress = this._register(new vscode.EventEmitter<number | undefined>());
  readonly onDidChange = this._onDidChange.event;
  readonly onDidProgress = this._onDidProgress.event;
  private index: WorkspaceIndex | undefined;
  private fileList: vscode.Uri[] = [];
  /** Files changed since the last build (URI strings); `full` = the file list itself may have changed. */
  private dirty = new Set<string>();
  private full = true;
  private building: Promise<WorkspaceIndex> | undefined;
  private updateTimer: ReturnType<typeof setTimeout> | undefined;
  private _progress: number | undefined;

  constructor(
    private readonly source: FactsSource,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this._register(vscode.workspace.onDidSaveTextDocument((d) => this.touched(d.uri, false)));
    const watcher = this._register(vscode.workspace.createFileSystemWatcher('**/*.{c,h}'));
    this._register(watcher.onDidChange((u) => this.touched(u, false)));
    this._register(watcher.onDidCreate((u) => this.touched(u, true)));
    this._register(watcher.onDidDelete((u) => this.touched(u, true)));
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.touched(undefined, true)));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('refscope.index') || e.affectsConfiguration('refscope.maxFileSizeKB')) this.touched(undefined, true);
    }));
    this._register({ dispose: () => clearTimeout(this.updateTimer) });
  }

  get progress(): number | undefined {
    return this._progress;
  }

  get files(): readonly vscode.Uri[] {
    return this.fileList;
  }

  get current(): WorkspaceIndex | undefined {
    return this.index;
  }

  async getIndex(token?: vscode.CancellationToken): Promise<WorkspaceIndex> {
    if (this.index && !this.full && this.dirty.size === 0 && !this.building) return this.index;
    const build = this.building ?? this.startBuild();
    if (!token) return build;
    if (token.isCancellationRequested) throw new vscode.CancellationError();
    return new Promise<WorkspaceIndex>((resolve, reject) => {
      const sub = token.onCancellationRequested(() => {
        sub.dispose();
        reject(new vscode.CancellationError());
      });
      build.then(
        (i) => {
          sub.dispose();
          resolve(i);
        },
        (e: unknown) => {
          sub.dispose();
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  async rebuild(): Promise<void> {
    if (this.building) await this.building.catch(() => undefined);
    this.cache.clear();
    this.full = true;
    await this.getIndex();
  }

  private touched(uri: vscode.Uri | undefined, listChanged: boolean): void {
    if (this.isDisposed) return;
    if (uri) {
      if (!/\.[ch]$/i.test(uri.path)) return;
      this.dirty.add(uri.toString());
    }
    if (listChanged) this.full = true;
    // Only keep an index current once somebody asked for one.
    if (!this.index) return;
    clearTimeout(this.updateTimer);
    this.updateTimer = setTimeout(() => {
      if (!this.building) void this.getIndex().catch((e: unknown) => this.log.warn('index update failed', e));
    }, UPDATE_DELAY_MS);
  }

  private startBuild(): Promise<WorkspaceIndex> {
    const p = this.build().finally(() => {
      if (this.building === p) this.building = undefined;
    });
    this.building = p;
    return p;
  }

  private setProgress(p: number | undefined): void {
    this._progress = p;
    this._onDidProgress.fire(p);
  }

  private async listFiles(): Promise<vscode.Uri[]> {
    const settings = readSettings();
    const exclude = settings.indexExclude.length === 0 ? null
      : settings.indexExclude.length === 1 ? settings.indexExclude[0]! : `{${settings.indexExclude.join(',')}}`;
    const seen = new Map<string, vscode.Uri>();
    for (const include of settings.indexInclude) {
      for (const u of await vscode.workspace.findFiles(include, exclude)) seen.set(u.toString(), u);
    }
    return [...seen.values()].sort((a, b) => a.toString().localeCompare(b.toString()));
  }

  private async build(): Promise<WorkspaceIndex> {
    const t0 = performance.now();
    // Take the change set now: changes arriving during the build mark the next one.
    const dirty = this.dirty;
    this.dirty = new Set();
    const full = this.full;
    this.full = false;
    this.setProgress(0);
    try {
      if (full || !this.index) this.fileList = await this.listFiles();
      const maxBytes = readSettings().maxFileSizeKB * 1024;
      const all: FileFacts[] = [];
      let extracted = 0;
      let skipped = 0;
      const live = new Set<string>();
      for (let i = 0; i < this.fileList.length; i++) {
        if (this.isDisposed) throw new vscode.CancellationError();
        const uri = this.fileList[i]!;
        const key = uri.toString();
        live.add(key);
        const cached = this.cache.get(key);
        if (cached && !dirty.has(key) && !full) {
          all.push(cached.facts);
          continue;
        }
        let text: string;
        try {
          text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
        } catch {
          this.cache.delete(key);
          continue; // deleted meanwhile
        }
        if (utf8ByteLength(text) > maxBytes) {
          skipped++;
          this.cache.delete(key);
          continue;
        }
        const hash = contentHash(text);
        if (cached && cached.hash === hash) {
          all.push(cached.facts);
        } else {
          try {
            const facts = await this.source.facts(text, fileKey(uri));
            this.cache.set(key, { hash, facts });
            all.push(facts);
            extracted++;
          } catch (e) {
            this.log.warn(`index: facts of ${vscode.workspace.asRelativePath(uri)} failed`, e);
          }
        }
        if (i % PROGRESS_STEP === 0) this.setProgress(i / this.fileList.length);
      }
      for (const k of [...this.cache.keys()]) if (!live.has(k)) this.cache.delete(k);
      const index = buildWorkspaceIndex(all);
      this.index = index;
      this.log.info(`index: ${all.length} files (${extracted} extracted, ${skipped} over the size limit), `
        + `${index.stats.functions} functions, ${index.stats.refcountedTypes} refcounted types in ${(performance.now() - t0).toFixed(0)} ms`);
      this._onDidChange.fire();
      return index;
    } catch (e) {
      // Retry everything next time.
      for (const k of dirty) this.dirty.add(k);
      this.full ||= full;
      throw e;
    } finally {
      this.setProgress(undefined);
    }
  }
}

/**
 * The extension's index service. `source` extracts facts (the analysis backend:
 * the worker thread on the desktop, in process on the web).
 */
export function createIndexService(context: vscode.ExtensionContext, source: FactsSource, log: vscode.LogOutputChannel): RefscopeIndexService {
  const s = new WorkspaceIndexService(source, log);
  context.subscriptions.push(s);
  return s;
}
