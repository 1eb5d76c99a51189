/**
 * Drives the built lifecycle webview (dist/webview.js + dist/webview.css) in
 * Debian's Chromium through playwright-core. The page is the panel's own HTML
 * (src/vscode/panelHtml.ts: same CSP, nonce, scripts) served by a tiny local
 * HTTP server, with a stub host script that provides `acquireVsCodeApi`
 * (messages to the host are recorded, state goes to sessionStorage so it
 * survives a reload) and the theme's --vscode-* variables, as VS Code sets them.
 * The data is real: library scenarios compiled by the real parser and explored
 * by the real simulator, lifecycle models extracted from C fixtures.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { buildWorkspaceIndex, extractFileFacts } from '../../src/core/index/index';
import { parseScenario } from '../../src/core/scenarios/format';
import { findBuiltin, parseBuiltin } from '../../src/core/scenarios/library';
import { explore } from '../../src/core/sim/explore';
import { buildCombinationModel, extractLifecycle } from '../../src/core/sim/lifecycle';
import { nodeParser } from '../../src/node/assets';
import { PROTOCOL_VERSION, type RunResult, type ToHost, type ToWebview } from '../../src/shared/protocol';
import { libraryItems, lifecycleView, scenarioView } from '../../src/vscode/panelData';
import { makeNonce, panelHtml } from '../../src/vscode/panelHtml';

export const ROOT = join(dirname(__filename), '..', '..');
export const CHROMIUM = process.env.REFSCOPE_CHROMIUM ?? '/usr/bin/chromium';
export const SEED = 'seed-struct-mutex-around-unref/broken';

/** Builds dist/ when the webview bundle is missing or older than its sources. */
export function ensureBuilt(): void {
  const out = join(ROOT, 'dist', 'webview.js');
  const newest = Math.max(...['media/main.ts', 'media/diagram.ts', 'media/runner.ts', 'media/dom.ts', 'media/simWorker.ts', 'media/webview.css', 'src/shared/protocol.ts'].map((f) => statSync(join(ROOT, f)).mtimeMs));
  if (existsSync(out) && statSync(out).mtimeMs >= newest) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scripts/build.mjs failed');
}

/* ------------------------------------------------------------ data */

export interface Fed {
  init: Extract<ToWebview, { type: 'init' }>;
  result: RunResult;
}

/** The seed scenario's broken variant, compiled and explored for real. */
export async function seedRace(): Promise<Fed & { explore: Extract<ToWebview, { type: 'explore' }> }> {
  const parser = await nodeParser();
  const v = findBuiltin(SEED)[0]!;
  const s = parseBuiltin(parser, v);
  const r = explore(s.model);
  const id = SEED.split('/')[0]!;
  return {
    init: { type: 'init', version: PROTOCOL_VERSION, subject: { kind: 'scenario', scenario: scenarioView(v) }, library: libraryItems() },
    result: {
      runId: 1, label: `scenario ${SEED}`, roles: s.model.threads.map((t) => s.model.programs[t]!.name), scenario: { id, variant: v.variant, expect: v.meta.expect },
      verdict: r.verdict, violations: r.violations, states: r.states, transitions: r.transitions, stoppedBecause: r.stoppedBecause, ms: 1,
    },
    explore: {
      type: 'explore', runId: 7, label: `scenario ${SEED}`, roles: s.model.threads.map((t) => s.model.programs[t]!.name), scenario: { id, variant: v.variant, expect: v.meta.expect },
      model: s.model, maxStates: 500_000,
    },
  };
}

/** A generated scenario: `threads` threads, each kref_get, `rounds` x (lock, increment, unlock), kref_put (safe). */
export function lockRoundsScenario(threads: number, rounds: number): string {
  const body = Array.from({ length: rounds }, () => '\tmutex_lock(&obj_lock);\n\tobj->data++;\n\tmutex_unlock(&obj_lock);\n').join('');
  const fns = Array.from({ length: threads }, (_, i) => `void thread_${i}(void)\n{\n\tkref_get(&obj->ref);\n${body}\tkref_put(&obj->ref, obj_release);\n}\n`).join('\n');
  return `/*
 * title: generated: ${threads} threads x ${2 + 3 * rounds} ops
 * expect safe
 * holds-ref: obj
 */
struct obj {
\tstruct kref ref;
\tint data;
};

static DEFINE_MUTEX(obj_lock);
static struct obj *obj;

static void obj_release(struct kref *ref)
{
\tstruct obj *o = container_of(ref, struct obj, ref);

\tkfree(o);
}

void setup(void)
{
\tobj = kzalloc(sizeof(*obj), GFP_KERNEL);
\tkref_init(&obj->ref);
}

${fns}`;
}

/** The explore message and Node's own verdict for a generated scenario. */
export async function generatedRun(threads: number, rounds: number): Promise<{ explore: Extract<ToWebview, { type: 'explore' }>; states: number; verdict: string }> {
  const parser = await nodeParser();
  const sc = parseScenario(parser, lockRoundsScenario(threads, rounds), 'generated.rsim');
  const r = explore(sc.model, { maxStates: 500_000 });
  return {
    explore: { type: 'explore', runId: 21, label: sc.meta.title, roles: sc.model.threads.map((t) => sc.model.programs[t]!.name), model: sc.model, maxStates: 500_000 },
    states: r.states,
    verdict: r.verdict,
  };
}

/** The explore message of a generated lock-rounds scenario, not explored here (for runs meant to be cancelled). */
export async function generatedExplore(threads: number, rounds: number, runId: number): Promise<Extract<ToWebview, { type: 'explore' }>> {
  const parser = await nodeParser();
  const sc = parseScenario(parser, lockRoundsScenario(threads, rounds), 'generated.rsim');
  return { type: 'explore', runId, label: sc.meta.title, roles: sc.model.threads.map((t) => sc.model.programs[t]!.name), model: sc.model, maxStates: 5_000_000 };
}

/** A file name that is markup, for the injection test. */
export const EVIL_FILE = 'drivers/evil<img src=x onerror="window.__pwned=5">.c';

/** The injection fixture: a lifecycle model whose op texts carry the fixture's markup comments, explored for real. */
export async function injectionRace(): Promise<Fed & { explore: Extract<ToWebview, { type: 'explore' }> }> {
  const parser = await nodeParser();
  const text = readFileSync(join(ROOT, 'test/webview/fixtures/injection.c'), 'utf8');
  const index = buildWorkspaceIndex([extractFileFacts(parser, text, EVIL_FILE)]);
  const lines = text.split('\n');
  const lm = extractLifecycle(index, 'struct widget', { sourceLine: (f, l) => (f === EVIL_FILE ? lines[l - 1] : undefined) });
  const roles = [lm.roles.find((r) => r.kind === 'lookup')!.name, lm.roles.find((r) => r.kind === 'put')!.name];
  const model = buildCombinationModel(lm, roles);
  const r = explore(model, { maxStates: 200_000 });
  return {
    init: { type: 'init', version: PROTOCOL_VERSION, subject: { kind: 'lifecycle', lifecycle: lifecycleView(lm, index) }, library: libraryItems() },
    result: { runId: 3, label: roles.join(' + '), roles, verdict: r.verdict, violations: r.violations, states: r.states, transitions: r.transitions, stoppedBecause: r.stoppedBecause, ms: 1 },
    // What the panel sends for the webview's "Run selected roles" (the lifecycle model, explored in the webview's worker).
    explore: { type: 'explore', runId: 11, label: roles.join(' + '), roles, model, maxStates: 200_000 },
  };
}

/* ------------------------------------------------------------ themes (VS Code's default Light/Dark Modern values) */

const COMMON: Record<string, string> = {
  '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': '"Droid Sans Mono", "monospace", monospace',
  '--vscode-editor-font-size': '13px',
};
export const THEMES: Record<'light' | 'dark', Record<string, string>> = {
  light: {
    ...COMMON,
    '--vscode-foreground': '#3b3b3b', '--vscode-descriptionForeground': '#3b3b3b', '--vscode-editor-background': '#ffffff',
    '--vscode-editorWidget-background': '#f8f8f8', '--vscode-panel-border': '#e5e5e5', '--vscode-widget-border': '#e5e5e5',
    '--vscode-button-background': '#005fb8', '--vscode-button-foreground': '#ffffff', '--vscode-button-hoverBackground': '#0258a8',
    '--vscode-button-secondaryBackground': '#e5e5e5', '--vscode-button-secondaryForeground': '#3b3b3b', '--vscode-button-secondaryHoverBackground': '#cccccc',
    '--vscode-button-border': '#0000001a', '--vscode-textLink-foreground': '#005fb8', '--vscode-textLink-activeForeground': '#005fb8',
    '--vscode-focusBorder': '#005fb8', '--vscode-badge-background': '#cccccc', '--vscode-badge-foreground': '#3b3b3b',
    '--vscode-list-hoverBackground': '#f2f2f2', '--vscode-list-activeSelectionBackground': '#e8e8e8', '--vscode-list-activeSelectionForeground': '#000000',
    '--vscode-errorForeground': '#f85149', '--vscode-editorWarning-foreground': '#bf8803', '--vscode-testing-iconPassed': '#388a34',
    '--vscode-inputValidation-errorBackground': '#f2dede', '--vscode-inputValidation-warningBackground': '#f6f5d2', '--vscode-inputValidation-warningBorder': '#b89500',
    '--vscode-diffEditor-insertedTextBackground': '#9ccc2c40', '--vscode-dropdown-background': '#ffffff', '--vscode-dropdown-foreground': '#3b3b3b',
    '--vscode-dropdown-border': '#cecece', '--vscode-progressBar-background': '#005fb8', '--vscode-toolbar-hoverBackground': '#b8b8b850',
  },
  dark: {
    ...COMMON,
    '--vscode-foreground': '#cccccc', '--vscode-descriptionForeground': '#9d9d9d', '--vscode-editor-background': '#1f1f1f',
    '--vscode-editorWidget-background': '#202020', '--vscode-panel-border': '#2b2b2b', '--vscode-widget-border': '#313131',
    '--vscode-button-background': '#0078d4', '--vscode-button-foreground': '#ffffff', '--vscode-button-hoverBackground': '#026ec1',
    '--vscode-button-secondaryBackground': '#313131', '--vscode-button-secondaryForeground': '#cccccc', '--vscode-button-secondaryHoverBackground': '#3c3c3c',
    '--vscode-button-border': '#ffffff12', '--vscode-textLink-foreground': '#4daafc', '--vscode-textLink-activeForeground': '#4daafc',
    '--vscode-focusBorder': '#0078d4', '--vscode-badge-background': '#616161', '--vscode-badge-foreground': '#f8f8f8',
    '--vscode-list-hoverBackground': '#2a2d2e', '--vscode-list-activeSelectionBackground': '#04395e', '--vscode-list-activeSelectionForeground': '#ffffff',
    '--vscode-errorForeground': '#f85149', '--vscode-editorWarning-foreground': '#cca700', '--vscode-testing-iconPassed': '#73c991',
    '--vscode-inputValidation-errorBackground': '#5a1d1d', '--vscode-inputValidation-warningBackground': '#352a05', '--vscode-inputValidation-warningBorder': '#b89500',
    '--vscode-diffEditor-insertedTextBackground': '#9ccc2c33', '--vscode-dropdown-background': '#313131', '--vscode-dropdown-foreground': '#cccccc',
    '--vscode-dropdown-border': '#3c3c3c', '--vscode-progressBar-background': '#0078d4', '--vscode-toolbar-hoverBackground': '#5a5d5e50',
  },
};

/* ------------------------------------------------------------ server and page */

const MIME: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.html': 'text/html', '.map': 'application/json' };

/** The stub host, served as a nonce'd script before the bundle. */
function stubScript(theme: 'light' | 'dark'): string {
  return `(() => {
  const vars = ${JSON.stringify(THEMES[theme])};
  for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
  document.body.classList.add(${JSON.stringify(theme === 'dark' ? 'vscode-dark' : 'vscode-light')});
  window.__posted = [];
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => { window.__posted.push(JSON.parse(JSON.stringify(m))); },
    getState: () => { const s = sessionStorage.getItem('refscope-state'); return s === null ? undefined : JSON.parse(s); },
    setState: (s) => { sessionStorage.setItem('refscope-state', JSON.stringify(s)); window.__stateWrites = (window.__stateWrites || 0) + 1; },
  });
})();
`;
}

export interface WebviewPage {
  page: Page;
  url: string;
  /** Messages the webview posted to the host, oldest first. */
  posted(): Promise<ToHost[]>;
  /** Delivers a message from the host (as VS Code does: a window message event). */
  send(m: ToWebview): Promise<void>;
  close(): Promise<void>;
}

let browser: Browser | undefined;

export async function launch(): Promise<Browser> {
  browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  return browser;
}

export async function closeBrowser(): Promise<void> {
  await browser?.close();
  browser = undefined;
}

function serve(theme: 'light' | 'dark'): Promise<{ server: Server; origin: string }> {
  const nonce = makeNonce();
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/' || path === '/index.html') {
        const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        const html = panelHtml({
          cspSource: origin, nonce, scriptUri: `${origin}/dist/webview.js`, styleUri: `${origin}/dist/webview.css`, preludeUri: `${origin}/stub.js`,
          ...(existsSync(join(ROOT, 'dist', 'codicon.css')) ? { codiconUri: `${origin}/dist/codicon.css` } : {}),
        });
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
        return;
      }
      if (path === '/stub.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(stubScript(theme));
        return;
      }
      const file = normalize(join(ROOT, decodeURIComponent(path)));
      if (!file.startsWith(join(ROOT, 'dist')) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` }));
  });
}

export async function openWebview(options: { theme?: 'light' | 'dark'; width?: number; height?: number } = {}): Promise<WebviewPage> {
  ensureBuilt();
  const b = await launch();
  const { server, origin } = await serve(options.theme ?? 'dark');
  const context = await b.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const url = `${origin}/index.html`;
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { __posted: Array<{ type: string }> }).__posted.some((m) => m.type === 'ready'));
  return {
    page,
    url,
    posted: () => page.evaluate(() => (window as unknown as { __posted: ToHost[] }).__posted),
    send: async (m) => {
      await page.evaluate((msg) => window.postMessage(msg, '*'), m);
    },
    close: async () => {
      await context.close();
      await new Promise<void>((r) => server.close(() => r()));
      if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    },
  };
}
