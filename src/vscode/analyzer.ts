/**
 * Keeps every open C document analysed: debounced re-analysis on edits (a newer
 * edit cancels the pending run, a stale result is dropped), an immediate
 * `analyzeNow` for commands, results tagged with the document version, and one
 * event that every editor feature (diagnostics, and later hints and the status
 * bar) consumes. Core results are plain data: features convert them themselves
 * through convert.ts.
 */
import * as vscode from 'vscode';
import { describeIncomplete } from '../core/budget';
import { applySettings, type RefscopeSettings } from '../core/settings';
import type { FileHints } from '../core/hints';
import type { FileResult, Finding } from '../core/types';
import { utf8ByteLength } from '../core/util/text';
import type { AnalysisBackend, EditorResult } from './backend';
import { fileKey } from './convert';
import { Disposable } from './dispose';
import { affectsRefscope, readSettings } from './settings';

export interface AnalysisEvent {
  readonly document: vscode.TextDocument;
  /** Document version the result belongs to. */
  readonly version: number;
  readonly result: FileResult;
  /** Lock scopes, held sets, refcount effects and calls per function (src/core/hints.ts). */
  readonly hints: FileHints;
  /** `incremental`: only the edited function was analysed again. */
  readonly mode: EditorResult['mode'];
  /** The result's findings after the settings (disabled rules, severities). */
  readonly findings: readonly Finding[];
  readonly durationMs: number;
}

interface Pending {
  readonly timer: ReturnType<typeof setTimeout>;
  readonly cts: vscode.CancellationTokenSource;
}

/** Views of a file that are not the file itself (diff sides, SCM input, output): never analysed. */
const IGNORED_SCHEMES = new Set(['git', 'gitfs', 'output', 'vscode-scm', 'comment']);

/** Kernel C: `.c` documents, and `.h` headers even when VS Code calls them C++. */
export function isKernelC(doc: vscode.TextDocument): boolean {
  if (IGNORED_SCHEMES.has(doc.uri.scheme)) return false;
  return doc.languageId === 'c' || (doc.languageId === 'cpp' && /\.h$/i.test(doc.uri.path));
}

export class DocumentAnalyzer extends Disposable {
  private readonly pending = new Map<string, Pending>();
  private readonly lastDuration = new Map<string, number>();
  private readonly latest = new Map<string, AnalysisEvent>();
  private readonly tooLargeLogged = new Set<string>();
  private readonly _onDidAnalyze = this._register(new vscode.EventEmitter<AnalysisEvent>());
  private readonly _onDidClear = this._register(new vscode.EventEmitter<vscode.Uri>());
  /** A document has new results (its findings may be empty). */
  readonly onDidAnalyze = this._onDidAnalyze.event;
  /** A document has no results any more (closed, disabled, too large). */
  readonly onDidClear = this._onDidClear.event;

  constructor(
    private readonly backend: AnalysisBackend,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this._register(vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length > 0) this.schedule(e.document);
    }));
    this._register(vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri)));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (!affectsRefscope(e)) return;
      this.tooLargeLogged.clear();
      for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
    }));
    this._register({ dispose: () => this.cancelAll() });
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  /** Analyse every open document again (the catalog changed). */
  rescheduleAll(): void {
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  /** Latest result of a document, if it is current. */
  resultFor(doc: vscode.TextDocument): AnalysisEvent | undefined {
    const ev = this.latest.get(doc.uri.toString());
    return ev && ev.version === doc.version ? ev : undefined;
  }

  /** Latest result even if the document changed since (callers check `version`). */
  latestFor(doc: vscode.TextDocument): AnalysisEvent | undefined {
    return this.latest.get(doc.uri.toString());
  }

  /**
   * The result for the document's current version. When a debounced run is
   * pending it is awaited (never forced: providers VS Code calls on every edit
   * must not defeat the debounce); with nothing pending, the document is analysed now.
   */
  async current(doc: vscode.TextDocument, timeoutMs = 10000): Promise<AnalysisEvent | undefined> {
    const now = this.resultFor(doc);
    if (now) return now;
    const key = doc.uri.toString();
    if (!this.pending.has(key)) return this.analyzeNow(doc);
    return new Promise<AnalysisEvent | undefined>((resolve) => {
      const done = (ev: AnalysisEvent | undefined): void => {
        clearTimeout(timer);
        sub.dispose();
        resolve(ev);
      };
      const sub = this.onDidAnalyze((ev) => {
        if (ev.document.uri.toString() === key && ev.version === doc.version) done(ev);
      });
      const timer = setTimeout(() => done(this.resultFor(doc)), timeoutMs);
    });
  }

  /** Every document's latest result. */
  allResults(): AnalysisEvent[] {
    return [...this.latest.values()];
  }

  /**
   * Re-analyse after the debounce delay. The delay grows with the time the last
   * run of this document took, so big files never make typing stutter.
   */
  schedule(doc: vscode.TextDocument, delayMs?: number): void {
    if (this.isDisposed || !isKernelC(doc)) return;
    const key = doc.uri.toString();
    this.cancel(key);
    const settings = readSettings(doc.uri);
    const delay = delayMs ?? Math.max(settings.debounceMs, 2 * (this.lastDuration.get(key) ?? 0));
    const cts = new vscode.CancellationTokenSource();
    const timer = setTimeout(() => {
      if (this.pending.get(key)?.cts === cts) this.pending.delete(key);
      void this.run(doc, cts.token).finally(() => cts.dispose());
    }, delay);
    this.pending.set(key, { timer, cts });
  }

  /** Analyse now (commands, tests): cancels a pending debounced run. */
  async analyzeNow(doc: vscode.TextDocument): Promise<AnalysisEvent | undefined> {
    if (!isKernelC(doc)) return undefined;
    this.cancel(doc.uri.toString());
    const cts = new vscode.CancellationTokenSource();
    try {
      return await this.run(doc, cts.token);
    } finally {
      cts.dispose();
    }
  }

  private async run(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<AnalysisEvent | undefined> {
    if (token.isCancellationRequested || doc.isClosed || this.isDisposed) return undefined;
    const key = doc.uri.toString();
    const settings: RefscopeSettings = readSettings(doc.uri);
    if (!settings.enable) {
      this.clear(doc.uri);
      return undefined;
    }
    // UTF-16 length first, without materialising the text (a 20 MB document joins 1.5M lines in getText):
    // UTF-8 is never shorter, so a document already over the limit in UTF-16 units is too large.
    const limit = settings.maxFileSizeKB * 1024;
    const units = doc.offsetAt(doc.lineAt(doc.lineCount - 1).range.end);
    const text = units > limit ? '' : doc.getText();
    const bytes = units > limit ? units : utf8ByteLength(text);
    if (bytes > limit) {
      if (!this.tooLargeLogged.has(key)) {
        this.tooLargeLogged.add(key);
        this.log.info(`${vscode.workspace.asRelativePath(doc.uri)}: ${units > limit ? 'over ' : ''}${Math.ceil(bytes / 1024)} KB exceeds refscope.maxFileSizeKB (${settings.maxFileSizeKB}); not analysed`);
      }
      this.clear(doc.uri);
      return undefined;
    }
    const version = doc.version;
    const t0 = performance.now();
    let out: EditorResult | undefined;
    try {
      out = await this.backend.analyze(text, fileKey(doc.uri));
    } catch (e) {
      if (!this.isDisposed) this.log.error(`analysis of ${vscode.workspace.asRelativePath(doc.uri)} failed`, e);
      return undefined;
    }
    if (!out || this.isDisposed) return undefined; // superseded by a newer request for this file
    const result = out.result;
    const durationMs = performance.now() - t0;
    this.lastDuration.set(key, durationMs);
    // A newer edit arrived meanwhile: its own run is scheduled, drop this stale result.
    if (doc.version !== version || doc.isClosed) return undefined;
    const ev: AnalysisEvent = { document: doc, version, result, hints: out.hints, mode: out.mode, findings: applySettings(result.findings, settings), durationMs };
    this.latest.set(key, ev);
    const damaged = result.stats.functionsWithParseDamage;
    this.log.debug(
      `${vscode.workspace.asRelativePath(doc.uri)} v${version}: ${ev.findings.length} findings, `
        + `${result.stats.functions} functions (${damaged} with parse damage) in ${durationMs.toFixed(1)} ms (${out.mode}, ${out.functionsAnalysed} analysed)`,
    );
    for (const i of result.incomplete ?? []) {
      this.log.info(`${vscode.workspace.asRelativePath(doc.uri)}:${i.line}: ${i.function}: ${describeIncomplete(i)}; no findings from it`);
    }
    this._onDidAnalyze.fire(ev);
    return ev;
  }

  private clear(uri: vscode.Uri): void {
    this.latest.delete(uri.toString());
    this._onDidClear.fire(uri);
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    this.cancel(key);
    this.lastDuration.delete(key);
    this.tooLargeLogged.delete(key);
    this.backend.close(fileKey(uri));
    this.clear(uri);
  }

  private cancel(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    p.cts.cancel();
    p.cts.dispose();
    this.pending.delete(key);
  }

  private cancelAll(): void {
    for (const key of [...this.pending.keys()]) this.cancel(key);
  }
}
