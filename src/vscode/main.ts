/**
 * Activation shared by both entries (extension.ts for the desktop Node host,
 * browser.ts for the web worker host): load the parser once, build the context,
 * activate each feature. Failures are logged and shown, never swallowed silently.
 */
import * as vscode from 'vscode';
import { createCParser } from '../core/parse/parser';
import { readParserAssets } from './assets';
import { InProcessBackend, type AnalysisBackend, type BackendKind } from './backend';
import * as codeActions from './codeActions';
import * as codeLens from './codeLens';
import * as commands from './commands';
import { RefscopeContext, type HostKind } from './context';
import * as diagnostics from './diagnostics';
import * as hover from './hover';
import * as inlayHints from './inlayHints';
import * as lockScopes from './lockScopes';
import { registerPanel } from './panel';
import * as review from './review';
import * as statusBar from './statusBar';

const FEATURES: ReadonlyArray<{ name: string; activate(ctx: RefscopeContext): void }> = [
  { name: 'diagnostics', activate: diagnostics.activate },
  { name: 'commands', activate: commands.activate },
  { name: 'lock scopes', activate: lockScopes.activate },
  { name: 'inlay hints', activate: inlayHints.activate },
  { name: 'hovers', activate: hover.activate },
  { name: 'code actions', activate: codeActions.activate },
  { name: 'CodeLens', activate: codeLens.activate },
  { name: 'status bar', activate: statusBar.activate },
  { name: 'panel', activate: (ctx) => void ctx.register(registerPanel(ctx.extension, { index: ctx.index })) },
];

/** Delay before the workspace index starts building after activation (status bar: "indexing N%"). */
const INDEX_START_DELAY_MS = 1500;

/** What `activate` returns (`vscode.extensions.getExtension('refscope.refscope').exports`). */
export interface RefscopeApi {
  /** Which extension host this activation runs in: `main` (desktop, Node) or `browser` (web worker). */
  readonly host: HostKind;
  /** Where files are analysed: a Node worker thread (desktop) or the host's own thread (web). */
  readonly backend: BackendKind;
  /** The status bar item's text as last shown ("Refscope: indexing 37%", "Refscope: 3 findings"). */
  statusText(): string;
  /** What the "Refscope Review" view shows (summary, tree, editor decorations); undefined if the feature failed to start. */
  review(): review.ReviewSnapshot | undefined;
}

/** Starts a host-specific backend; undefined means "analyse in process". */
export type BackendFactory = (extensionUri: vscode.Uri, log: vscode.LogOutputChannel) => Promise<AnalysisBackend>;

/** The parser loaded once in this thread from the extension's dist/ (read through vscode.workspace.fs). */
export async function inProcessBackend(extensionUri: vscode.Uri): Promise<AnalysisBackend> {
  return new InProcessBackend(await createCParser(await readParserAssets(extensionUri)));
}

export async function activateRefscope(context: vscode.ExtensionContext, host: HostKind, startBackend?: BackendFactory): Promise<RefscopeApi> {
  const log = vscode.window.createOutputChannel('Refscope', { log: true });
  context.subscriptions.push(log);
  // Registered first so the log can be opened even if the rest fails to start.
  context.subscriptions.push(vscode.commands.registerCommand(commands.COMMANDS.showOutput, () => log.show(true)));
  try {
    const t0 = performance.now();
    let backend: AnalysisBackend | undefined;
    if (startBackend) {
      try {
        backend = await startBackend(context.extensionUri, log);
      } catch (e) {
        log.warn('analysis worker unavailable, analysing in the extension host thread instead', e);
      }
    }
    backend ??= await inProcessBackend(context.extensionUri);
    const ctx = new RefscopeContext(context, log, backend, host);
    context.subscriptions.push(ctx);
    for (const f of FEATURES) {
      try {
        f.activate(ctx);
      } catch (e) {
        log.error(`feature ${f.name} failed to start`, e);
      }
    }
    let reviewer: review.ReviewController | undefined;
    try {
      reviewer = review.activate(ctx);
    } catch (e) {
      log.error('feature review failed to start', e);
    }
    if (vscode.workspace.workspaceFolders?.length) {
      const t = setTimeout(() => void ctx.index.getIndex().catch((e: unknown) => log.warn('workspace index failed', e)), INDEX_START_DELAY_MS);
      ctx.register({ dispose: () => clearTimeout(t) });
    }
    log.info(`Refscope ${String(context.extension.packageJSON.version ?? '')} active in the ${host} extension host, analysis ${backend.kind} (started in ${(performance.now() - t0).toFixed(0)} ms)`);
    return { host, backend: backend.kind, statusText: () => ctx.status, review: () => reviewer?.snapshot() };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log.error('activation failed', e);
    void vscode.window.showErrorMessage(`Refscope failed to start: ${msg}`, 'Show Output').then((choice) => {
      if (choice) log.show(true);
    });
    throw e;
  }
}
