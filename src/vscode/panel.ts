/**
 * Feature: the lifecycle webview panel host. Commands:
 * - `refscope.simulateLifecycle` `{ typeName, uri?, line? }` (CodeLens) or no
 *   argument (the struct type of the identifier under the cursor): the object
 *   view of that type, its roles, and runs of 2-4 roles.
 * - `refscope.openScenario` `{ scenario, variant? }` (diagnostics' "Play race
 *   scenario") or no argument (a quick pick of the library): plays the race.
 * One panel per object or scenario, revealed again if already open; restored
 * after a window reload by a WebviewPanelSerializer from the webview's state.
 * Explorations run in the webview's worker; the host builds the models (the
 * lifecycle model from the workspace index, scenarios with the parser), answers
 * reveal requests, and validates every message both ways (src/shared/protocol).
 */
import * as vscode from 'vscode';
import type { WorkspaceIndex } from '../core/index/index';
import { createCParser, type CParser } from '../core/parse/parser';
import { library } from '../core/scenarios/library';
import { buildCombinationModel, extractLifecycle, UnknownTypeError, type LifecycleModel } from '../core/sim/lifecycle';
import {
  PANEL_VIEW_TYPE, PROTOCOL_VERSION, parsePanelState, parseToHost, parseToWebview, type RunStatus, type Subject, type ToHost, type ToWebview,
} from '../shared/protocol';
import { readParserAssets } from './assets';
import { Disposable } from './dispose';
import type { IndexService } from './indexService';
import { findVariant, libraryItems, lifecycleView, scenarioExplore, scenarioView } from './panelData';
import { makeNonce, panelHtml } from './panelHtml';
import { structTypeAt } from './panelTarget';

export const PANEL_COMMANDS = {
  simulateLifecycle: 'refscope.simulateLifecycle',
  openScenario: 'refscope.openScenario',
  /** Internal (not in the palette): lets the integration tests see and drive panels. */
  testHook: 'refscope._panelTestHook',
} as const;

/** Read-only documents for the built-in scenario files: `refscope-scenario:/<id>/<variant>.rsim`. */
export const SCENARIO_SCHEME = 'refscope-scenario';
const LIFECYCLE_MAX_STATES = 200_000;
const SCENARIO_MAX_STATES = 500_000;

type SubjectRef = { kind: 'lifecycle'; typeName: string } | { kind: 'scenario'; id: string; variant: string };
interface Built {
  subject: Subject;
  lm?: LifecycleModel;
}

function titleOf(r: SubjectRef): string {
  return r.kind === 'lifecycle' ? `Lifecycle: ${r.typeName}` : `Scenario: ${r.id}`;
}

function refKey(r: SubjectRef): string {
  return r.kind === 'lifecycle' ? `lifecycle:${r.typeName}` : `scenario:${r.id}`;
}

export interface PanelServices {
  index: IndexService;
}

/** The map from core file keys to URIs (URI strings, library scenario files, workspace-relative paths). */
export function uriOfFile(file: string): vscode.Uri {
  const lib = library().flatMap((e) => e.variants).find((v) => v.file === file);
  if (lib) return vscode.Uri.from({ scheme: SCENARIO_SCHEME, path: `/${lib.ref}.rsim` });
  if (/^[a-zA-Z][\w+.-]*:/.test(file)) return vscode.Uri.parse(file);
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? vscode.Uri.joinPath(folder.uri, file) : vscode.Uri.file(file);
}

/**
 * May a reveal request open `uri`? The scenario library's documents, files inside
 * a workspace folder (after `..` is resolved: Uri.joinPath normalises), and
 * documents already open in the editor (a lone file opened without a folder).
 * Anything else a webview names (`/etc/passwd`, `../../x`, another scheme) is refused.
 */
export function revealAllowed(uri: vscode.Uri): boolean {
  if (uri.scheme === SCENARIO_SCHEME) return true;
  const key = uri.toString();
  if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === key)) return true;
  if (uri.path.split('/').includes('..')) return false;
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    if (f.uri.scheme !== uri.scheme || f.uri.authority !== uri.authority) continue;
    const root = f.uri.path.endsWith('/') ? f.uri.path : `${f.uri.path}/`;
    if (uri.path.startsWith(root)) return true;
  }
  return false;
}

interface TestRecord {
  key: string;
  title: string;
  visible: boolean;
  ready: boolean;
  /** Role names of a lifecycle panel. */
  roles: string[];
  received: ToHost[];
  statuses: Array<{ runId: number; status: RunStatus; verdict?: string; states?: number; kinds?: string[] }>;
  rejected: string[];
}

class LifecyclePanel extends Disposable {
  private ready = false;
  private subject: Subject | undefined;
  private lm: LifecycleModel | undefined;
  private autoRun = false;
  private nextHostRun = 1_000_000;
  readonly received: ToHost[] = [];
  readonly statuses: TestRecord['statuses'] = [];
  readonly rejected: string[] = [];
  private readonly _onDidDispose = this._register(new vscode.EventEmitter<void>());
  readonly onDidDispose = this._onDidDispose.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    public ref: SubjectRef,
    private readonly host: PanelManager,
  ) {
    super();
    const dist = vscode.Uri.joinPath(host.context.extensionUri, 'dist');
    panel.webview.options = { enableScripts: true, localResourceRoots: [dist] };
    panel.webview.html = host.html(panel.webview);
    this._register(panel.webview.onDidReceiveMessage((m: unknown) => void this.onMessage(m)));
    this._register(panel.onDidDispose(() => {
      this._onDidDispose.fire();
      this.dispose();
    }));
  }

  get key(): string {
    return refKey(this.ref);
  }

  isReady(): boolean {
    return this.ready;
  }

  /** Sets (or replaces) what the panel shows; `run` plays it once the webview is ready. */
  async show(ref: SubjectRef, run: boolean, built?: Built, token?: vscode.CancellationToken): Promise<void> {
    const b = built ?? (await this.host.subjectOf(ref, token));
    this.ref = ref;
    this.subject = b.subject;
    this.lm = b.lm;
    this.panel.title = titleOf(ref);
    this.autoRun = run;
    if (this.ready) await this.sendInit();
  }

  post(m: ToWebview): Thenable<boolean> {
    // Validate what we send too: the webview would drop it anyway, but the bug is here.
    const p = parseToWebview(m);
    if (!p.ok) throw new Error(`invalid message to the webview: ${p.error}`);
    return this.panel.webview.postMessage(m);
  }

  private async sendInit(): Promise<void> {
    if (!this.subject) return;
    await this.post({ type: 'init', version: PROTOCOL_VERSION, subject: this.subject, library: libraryItems() });
    if (this.autoRun && this.subject.kind === 'scenario') {
      this.autoRun = false;
      await this.runScenario(this.nextHostRun++, this.subject.scenario.id, this.subject.scenario.variant);
    }
  }

  /** A message from the webview (or, in tests, injected as if it were). */
  async onMessage(data: unknown): Promise<void> {
    const p = parseToHost(data);
    if (!p.ok) {
      this.rejected.push(p.error);
      this.host.warn(`ignored an invalid message from the lifecycle webview: ${p.error}`);
      return;
    }
    const m = p.value;
    this.received.push(m);
    if (this.received.length > 200) this.received.shift();
    try {
      switch (m.type) {
        case 'ready':
          this.ready = true;
          if (!this.subject) await this.show(this.ref, false);
          await this.sendInit();
          return;
        case 'runRoles':
          await this.runRoles(m.runId, m.roles);
          return;
        case 'runScenario':
          await this.runScenario(m.runId, m.scenario, m.variant);
          return;
        case 'runStatus':
          this.statuses.push({ runId: m.runId, status: m.status, ...(m.verdict ? { verdict: m.verdict } : {}), ...(m.states !== undefined ? { states: m.states } : {}), ...(m.kinds ? { kinds: m.kinds } : {}) });
          if (m.status === 'failed') this.host.warn(`exploration failed: ${m.message ?? ''}`);
          return;
        case 'reveal':
          await this.host.reveal(m.file, m.line, m.column, m.focus, this.panel.viewColumn);
          return;
        case 'showVariant':
          await this.show({ kind: 'scenario', id: m.scenario, variant: m.variant }, true);
          return;
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (m.type === 'runRoles' || m.type === 'runScenario') await this.post({ type: 'runError', runId: m.runId, message: message.slice(0, 4000) });
      else void vscode.window.showErrorMessage(`Refscope: ${message}`);
    }
  }

  private async runRoles(runId: number, roles: string[]): Promise<void> {
    if (this.ref.kind !== 'lifecycle') throw new Error('this panel shows a scenario: pick a variant or a library scenario');
    if (!this.lm) await this.show(this.ref, false);
    const lm = this.lm!;
    const model = buildCombinationModel(lm, roles);
    await this.post({ type: 'explore', runId, label: roles.join(' + '), roles, model, maxStates: LIFECYCLE_MAX_STATES });
  }

  private async runScenario(runId: number, id: string, variant: string): Promise<void> {
    const v = findVariant(id, variant);
    if (!v) throw new Error(`no built-in scenario ${id}/${variant}`);
    const parser = await this.host.parser();
    await this.post(scenarioExplore(parser, v, runId, SCENARIO_MAX_STATES));
  }

  record(): TestRecord {
    return { key: this.key, title: this.panel.title, visible: this.panel.visible, ready: this.ready, roles: this.lm?.roles.map((r) => r.name) ?? [], received: [...this.received], statuses: [...this.statuses], rejected: [...this.rejected] };
  }
}

class PanelManager extends Disposable {
  private readonly panels = new Map<string, LifecyclePanel>();
  private parserP: Promise<CParser> | undefined;
  private readonly highlight = this._register(vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.rangeHighlightBackground'),
    border: '1px solid',
    borderColor: new vscode.ThemeColor('editor.rangeHighlightBorder'),
  }));
  private readonly hasCodicons: Thenable<boolean>;
  private codicons = false;
  /** Reveal requests refused as outside the workspace (tests, newest last). */
  private readonly refusedReveals: string[] = [];
  /** The last reveal (tests). */
  lastReveal: { uri: string; line: number; focus: boolean } | undefined;
  private lastTextColumn: vscode.ViewColumn | undefined;

  constructor(
    readonly context: vscode.ExtensionContext,
    private readonly services: PanelServices,
  ) {
    super();
    this.hasCodicons = vscode.workspace.fs.stat(vscode.Uri.joinPath(context.extensionUri, 'dist', 'codicon.css')).then(() => (this.codicons = true), () => false);
    this._register(vscode.commands.registerCommand(PANEL_COMMANDS.simulateLifecycle, (arg?: unknown) => this.simulateLifecycle(arg)));
    this._register(vscode.commands.registerCommand(PANEL_COMMANDS.openScenario, (arg?: unknown) => this.openScenario(arg)));
    this._register(vscode.commands.registerCommand(PANEL_COMMANDS.testHook, (arg?: unknown) => this.testHook(arg)));
    this._register(vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, { deserializeWebviewPanel: (p, s) => this.restore(p, s) }));
    this._register(vscode.workspace.registerTextDocumentContentProvider(SCENARIO_SCHEME, {
      provideTextDocumentContent: (uri) => library().flatMap((e) => e.variants).find((v) => `/${v.ref}.rsim` === uri.path)?.text ?? '',
    }));
    this._register(vscode.window.onDidChangeActiveTextEditor((e) => {
      if (e?.viewColumn) this.lastTextColumn = e.viewColumn;
    }));
    this.lastTextColumn = vscode.window.activeTextEditor?.viewColumn;
  }

  override dispose(): void {
    for (const p of [...this.panels.values()]) p.panel.dispose();
    super.dispose();
  }

  warn(message: string): void {
    console.warn(`refscope: ${message}`);
  }

  html(webview: vscode.Webview): string {
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist');
    const u = (name: string): string => webview.asWebviewUri(vscode.Uri.joinPath(dist, name)).toString();
    return panelHtml({
      cspSource: webview.cspSource, nonce: makeNonce(), scriptUri: u('webview.js'), styleUri: u('webview.css'),
      ...(this.codicons ? { codiconUri: u('codicon.css') } : {}),
    });
  }

  parser(): Promise<CParser> {
    this.parserP ??= readParserAssets(this.context.extensionUri).then((a) => createCParser(a));
    this.parserP.catch(() => (this.parserP = undefined));
    return this.parserP;
  }

  /** The lifecycle model of a type from the workspace index, with op texts from the real source lines. */
  async lifecycle(typeName: string, token?: vscode.CancellationToken): Promise<{ lm: LifecycleModel; index: WorkspaceIndex }> {
    const index = await this.services.index.getIndex(token);
    const first = extractLifecycle(index, typeName);
    const files = new Set<string>([...first.roles.map((r) => r.file), ...first.releaseCallbacks.map((r) => r.file), ...first.lookups.map((l) => l.file)]);
    for (const s of first.structures) for (const site of [...s.publish, ...s.unpublish]) files.add(site.file);
    const def = index.structs.get(first.type);
    if (def) files.add(def.file);
    const texts = new Map<string, string[]>();
    await Promise.all([...files].filter(Boolean).map(async (f) => {
      try {
        const uri = uriOfFile(f);
        const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
        const text = open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
        texts.set(f, text.split('\n'));
      } catch {
        // op texts fall back to the function names
      }
    }));
    const lm = extractLifecycle(index, typeName, { sourceLine: (file, line) => texts.get(file)?.[line - 1] });
    return { lm, index };
  }

  async subjectOf(ref: SubjectRef, token?: vscode.CancellationToken): Promise<Built> {
    if (ref.kind === 'scenario') {
      const v = findVariant(ref.id, ref.variant);
      if (!v) throw new Error(`no built-in scenario ${ref.id}/${ref.variant}`);
      return { subject: { kind: 'scenario', scenario: scenarioView(v) } };
    }
    const { lm, index } = await this.lifecycle(ref.typeName, token);
    return { subject: { kind: 'lifecycle', lifecycle: lifecycleView(lm, index) }, lm };
  }

  private async open(ref: SubjectRef, run: boolean, panelIn?: vscode.WebviewPanel, token?: vscode.CancellationToken): Promise<LifecyclePanel> {
    await this.hasCodicons;
    // Built first, so an unknown type fails before a panel opens.
    const built = await this.subjectOf(ref, token);
    const key = refKey(ref);
    let p = this.panels.get(key);
    if (p && !panelIn) {
      p.panel.reveal(undefined, false);
      await p.show(ref, run, built);
      return p;
    }
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    const panel = panelIn ?? vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, titleOf(ref), { viewColumn: column, preserveFocus: false }, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'dist')],
    });
    p = new LifecyclePanel(panel, ref, this);
    const created = p;
    this.panels.set(key, created);
    created.onDidDispose(() => {
      if (this.panels.get(key) === created) this.panels.delete(key);
    });
    await created.show(ref, run, built);
    return created;
  }

  private async simulateLifecycle(arg: unknown): Promise<boolean> {
    try {
      let typeName: string | undefined;
      if (typeof arg === 'object' && arg !== null && typeof (arg as { typeName?: unknown }).typeName === 'string') typeName = (arg as { typeName: string }).typeName;
      else typeName = await this.typeAtCursor();
      if (!typeName) return false;
      const name = typeName;
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Refscope: lifecycle of ${name}`, cancellable: true }, (_progress, token) => this.openLifecycle(name, token));
      return true;
    } catch (e) {
      if (e instanceof vscode.CancellationError) return false;
      const msg = e instanceof UnknownTypeError ? `${e.message}` : e instanceof Error ? e.message : String(e);
      void vscode.window.showErrorMessage(`Refscope: ${msg}`);
      return false;
    }
  }

  private async openLifecycle(typeName: string, token: vscode.CancellationToken): Promise<void> {
    await this.open({ kind: 'lifecycle', typeName: typeName.trim().replace(/\s+/g, ' ').replace(/^(?!struct |union )/, 'struct ') }, false, undefined, token);
  }

  private async typeAtCursor(): Promise<string | undefined> {
    const ed = vscode.window.activeTextEditor;
    if (!ed) {
      void vscode.window.showInformationMessage('Refscope: put the cursor on a variable, parameter, field access or struct name in a C file.');
      return undefined;
    }
    const index = await this.services.index.getIndex();
    const pos = ed.selection.active;
    const t = structTypeAt(index, ed.document.uri.toString(), ed.document.getText(), pos.line, pos.character);
    if (!t) {
      void vscode.window.showInformationMessage('Refscope: no struct type found for the identifier under the cursor.');
      return undefined;
    }
    return t.type;
  }

  private async openScenario(arg: unknown): Promise<boolean> {
    try {
      let id: string | undefined;
      let variant: string | undefined;
      if (typeof arg === 'object' && arg !== null && typeof (arg as { scenario?: unknown }).scenario === 'string') {
        const a = arg as { scenario: string; variant?: unknown };
        [id, variant] = a.scenario.split('/');
        if (typeof a.variant === 'string') variant = a.variant;
      } else {
        const items = library().flatMap((e) => e.variants.map((v) => ({ label: `${e.id} / ${v.variant}`, description: `expect ${v.meta.expect}`, detail: v.meta.title, id: e.id, variant: v.variant })));
        const pick = await vscode.window.showQuickPick(items, { title: 'Refscope: Open Race Scenario', placeHolder: 'A scenario of the built-in library', matchOnDescription: true, matchOnDetail: true });
        if (!pick) return false;
        id = pick.id;
        variant = pick.variant;
      }
      const v = id ? findVariant(id, variant) : undefined;
      if (!id || !v) {
        void vscode.window.showErrorMessage(`Refscope: no built-in scenario '${String(id)}${variant ? `/${variant}` : ''}'.`);
        return false;
      }
      await this.open({ kind: 'scenario', id, variant: v.variant }, true);
      return true;
    } catch (e) {
      void vscode.window.showErrorMessage(`Refscope: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  }

  private async restore(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const p = parsePanelState(state);
    const s = p.ok ? p.value.subject : null;
    if (!s) {
      panel.dispose();
      return;
    }
    const ref: SubjectRef = s.kind === 'lifecycle' ? { kind: 'lifecycle', typeName: s.lifecycle.type } : { kind: 'scenario', id: s.scenario.id, variant: s.scenario.variant };
    try {
      await this.open(ref, false, panel);
    } catch (e) {
      this.warn(`could not restore the lifecycle panel of ${refKey(ref)}: ${e instanceof Error ? e.message : String(e)}`);
      panel.dispose();
    }
  }

  /** Shows a source line: highlighted, selected, and (focus) with the focus moved to the editor. */
  async reveal(file: string, line: number, column: number, focus: boolean, panelColumn: vscode.ViewColumn | undefined): Promise<void> {
    const uri = uriOfFile(file);
    if (!revealAllowed(uri)) {
      // Webview content comes from the files analysed: a path it names is never trusted to leave the workspace.
      this.refusedReveals.push(uri.toString());
      if (this.refusedReveals.length > 50) this.refusedReveals.shift();
      this.warn(`refused to reveal ${uri.toString()}: it is outside the workspace and not open in an editor`);
      return;
    }
    const doc = await vscode.workspace.openTextDocument(uri);
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    const column0 = visible?.viewColumn
      ?? (this.lastTextColumn && this.lastTextColumn !== panelColumn ? this.lastTextColumn : panelColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One);
    const l = Math.max(0, Math.min(line - 1, doc.lineCount - 1));
    const c = Math.max(0, Math.min(column - 1, doc.lineAt(l).text.length));
    const pos = new vscode.Position(l, c);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: column0, preserveFocus: !focus, preview: true, selection: new vscode.Range(pos, pos) });
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    for (const e of vscode.window.visibleTextEditors) if (e !== editor) e.setDecorations(this.highlight, []);
    editor.setDecorations(this.highlight, [new vscode.Range(l, 0, l, 0)]);
    this.lastReveal = { uri: uri.toString(), line, focus };
  }

  private async testHook(arg: unknown): Promise<unknown> {
    const a = (typeof arg === 'object' && arg !== null ? arg : {}) as { action?: unknown; key?: unknown; message?: unknown };
    const panel = typeof a.key === 'string' ? this.panels.get(a.key) : undefined;
    switch (a.action) {
      case 'receive':
        if (!panel) throw new Error(`no panel ${String(a.key)}`);
        await panel.onMessage(a.message);
        return true;
      case 'post': {
        if (!panel) throw new Error(`no panel ${String(a.key)}`);
        const p = parseToWebview(a.message);
        if (!p.ok) throw new Error(p.error);
        return panel.post(p.value);
      }
      case 'closeAll':
        for (const p of [...this.panels.values()]) p.panel.dispose();
        return true;
      default:
        return { panels: [...this.panels.values()].map((p) => p.record()), lastReveal: this.lastReveal, refusedReveals: [...this.refusedReveals] };
    }
  }
}

/**
 * Registers the two commands, the panel serializer and the scenario documents.
 * Called once from activation; everything is disposed with the returned Disposable.
 */
export function registerPanel(context: vscode.ExtensionContext, services: PanelServices): vscode.Disposable {
  return new PanelManager(context, services);
}
