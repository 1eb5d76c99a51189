/**
 * Feature: "Review Changes" and the "Refscope Review" view (desktop host).
 *
 * The command compares a base (HEAD, a branch, a commit, any revision) with the
 * working tree through the built-in Git extension's API: every changed C file is
 * read at the base (`repository.show`) and as it is now (the open document, else
 * the disk), analysed at both ends by the same backend as the editor, and the
 * findings classified by the core (src/core/review/session.ts). The view lists
 * the new and fixed findings by file and function; each opens its location and
 * lists its trace and, where it has one, its race scenario. New findings on lines
 * the change touched get one decoration, new findings whose lines did not change
 * (the change is elsewhere on the path) another; old findings keep their plain
 * diagnostics. The review runs again on commit, checkout and save.
 * In the web host there is no local Git: the command says so.
 */
import * as vscode from 'vscode';
import { compareReview, groupReview, type ReviewFileGroup, type ReviewFileInput, type ReviewItem } from '../core/review/session';
import { applySettings } from '../core/settings';
import type { Finding, TraceStep } from '../core/types';
import { utf8ByteLength } from '../core/util/text';
import type { RefscopeContext } from './context';
import { fileKey, toRange, toUri } from './convert';
import { Disposable } from './dispose';
import { gitApi, type GitAPI, type GitRepository } from './gitApi';
import { readSettings } from './settings';

export const REVIEW_COMMANDS = {
  reviewChanges: 'refscope.reviewChanges',
  refresh: 'refscope.review.refresh',
  clear: 'refscope.review.clear',
  open: 'refscope.review.open',
} as const;

export const REVIEW_VIEW = 'refscope.review';

/** Arguments of `refscope.reviewChanges` (all optional: without them the command asks). */
export interface ReviewArgs {
  /** File-system path of (or inside) the repository. */
  repository?: string;
  /** Revision to compare the working tree with: `HEAD`, a branch, a commit. */
  base?: string;
}

export interface ReviewSummary {
  repository: string;
  base: string;
  baseCommit: string;
  files: number;
  skipped: string[];
  introduced: number;
  fixed: number;
  unchanged: number;
  durationMs: number;
  /** Increases with every completed review (the view refreshed). */
  revision: number;
}

export type ReviewResult = ReviewSummary | { error: string };

/** The view's contents as plain data (what the tree shows), for the integration tests. */
export interface ReviewSnapshotNode {
  kind: NodeKind;
  label: string;
  description: string;
  children: ReviewSnapshotNode[];
  /** The command a click runs, with its first argument's scenario (scenario nodes). */
  command?: string;
  /** The command's first argument. */
  args?: unknown;
  scenario?: string;
}

export interface ReviewSnapshot {
  summary: ReviewSummary | null;
  message: string;
  tree: ReviewSnapshotNode[];
  /** Review decorations per open editor: 1-based lines. */
  decorations: Array<{ file: string; line: number; kind: 'changed-line' | 'elsewhere' }>;
}

type NodeKind = 'file' | 'function' | 'finding' | 'trace' | 'scenario';

type Node =
  | { kind: 'file'; group: ReviewFileGroup }
  | { kind: 'function'; path: string; name: string; items: ReviewItem[] }
  | { kind: 'finding'; item: ReviewItem }
  | { kind: 'trace'; item: ReviewItem; step: TraceStep; index: number }
  | { kind: 'scenario'; item: ReviewItem };

const C_FILE = /\.(c|h)$/i;
const REFRESH_DELAY_MS = 400;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

interface Run {
  args: Required<ReviewArgs>;
  repo: GitRepository;
  api: GitAPI;
  summary: ReviewSummary;
  items: ReviewItem[];
  groups: ReviewFileGroup[];
  /** The analysed URI of each end of each display path. */
  baseUri: Map<string, vscode.Uri>;
  headUri: Map<string, vscode.Uri>;
  /** HEAD when the review ran (a commit or a checkout changes it). */
  headState: string;
}

export class ReviewController extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly changed = this._register(new vscode.EventEmitter<Node | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<Node>;
  private readonly onChangedLine: vscode.TextEditorDecorationType;
  private readonly elsewhere: vscode.TextEditorDecorationType;
  private run: Run | undefined;
  private revision = 0;
  private repoListener: vscode.Disposable | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<ReviewResult> | undefined;
  private readonly applied = new Map<string, ReviewSnapshot['decorations']>();

  constructor(private readonly ctx: RefscopeContext) {
    super();
    this.view = this._register(vscode.window.createTreeView(REVIEW_VIEW, { treeDataProvider: this, showCollapseAll: true }));
    this.onChangedLine = this._register(vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      backgroundColor: new vscode.ThemeColor('refscope.review.changedLineFinding.background'),
      overviewRulerColor: new vscode.ThemeColor('refscope.review.newFinding.foreground'),
      overviewRulerLane: vscode.OverviewRulerLane.Left,
      after: { contentText: '  ◆ Refscope: new in this change', color: new vscode.ThemeColor('refscope.review.newFinding.foreground'), fontStyle: 'italic' },
    }));
    this.elsewhere = this._register(vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      overviewRulerColor: new vscode.ThemeColor('refscope.review.newFinding.foreground'),
      overviewRulerLane: vscode.OverviewRulerLane.Left,
      after: { contentText: '  ◇ Refscope: new, the change is elsewhere on this path', color: new vscode.ThemeColor('refscope.review.newFinding.foreground'), fontStyle: 'italic' },
    }));
    this._register(vscode.window.onDidChangeVisibleTextEditors(() => this.decorate()));
    this._register(vscode.workspace.onDidSaveTextDocument((doc) => {
      const r = this.run;
      if (r && C_FILE.test(doc.uri.path) && doc.uri.scheme === 'file' && (doc.uri.fsPath + '/').startsWith(r.repo.rootUri.fsPath + '/')) this.scheduleRefresh();
    }));
    this._register({ dispose: () => {
      this.repoListener?.dispose();
      if (this.refreshTimer) clearTimeout(this.refreshTimer);
    } });
  }

  /* ------------------------------------------------------------ command */

  async review(arg: unknown): Promise<ReviewResult> {
    if (this.ctx.host === 'web') {
      const msg = 'Review Changes needs a local Git repository, which the web host cannot reach. Open the folder in desktop VS Code, or run `refscope check --since HEAD` in a terminal of the repository.';
      void vscode.window.showInformationMessage(`Refscope: ${msg}`);
      return { error: msg };
    }
    const a: ReviewArgs = typeof arg === 'object' && arg !== null ? (arg as ReviewArgs) : {};
    const api = await gitApi();
    if (typeof api === 'string') return this.fail(`Review Changes needs Git: ${api}.`);
    const repo = await this.pickRepository(api, typeof a.repository === 'string' ? a.repository : undefined);
    if (!repo) {
      return this.fail(typeof a.repository === 'string'
        ? `the Git extension has no repository at ${a.repository} (not a Git work tree, or outside the workspace while git.openRepositoryInParentFolders is not "always")`
        : 'no Git repository is open; open a folder under Git first.', !a.repository);
    }
    const base = typeof a.base === 'string' && a.base.trim() ? a.base.trim() : await this.pickBase(repo);
    if (!base) return { error: 'cancelled' };
    return this.start({ repository: repo.rootUri.fsPath, base }, api, repo);
  }

  private fail(msg: string, quiet = false): ReviewResult {
    if (!quiet) void vscode.window.showErrorMessage(`Refscope: ${msg}`);
    else void vscode.window.showInformationMessage(`Refscope: ${msg}`);
    return { error: msg };
  }

  private async pickRepository(api: GitAPI, path: string | undefined): Promise<GitRepository | null> {
    if (path !== undefined) {
      const uri = vscode.Uri.file(path);
      return api.getRepository(uri) ?? (await api.openRepository(uri));
    }
    const repos = api.repositories;
    if (repos.length <= 1) {
      const active = vscode.window.activeTextEditor?.document.uri;
      return repos[0] ?? (active ? api.getRepository(active) : null);
    }
    const pick = await vscode.window.showQuickPick(repos.map((r) => ({ label: vscode.workspace.asRelativePath(r.rootUri, true), description: r.rootUri.fsPath, repo: r })), { title: 'Refscope: review which repository?' });
    return pick?.repo ?? null;
  }

  private async pickBase(repo: GitRepository): Promise<string | undefined> {
    type Pick = vscode.QuickPickItem & { rev?: string; other?: boolean };
    const picks: Pick[] = [{ label: 'HEAD', description: 'uncommitted changes', rev: 'HEAD' }];
    try {
      const branches = await repo.getBranches({ remote: false, sort: 'committerdate', count: 30 });
      const current = repo.state.HEAD?.name;
      if (branches.length) picks.push({ label: 'Branches', kind: vscode.QuickPickItemKind.Separator });
      for (const b of branches) if (b.name && b.name !== current) picks.push({ label: b.name, description: b.commit?.slice(0, 12), rev: b.name, iconPath: new vscode.ThemeIcon('git-branch') });
    } catch (e) {
      this.ctx.log.warn('review: listing branches failed', e);
    }
    try {
      const commits = await repo.log({ maxEntries: 20 });
      if (commits.length) picks.push({ label: 'Commits', kind: vscode.QuickPickItemKind.Separator });
      for (const c of commits) picks.push({ label: c.hash.slice(0, 12), description: c.message.split('\n')[0], detail: c.authorName, rev: c.hash, iconPath: new vscode.ThemeIcon('git-commit') });
    } catch (e) {
      this.ctx.log.warn('review: reading the log failed', e);
    }
    picks.push({ label: 'Other revision…', description: 'a tag, a branch, origin/main, HEAD~3, a commit', other: true });
    const pick = await vscode.window.showQuickPick(picks, { title: 'Refscope: Review Changes since…', placeHolder: 'The working tree is compared with this revision', matchOnDescription: true });
    if (!pick) return undefined;
    if (!pick.other) return pick.rev;
    const rev = await vscode.window.showInputBox({ title: 'Refscope: Review Changes since…', prompt: 'Any revision git understands', value: 'HEAD~1' });
    return rev?.trim() || undefined;
  }

  /* ------------------------------------------------------------ running */

  private start(args: Required<ReviewArgs>, api: GitAPI, repo: GitRepository): Promise<ReviewResult> {
    if (this.running) {
      // Queue behind the running review, then run with the newest arguments.
      const prev = this.running;
      const next = prev.catch(() => undefined).then(() => this.execute(args, api, repo));
      this.running = next.finally(() => {
        if (this.running === next) this.running = undefined;
      });
      return next;
    }
    const p = this.execute(args, api, repo);
    this.running = p.finally(() => {
      if (this.running === p) this.running = undefined;
    });
    return p;
  }

  private async execute(args: Required<ReviewArgs>, api: GitAPI, repo: GitRepository): Promise<ReviewResult> {
    return vscode.window.withProgress({ location: { viewId: REVIEW_VIEW }, title: 'Refscope: reviewing changes' }, async () => {
      const t0 = performance.now();
      let baseCommit: string;
      try {
        baseCommit = (await repo.getCommit(args.base)).hash;
      } catch (e) {
        return this.fail(`'${args.base}' is not a revision of ${repo.rootUri.fsPath} (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
      }
      let changes;
      try {
        changes = await repo.diffWith(baseCommit);
      } catch (e) {
        return this.fail(`git diff ${baseCommit.slice(0, 12)} failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
      const root = repo.rootUri;
      const rel = (u: vscode.Uri): string => {
        const r = u.fsPath.startsWith(root.fsPath + '/') ? u.fsPath.slice(root.fsPath.length + 1) : u.fsPath;
        return r.split('\\').join('/');
      };
      const pairs = new Map<string, { base: vscode.Uri | null; head: vscode.Uri | null }>();
      for (const c of changes) {
        const head = c.renameUri ?? c.uri;
        const base = c.originalUri;
        if (!C_FILE.test(head.path) && !C_FILE.test(base.path)) continue;
        pairs.set(rel(head), { base: C_FILE.test(base.path) ? base : null, head: C_FILE.test(head.path) ? head : null });
      }
      for (const c of repo.state.untrackedChanges) if (C_FILE.test(c.uri.path) && !pairs.has(rel(c.uri))) pairs.set(rel(c.uri), { base: null, head: c.uri });
      const files: ReviewFileInput[] = [];
      const skipped: string[] = [];
      const baseUri = new Map<string, vscode.Uri>();
      const headUri = new Map<string, vscode.Uri>();
      const open = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.toString(), d]));
      for (const [path, p] of [...pairs.entries()].sort((x, y) => x[0].localeCompare(y[0]))) {
        const settings = readSettings(p.head ?? p.base ?? root);
        if (!settings.enable) {
          skipped.push(`${path} (refscope.enable is off)`);
          continue;
        }
        const basePath = p.base ? rel(p.base) : path;
        let baseText: string | null = null;
        if (p.base) {
          try {
            baseText = await repo.show(baseCommit, p.base.fsPath);
          } catch {
            baseText = null; // added since the base
          }
        }
        let headText: string | null = null;
        const doc = p.head ? open.get(p.head.toString()) : undefined;
        if (doc && !doc.isClosed) headText = doc.getText();
        else if (p.head) {
          try {
            headText = new TextDecoder().decode(await vscode.workspace.fs.readFile(p.head));
          } catch {
            headText = null; // deleted in the working tree
          }
        }
        if (baseText === null && headText === null) continue;
        const limit = settings.maxFileSizeKB * 1024;
        if ((baseText !== null && utf8ByteLength(baseText) > limit) || (headText !== null && utf8ByteLength(headText) > limit)) {
          skipped.push(`${path} (larger than refscope.maxFileSizeKB)`);
          continue;
        }
        const input: ReviewFileInput = { path, base: null, head: null };
        if (basePath !== path) input.basePath = basePath;
        try {
          if (baseText !== null && p.base) {
            const u = api.toGitUri(p.base, baseCommit);
            baseUri.set(basePath, u);
            input.base = { text: baseText, findings: await this.analyse(baseText, u, settings) };
          }
          if (headText !== null && p.head) {
            headUri.set(path, p.head);
            const ev = doc && !doc.isClosed ? await this.ctx.analyzer.analyzeNow(doc) : undefined;
            input.head = { text: headText, findings: ev ? ev.findings : await this.analyse(headText, p.head, settings) };
          }
        } catch (e) {
          this.ctx.log.warn(`review: analysis of ${path} failed`, e);
          skipped.push(`${path} (analysis failed: ${e instanceof Error ? e.message : String(e)})`);
          continue;
        }
        files.push(input);
      }
      const keyOf = (path: string, end: 'base' | 'head'): string => {
        const u = (end === 'base' ? baseUri : headUri).get(path);
        return u ? fileKey(u) : path;
      };
      const cmp = compareReview(files, keyOf);
      const items = cmp.items;
      const summary: ReviewSummary = {
        repository: root.fsPath,
        base: args.base,
        baseCommit,
        files: files.length,
        skipped,
        introduced: items.filter((i) => i.status === 'new').length,
        fixed: items.filter((i) => i.status === 'fixed').length,
        unchanged: cmp.unchanged,
        durationMs: Math.round(performance.now() - t0),
        revision: ++this.revision,
      };
      this.watch(repo);
      this.run = { args, repo, api, summary, items, groups: groupReview(items), baseUri, headUri, headState: headState(repo) };
      this.view.message = this.message();
      this.view.description = `since ${args.base}`;
      void vscode.commands.executeCommand('setContext', 'refscope.review.active', true);
      this.changed.fire(undefined);
      this.decorate();
      this.ctx.log.info(`Review Changes since ${args.base} (${baseCommit.slice(0, 12)}): ${summary.files} files, ${summary.introduced} new, ${summary.fixed} fixed, ${summary.unchanged} unchanged (${summary.durationMs} ms)${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}`);
      return summary;
    });
  }

  /** A file's findings at one end (not an open document): analysed under `uri`'s key, then dropped. */
  private async analyse(text: string, uri: vscode.Uri, settings: ReturnType<typeof readSettings>): Promise<Finding[]> {
    const key = fileKey(uri);
    try {
      const r = await this.ctx.backend.analyze(text, key);
      return r ? applySettings(r.result.findings, settings) : [];
    } finally {
      this.ctx.backend.close(key);
    }
  }

  private message(): string {
    const r = this.run;
    if (!r) return '';
    const s = r.summary;
    const head = `${plural(s.introduced, 'new finding')}, ${s.fixed} fixed, ${s.unchanged} unchanged since ${s.base} (${s.baseCommit.slice(0, 7)}) in ${plural(s.files, 'changed C file')}`;
    return s.skipped.length ? `${head}; skipped ${s.skipped.length}` : head;
  }

  private watch(repo: GitRepository): void {
    if (this.run?.repo === repo && this.repoListener) return;
    this.repoListener?.dispose();
    this.repoListener = repo.state.onDidChange(() => {
      const r = this.run;
      if (r && r.repo === repo && headState(repo) !== r.headState) this.scheduleRefresh();
    });
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, REFRESH_DELAY_MS);
  }

  /** The last review again (same repository and base revision, HEAD and the working tree as they are now). */
  async refresh(): Promise<ReviewResult> {
    const r = this.run;
    if (!r) return { error: 'no review to refresh: run Refscope: Review Changes first' };
    return this.start(r.args, r.api, r.repo);
  }

  clear(): void {
    this.run = undefined;
    this.repoListener?.dispose();
    this.repoListener = undefined;
    this.view.message = undefined;
    this.view.description = undefined;
    void vscode.commands.executeCommand('setContext', 'refscope.review.active', false);
    this.changed.fire(undefined);
    this.decorate();
  }

  /* ------------------------------------------------------------ editor decorations */

  private decorate(): void {
    this.applied.clear();
    const r = this.run;
    for (const editor of vscode.window.visibleTextEditors) {
      const changedRanges: vscode.DecorationOptions[] = [];
      const elsewhereRanges: vscode.DecorationOptions[] = [];
      const key = editor.document.uri.toString();
      const decs: ReviewSnapshot['decorations'] = [];
      if (r) {
        for (const it of r.items) {
          if (it.status !== 'new' || r.headUri.get(it.path)?.toString() !== key) continue;
          const line = Math.min(Math.max(0, it.finding.span.start.line - 1), Math.max(0, editor.document.lineCount - 1));
          const hover = new vscode.MarkdownString(`**Refscope Review** — new since \`${r.summary.base}\`${it.onChangedLine ? ' on a line this change touched' : '; the lines changed are elsewhere on its path'}: ${it.finding.message} \`[${it.finding.rule}]\``);
          const opt: vscode.DecorationOptions = { range: new vscode.Range(line, 0, line, 0), hoverMessage: hover };
          (it.onChangedLine ? changedRanges : elsewhereRanges).push(opt);
          decs.push({ file: key, line: line + 1, kind: it.onChangedLine ? 'changed-line' : 'elsewhere' });
        }
      }
      editor.setDecorations(this.onChangedLine, changedRanges);
      editor.setDecorations(this.elsewhere, elsewhereRanges);
      if (decs.length) this.applied.set(key, decs);
    }
  }

  /* ------------------------------------------------------------ the tree */

  getChildren(node?: Node): Node[] {
    const r = this.run;
    if (!r) return [];
    if (!node) return r.groups.map((group) => ({ kind: 'file', group }));
    switch (node.kind) {
      case 'file':
        return node.group.functions.map((f) => ({ kind: 'function', path: node.group.path, name: f.name, items: f.items }));
      case 'function':
        return node.items.map((item) => ({ kind: 'finding', item }));
      case 'finding': {
        const steps: Node[] = node.item.finding.trace.map((step, index) => ({ kind: 'trace', item: node.item, step, index }));
        return node.item.finding.scenario ? [{ kind: 'scenario', item: node.item }, ...steps] : steps;
      }
      default:
        return [];
    }
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const r = this.run!;
    switch (node.kind) {
      case 'file': {
        const g = node.group;
        const t = new vscode.TreeItem(g.path, vscode.TreeItemCollapsibleState.Expanded);
        t.description = counts(g.introduced, g.fixed);
        const u = r.headUri.get(g.path) ?? r.baseUri.get(g.path);
        if (u) t.resourceUri = u;
        t.contextValue = 'refscope.review.file';
        return t;
      }
      case 'function': {
        const t = new vscode.TreeItem(`${node.name}()`, vscode.TreeItemCollapsibleState.Expanded);
        t.description = counts(node.items.filter((i) => i.status === 'new').length, node.items.filter((i) => i.status === 'fixed').length);
        t.iconPath = new vscode.ThemeIcon('symbol-function');
        t.contextValue = 'refscope.review.function';
        return t;
      }
      case 'finding': {
        const it = node.item;
        const f = it.finding;
        const hasChildren = f.trace.length > 0 || f.scenario !== null;
        const t = new vscode.TreeItem(`${f.rule}: ${f.message}`, hasChildren ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        t.description = findingDescription(it);
        t.iconPath = it.status === 'new'
          ? new vscode.ThemeIcon(it.onChangedLine ? 'diff-added' : 'diff-modified', new vscode.ThemeColor('refscope.review.newFinding.foreground'))
          : new vscode.ThemeIcon('pass', new vscode.ThemeColor('refscope.review.fixedFinding.foreground'));
        const tip = new vscode.MarkdownString();
        tip.appendMarkdown(`**${it.status === 'new' ? 'New' : 'Fixed'}** since \`${r.summary.base}\` — \`${f.rule}\` in \`${f.function}()\`\n\n`);
        tip.appendText(f.message);
        if (f.trace.length) tip.appendMarkdown('\n\n' + f.trace.map((s) => `- line ${s.line}: ${escapeMd(s.message)}`).join('\n'));
        t.tooltip = tip;
        t.command = { command: REVIEW_COMMANDS.open, title: 'Open', arguments: [{ path: it.path, status: it.status, line: f.span.start.line, column: f.span.start.column, endLine: f.span.end.line, endColumn: f.span.end.column }] };
        t.contextValue = `refscope.review.finding.${it.status}`;
        return t;
      }
      case 'trace': {
        const s = node.step;
        const t = new vscode.TreeItem(s.message, vscode.TreeItemCollapsibleState.None);
        t.description = `line ${s.line}`;
        t.iconPath = new vscode.ThemeIcon('debug-stackframe-dot');
        t.command = { command: REVIEW_COMMANDS.open, title: 'Open', arguments: [{ path: node.item.path, status: node.item.status, file: s.file, line: s.line, column: s.column }] };
        return t;
      }
      case 'scenario': {
        const id = node.item.finding.scenario!;
        const t = new vscode.TreeItem(`Play race scenario: ${id}`, vscode.TreeItemCollapsibleState.None);
        t.iconPath = new vscode.ThemeIcon('play');
        t.command = { command: 'refscope.openScenario', title: 'Play race scenario', arguments: [{ scenario: id }] };
        return t;
      }
    }
  }

  /** Opens a finding or trace step: the working-tree file for new findings, the base version (read-only) for fixed ones. */
  async open(arg: unknown): Promise<boolean> {
    const r = this.run;
    if (!r || typeof arg !== 'object' || arg === null) return false;
    const a = arg as { path?: unknown; status?: unknown; file?: unknown; line?: unknown; column?: unknown; endLine?: unknown; endColumn?: unknown };
    if (typeof a.path !== 'string' || typeof a.line !== 'number') return false;
    const analysed = (a.status === 'fixed' ? r.baseUri : r.headUri).get(a.path);
    if (!analysed) return false;
    const uri = typeof a.file === 'string' ? toUri(a.file, analysed) : analysed;
    const col = typeof a.column === 'number' ? a.column : 1;
    const range = toRange({
      start: { line: a.line, column: col, offset: 0 },
      end: { line: typeof a.endLine === 'number' ? a.endLine : a.line, column: typeof a.endColumn === 'number' ? a.endColumn : col, offset: 0 },
    });
    await vscode.window.showTextDocument(uri, { selection: range, preview: true });
    return true;
  }

  /* ------------------------------------------------------------ for tests */

  snapshot(): ReviewSnapshot {
    const walk = (n: Node): ReviewSnapshotNode => {
      const t = this.getTreeItem(n);
      const label = typeof t.label === 'string' ? t.label : t.label?.label ?? '';
      const out: ReviewSnapshotNode = { kind: n.kind, label, description: typeof t.description === 'string' ? t.description : '', children: this.getChildren(n).map(walk) };
      if (t.command) {
        out.command = t.command.command;
        if (t.command.arguments?.length) out.args = t.command.arguments[0];
      }
      if (n.kind === 'scenario') out.scenario = n.item.finding.scenario!;
      return out;
    };
    return {
      summary: this.run?.summary ?? null,
      message: this.view.message ?? '',
      tree: this.getChildren().map(walk),
      decorations: [...this.applied.values()].flat(),
    };
  }
}

function headState(repo: GitRepository): string {
  const h = repo.state.HEAD;
  return `${h?.name ?? ''}@${h?.commit ?? ''}`;
}

function counts(introduced: number, fixed: number): string {
  return [introduced ? `${introduced} new` : '', fixed ? `${fixed} fixed` : ''].filter(Boolean).join(', ');
}

function findingDescription(it: ReviewItem): string {
  const line = it.finding.span.start.line;
  if (it.status === 'fixed') return `fixed · line ${line} at the base`;
  return it.onChangedLine ? `new · line ${line} (changed line)` : `new · line ${line} (change elsewhere on its path)`;
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

export function activate(ctx: RefscopeContext): ReviewController {
  const c = ctx.register(new ReviewController(ctx));
  ctx.register(vscode.commands.registerCommand(REVIEW_COMMANDS.reviewChanges, (arg?: unknown) => c.review(arg)));
  ctx.register(vscode.commands.registerCommand(REVIEW_COMMANDS.refresh, () => c.refresh()));
  ctx.register(vscode.commands.registerCommand(REVIEW_COMMANDS.clear, () => c.clear()));
  ctx.register(vscode.commands.registerCommand(REVIEW_COMMANDS.open, (arg?: unknown) => c.open(arg)));
  return c;
}
