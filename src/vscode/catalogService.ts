/**
 * The primitive catalog of the editor: the built-ins, extended by the user's
 * `refscope.primitives` setting, then by the workspace's own primitives (a
 * workspace value of that setting and `.refscope.json` at the root of the first
 * workspace folder), the same format the CLI reads. Data only: the texts are
 * parsed and validated (core/catalog), nothing from the workspace is executed or
 * loaded as code.
 *
 * - An invalid `.refscope.json` gets an error diagnostic in that file (at the key
 *   or position the error names); an invalid setting value is logged. The layers
 *   that validate stay in force, so do the built-ins.
 * - In restricted mode (an untrusted workspace) the workspace's primitives are
 *   ignored, with a notice in the log and once in a message; granting trust
 *   applies them. (VS Code itself hides a workspace value of a setting listed in
 *   `restrictedConfigurations` from an untrusted workspace.)
 * - Reloaded when the file changes on disk or in an editor, when the setting
 *   changes, and when trust is granted; `onDidChange` fires when the catalog does.
 */
import * as vscode from 'vscode';
import { builtinCatalog, layeredCatalog, primitiveLayers, type Catalog } from '../core/catalog/index';
import { Disposable } from './dispose';

export const CONFIG_FILE = '.refscope.json';
const SETTING = 'primitives';

export interface CatalogState {
  readonly catalog: Catalog;
  /** Which layers are in force, for the log and tests: `settings (user)`, `settings (workspace)`, `.refscope.json`. */
  readonly layers: readonly string[];
  /** Workspace layers ignored because the workspace is not trusted. */
  readonly ignoredUntrusted: readonly string[];
  /** Layers that did not validate (message per layer). */
  readonly errors: readonly string[];
}

export class CatalogService extends Disposable {
  private readonly _onDidChange = this._register(new vscode.EventEmitter<CatalogState>());
  /** The catalog changed (new layers, a layer fixed or broken, trust granted). */
  readonly onDidChange = this._onDidChange.event;
  private readonly problems = this._register(vscode.languages.createDiagnosticCollection('refscope-config'));
  /** The catalog in force when nothing extends it: the first load fires onDidChange only if it differs. */
  private signature = JSON.stringify(builtinCatalog());
  private loading: Promise<CatalogState> | undefined;
  private again = false;
  private noticeShown = false;

  constructor(private readonly log: vscode.LogOutputChannel) {
    super();
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (folder) {
      const watcher = this._register(vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, CONFIG_FILE)));
      this._register(watcher.onDidCreate(() => this.reload()));
      this._register(watcher.onDidChange(() => this.reload()));
      this._register(watcher.onDidDelete(() => this.reload()));
    }
    // Edits of the file in an editor count before they are saved: the diagnostics follow the text.
    // Debounced: each keystroke would otherwise re-analyse every open document with an intermediate catalog.
    let typing: ReturnType<typeof setTimeout> | undefined;
    this._register({ dispose: () => clearTimeout(typing) });
    this._register(vscode.workspace.onDidChangeTextDocument((e) => {
      if (!e.contentChanges.length || !this.isConfigFile(e.document.uri)) return;
      clearTimeout(typing);
      typing = setTimeout(() => this.reload(), 300);
    }));
    this._register(vscode.workspace.onDidCloseTextDocument((d) => {
      if (this.isConfigFile(d.uri)) this.reload();
    }));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`refscope.${SETTING}`)) this.reload();
    }));
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.reload()));
  }

  reload(): void {
    void this.load().catch((e: unknown) => this.log.error('reading the Refscope primitives failed', e));
  }

  private isConfigFile(uri: vscode.Uri): boolean {
    const folder = vscode.workspace.workspaceFolders?.[0];
    return !!folder && uri.toString() === vscode.Uri.joinPath(folder.uri, CONFIG_FILE).toString();
  }

  /** One load at a time; a reload asked for meanwhile runs right after. */
  private load(): Promise<CatalogState> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      let st: CatalogState;
      do {
        this.again = false;
        st = await this.read();
      } while (this.again && !this.isDisposed);
      return st;
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async read(): Promise<CatalogState> {
    const inspected = vscode.workspace.getConfiguration('refscope').inspect<unknown>(SETTING);
    const folder = vscode.workspace.workspaceFolders?.[0];
    const fileUri = folder ? vscode.Uri.joinPath(folder.uri, CONFIG_FILE) : undefined;
    const { sources, ignored } = primitiveLayers({
      user: inspected?.globalValue,
      workspace: inspected?.workspaceFolderValue ?? inspected?.workspaceValue,
      file: fileUri ? await this.readConfigFile(fileUri) : undefined,
      fileName: CONFIG_FILE,
      trusted: vscode.workspace.isTrusted,
    });
    const { catalog, errors } = layeredCatalog(sources);
    const failed = new Set(errors.map((e) => e.source));
    // Diagnostics in .refscope.json (only its own errors; settings errors go to the log).
    if (fileUri) {
      const fileError = errors.find((e) => e.source === CONFIG_FILE);
      const text = fileError ? sources.find((s) => s.source === CONFIG_FILE)?.text ?? '' : '';
      if (fileError) {
        const at = (off: number): vscode.Position => positionAt(text, off);
        const d = new vscode.Diagnostic(new vscode.Range(at(fileError.range.start), at(fileError.range.end)),
          `${fileError.message.replace(/^\.refscope\.json: /, '')} — this file is ignored; the built-in primitives${sources.length > 1 ? ' and the settings' : ''} stay in force.`,
          vscode.DiagnosticSeverity.Error);
        d.source = 'refscope';
        d.code = 'config';
        this.problems.set(fileUri, [d]);
      } else {
        this.problems.delete(fileUri);
      }
    }
    for (const e of errors) if (e.source !== CONFIG_FILE) this.log.warn(`${e.message}; ignored, the other primitives stay in force`);
    const st: CatalogState = {
      catalog,
      layers: sources.map((s) => s.source).filter((s) => !failed.has(s)),
      ignoredUntrusted: ignored,
      errors: errors.map((e) => e.message),
    };
    if (ignored.length) this.noticeUntrusted(ignored);
    const sig = JSON.stringify(catalog);
    const changed = sig !== this.signature;
    this.signature = sig;
    if (changed) {
      this.log.info(`primitives: built-ins${st.layers.length ? ` + ${st.layers.join(' + ')}` : ''}${ignored.length ? ` (ignored in restricted mode: ${ignored.join(', ')})` : ''}`);
      this._onDidChange.fire(st);
    }
    return st;
  }

  /** The file's text: an open editor's (possibly unsaved) text first, else the file system's; undefined when absent. */
  private async readConfigFile(uri: vscode.Uri): Promise<string | undefined> {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open) return open.getText();
    try {
      const bytes = await vscode.workspace.fs.readFile(uri);
      if (bytes.byteLength > 1 << 20) {
        this.log.warn(`${CONFIG_FILE} is over 1 MB; ignored`);
        return undefined;
      }
      return new TextDecoder('utf-8').decode(bytes);
    } catch {
      return undefined; // no such file
    }
  }

  private noticeUntrusted(ignored: readonly string[]): void {
    const what = ignored.join(' and ');
    this.log.info(`restricted mode: ${what} ignored until the workspace is trusted; the built-in primitives apply`);
    if (this.noticeShown) return;
    this.noticeShown = true;
    void vscode.window.showInformationMessage(
      `Refscope: restricted mode — the workspace's primitives (${what}) are ignored until you trust this workspace. The built-in primitives still apply.`,
      'Manage Workspace Trust',
    ).then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
    });
  }
}

function positionAt(text: string, offset: number): vscode.Position {
  let line = 0;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return new vscode.Position(line, Math.max(0, offset - start));
}
