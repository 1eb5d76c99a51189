/**
 * Feature: palette commands (category "Refscope"). Each returns a small plain
 * result so scripts (and the integration tests) can tell what it did.
 * `refscope.simulateLifecycle` and `refscope.openScenario` are contributed in
 * package.json too but registered by the panel (panel.ts).
 */
import * as vscode from 'vscode';
import { functionAtLine } from '../core/hints';
import { buildSarif, type SarifArtifactLocation, type SarifFinding } from '../core/report/sarif';
import { RULES, ruleMeta } from '../core/rules/registry';
import { applySettings } from '../core/settings';
import type { Finding } from '../core/types';
import { utf8ByteLength } from '../core/util/text';
import { isKernelC } from './analyzer';
import type { RefscopeContext } from './context';
import { fileKey, toDiagnostic, toUri } from './convert';
import { readSettings } from './settings';

export const COMMANDS = {
  analyzeFile: 'refscope.analyzeFile',
  showOutput: 'refscope.showOutput',
  analyzeWorkspace: 'refscope.analyzeWorkspace',
  showLockScopes: 'refscope.showLockScopes',
  toggleHints: 'refscope.toggleHints',
  exportSarif: 'refscope.exportSarif',
  openRuleDocs: 'refscope.openRuleDocs',
  rebuildIndex: 'refscope.rebuildIndex',
} as const;

export interface WorkspaceAnalysis {
  files: number;
  findings: number;
  cancelled: boolean;
  /** Findings per workspace-relative path. */
  perFile: Record<string, number>;
}

export interface LockScopeItem {
  lock: string;
  kind: string;
  /** 1-based inclusive line ranges. */
  ranges: Array<{ start: number; end: number }>;
}

export function activate(ctx: RefscopeContext): void {
  /** Findings by document URI: open files (each analysis) and Analyze Workspace results. */
  const findings = new Map<string, { uri: vscode.Uri; findings: readonly Finding[] }>();
  ctx.register(ctx.analyzer.onDidAnalyze((ev) => findings.set(ev.document.uri.toString(), { uri: ev.document.uri, findings: ev.findings })));
  ctx.register(ctx.analyzer.onDidClear((uri) => findings.delete(uri.toString())));

  /**
   * Re-analyses the active editor's document (or `uri`) now and returns the
   * number of findings reported for it, or undefined when there is no C file to
   * analyse (or it is disabled or too large).
   */
  ctx.register(vscode.commands.registerCommand(COMMANDS.analyzeFile, async (uri?: vscode.Uri): Promise<number | undefined> => {
    const doc = uri instanceof vscode.Uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!doc || !isKernelC(doc)) {
      void vscode.window.showInformationMessage('Refscope: open a C file to analyse it.');
      return undefined;
    }
    const ev = await ctx.analyzer.analyzeNow(doc);
    if (!ev) return undefined;
    ctx.log.info(`${vscode.workspace.asRelativePath(doc.uri)}: ${ev.findings.length} findings (${ev.durationMs.toFixed(1)} ms)`);
    return ev.findings.length;
  }));

  /** Every indexed file analysed (progress notification, cancellable); findings go to the Problems panel. */
  ctx.register(vscode.commands.registerCommand(COMMANDS.analyzeWorkspace, (): Thenable<WorkspaceAnalysis> => vscode.window.withProgress({
    location: vscode.ProgressLocation.Notification,
    title: 'Refscope: analysing the workspace',
    cancellable: true,
  }, async (progress, token): Promise<WorkspaceAnalysis> => {
    progress.report({ message: 'indexing…' });
    try {
      await ctx.index.getIndex(token);
    } catch (e) {
      if (e instanceof vscode.CancellationError) return { files: 0, findings: 0, cancelled: true, perFile: {} };
      throw e;
    }
    const files = [...ctx.index.files];
    let done = 0;
    let total = 0;
    const perFile: Record<string, number> = {};
    const open = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.toString(), d]));
    for (const uri of files) {
      if (token.isCancellationRequested) return { files: done, findings: total, cancelled: true, perFile };
      progress.report({ message: vscode.workspace.asRelativePath(uri), increment: 100 / files.length });
      const settings = readSettings(uri);
      const doc = open.get(uri.toString());
      // An open document is analysed as it is in the editor; one that closed meanwhile is read from disk.
      const ev = doc && !doc.isClosed && isKernelC(doc) ? await ctx.analyzer.analyzeNow(doc) : undefined;
      if (ev) {
        total += ev.findings.length;
        perFile[vscode.workspace.asRelativePath(uri)] = ev.findings.length;
      } else {
        let text: string;
        try {
          text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
        } catch {
          continue;
        }
        if (!settings.enable || utf8ByteLength(text) > settings.maxFileSizeKB * 1024) continue;
        const key = fileKey(uri);
        try {
          const r = await ctx.backend.analyze(text, key);
          if (r) {
            const fs = applySettings(r.result.findings, settings);
            findings.set(uri.toString(), { uri, findings: fs });
            ctx.diagnostics.set(uri, fs.map((f) => toDiagnostic(f, uri)));
            total += fs.length;
            perFile[vscode.workspace.asRelativePath(uri)] = fs.length;
          }
        } catch (e) {
          ctx.log.warn(`analysis of ${vscode.workspace.asRelativePath(uri)} failed`, e);
        } finally {
          ctx.backend.close(key);
        }
      }
      done++;
    }
    ctx.log.info(`Analyze Workspace: ${done} files, ${total} findings`);
    return { files: done, findings: total, cancelled: false, perFile };
  })));

  /** The lock scopes of the function at the cursor, in a quick pick that reveals the chosen range. */
  ctx.register(vscode.commands.registerCommand(COMMANDS.showLockScopes, async (): Promise<LockScopeItem[]> => {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !isKernelC(editor.document)) {
      void vscode.window.showInformationMessage('Refscope: put the cursor in a C function to see its lock scopes.');
      return [];
    }
    const ev = await ctx.analyzer.current(editor.document);
    const fn = ev ? functionAtLine(ev.hints, editor.selection.active.line + 1) : undefined;
    if (!fn) {
      void vscode.window.showInformationMessage('Refscope: the cursor is not in a function.');
      return [];
    }
    const items: LockScopeItem[] = fn.lockScopes.map((s) => ({ lock: s.label, kind: s.kind, ranges: s.ranges }));
    if (!items.length) {
      void vscode.window.showInformationMessage(`Refscope: ${fn.name}() takes no lock.`);
      return items;
    }
    const picks = items.flatMap((s) => s.ranges.map((r) => ({ label: s.lock, description: `${s.kind}, lines ${r.start}–${r.end}`, range: r })));
    const qp = vscode.window.createQuickPick<(typeof picks)[number]>();
    qp.title = `Lock scopes in ${fn.name}()`;
    qp.items = picks;
    qp.onDidChangeActive((a) => {
      const r = a[0]?.range;
      if (r) editor.revealRange(new vscode.Range(r.start - 1, 0, r.end - 1, 0), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    });
    qp.onDidAccept(() => {
      const r = qp.selectedItems[0]?.range;
      if (r) editor.selection = new vscode.Selection(r.start - 1, 0, r.end - 1, editor.document.lineAt(r.end - 1).text.length);
      qp.hide();
    });
    qp.onDidHide(() => qp.dispose());
    qp.show();
    return items;
  }));

  /** Flips `refscope.hints.enable` (user settings); returns the new value. */
  ctx.register(vscode.commands.registerCommand(COMMANDS.toggleHints, async (): Promise<boolean> => {
    const cfg = vscode.workspace.getConfiguration('refscope');
    const next = !readSettings().hints.enable;
    await cfg.update('hints.enable', next, vscode.ConfigurationTarget.Global);
    void vscode.window.setStatusBarMessage(`Refscope hints ${next ? 'on' : 'off'}`, 2000);
    return next;
  }));

  /**
   * Writes the current findings as SARIF 2.1.0 to `target` (or a file chosen in
   * a save dialog; cancelled: an untitled JSON document). Returns where it went.
   */
  ctx.register(vscode.commands.registerCommand(COMMANDS.exportSarif, async (target?: vscode.Uri): Promise<string | undefined> => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const all: SarifFinding[] = [];
    for (const { uri, findings: fs } of [...findings.values()].sort((a, b) => a.uri.toString().localeCompare(b.uri.toString()))) {
      for (const f of fs) {
        all.push({
          rule: f.rule, severity: f.severity, file: uri.toString(), line: f.span.start.line, column: f.span.start.column,
          endLine: f.span.end.line, endColumn: f.span.end.column, function: f.function, message: f.message, scenario: f.scenario,
          trace: f.trace.map((t) => ({ ...t, file: toUri(t.file, uri).toString() })),
        });
      }
    }
    const root = folder ? folder.uri.toString().replace(/\/?$/, '/') : undefined;
    const artifact = (file: string): SarifArtifactLocation => (root && file.startsWith(root)
      ? { uri: file.slice(root.length), uriBaseId: '%SRCROOT%' }
      : { uri: file });
    const version = String((ctx.extension.extension.packageJSON as { version?: string }).version ?? '0.0.0');
    const text = JSON.stringify(buildSarif(all, { toolVersion: version, artifact, ...(root ? { rootUri: root } : {}) }), null, 2) + '\n';
    const dest = target instanceof vscode.Uri ? target : await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder.uri, 'refscope.sarif') : undefined,
      filters: { SARIF: ['sarif', 'json'] },
      title: 'Export Refscope findings as SARIF',
    });
    if (!dest) {
      const doc = await vscode.workspace.openTextDocument({ language: 'json', content: text });
      await vscode.window.showTextDocument(doc);
      return doc.uri.toString();
    }
    await vscode.workspace.fs.writeFile(dest, new TextEncoder().encode(text));
    ctx.log.info(`SARIF: ${all.length} findings written to ${dest.toString(true)}`);
    return dest.toString();
  }));

  /** Opens a rule's documentation (the page shipped in the extension, else its web page); `rule` or a quick pick. */
  ctx.register(vscode.commands.registerCommand(COMMANDS.openRuleDocs, async (rule?: string): Promise<string | undefined> => {
    let id = typeof rule === 'string' ? rule : undefined;
    if (!id) {
      const pick = await vscode.window.showQuickPick(RULES.map((r) => ({ label: r.id, description: r.shortDescription })), { title: 'Refscope rule documentation' });
      id = pick?.label;
    }
    const meta = id ? ruleMeta(id) : undefined;
    if (!meta) return undefined;
    const local = vscode.Uri.joinPath(ctx.extension.extensionUri, 'docs', 'rules', `${meta.id}.md`);
    try {
      await vscode.workspace.fs.stat(local);
    } catch {
      await vscode.env.openExternal(vscode.Uri.parse(meta.helpUri));
      return meta.helpUri;
    }
    try {
      await vscode.commands.executeCommand('markdown.showPreview', local);
    } catch {
      await vscode.window.showTextDocument(local, { preview: true });
    }
    return local.toString();
  }));

  /** Drops every cached fact and builds the workspace index again; returns the number of indexed files. */
  ctx.register(vscode.commands.registerCommand(COMMANDS.rebuildIndex, async (): Promise<number> => {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Refscope: rebuilding the index' }, () => ctx.index.rebuild());
    return ctx.index.files.length;
  }));
}
