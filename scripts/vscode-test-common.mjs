// Shared by the integration-test runners: builds the extension and the test
// bundle, finds a free port, and drives Debian's Chromium with playwright-core
// through a workbench page until the suite calls codeAutomationExit.
import * as esbuild from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const workspaceDir = join(root, 'test/integration/workspace');
export const CHROMIUM = process.env.REFSCOPE_CHROMIUM ?? '/usr/bin/chromium';
export const SUMMARY_PREFIX = 'refscope-test:';
const t0 = Date.now();
/** Progress line with the seconds since the runner started (stderr, so stdout stays the summary). */
export function phase(route, what) {
  console.error(`[${route}] ${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
}

/** `node scripts/build.mjs`: dist/extension.js, dist/browser.js and the WASM files. */
export function buildExtension() {
  const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`scripts/build.mjs failed (${r.status})`);
}

/** Bundles the mocha suite for one host kind; returns the absolute path of the bundle. */
export async function bundleTests(kind) {
  const outfile = join(root, 'out', `test-${kind}`, 'index.js');
  const common = { bundle: true, sourcemap: 'inline', logLevel: 'warning', target: 'es2022', format: 'cjs', outfile, absWorkingDir: root };
  if (kind === 'web') {
    await esbuild.build({
      ...common,
      entryPoints: [join(root, 'test/integration/index.web.ts')],
      platform: 'browser',
      external: ['vscode'],
      inject: [join(root, 'test/integration/process-shim.ts')],
      define: { global: 'globalThis' },
    });
  } else {
    // 'node': the whole suite against the development copy; 'vsix': the packaged-extension checks.
    await esbuild.build({
      ...common,
      entryPoints: [join(root, `test/integration/index.${kind}.ts`)],
      platform: 'node',
      external: ['vscode', 'mocha'],
    });
  }
  return outfile;
}

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/**
 * Opens `url` in headless Chromium and waits for the workbench to call
 * codeAutomationExit(code). Resolves { code, passed, failed, summary, timedOut, screenshots }.
 */
export async function driveWorkbench({ url, route, timeoutMs, screenshotDir = join(root, 'out', 'screenshots') }) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), `refscope-${route}-chromium-`));
  // Webviews need third-party cookies (service worker on <uuid>.localhost).
  mkdirSync(join(profile, 'Default'), { recursive: true });
  writeFileSync(join(profile, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0 } }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  let summary = null;
  const shots = [];
  let page;
  // The suite asks for screenshots of the real workbench by logging `refscope-test: screenshot <name>`.
  const onScreenshot = (name) => {
    if (!screenshotDir || !page || !/^[\w-]+$/.test(name)) return;
    mkdirSync(screenshotDir, { recursive: true });
    const path = join(screenshotDir, `${route}-${name}.png`);
    shots.push(page.screenshot({ path }).then(() => path, (e) => { console.error(`[${route}] screenshot ${name} failed: ${e.message}`); return null; }));
  };
  let passed = 0;
  let failed = 0;
  const onLine = (line) => {
    if (!line.startsWith(SUMMARY_PREFIX)) return;
    const shot = /^refscope-test: screenshot (\S+)$/.exec(line.trim());
    if (shot) onScreenshot(shot[1]);
    const m = /: (\d+) passed, (\d+) failed$/.exec(line);
    if (m && line.startsWith(`${SUMMARY_PREFIX} ${route}:`)) {
      summary = line;
      passed = Number(m[1]);
      failed = Number(m[2]);
    }
  };
  try {
    page = context.pages()[0] ?? (await context.newPage());
    let finish;
    const exited = new Promise((r) => { finish = r; });
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = (Array.isArray(args) ? args : [args]).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
      for (const line of text.split('\n')) {
        onLine(line);
        if (line.startsWith(SUMMARY_PREFIX) || process.env.REFSCOPE_TEST_VERBOSE) console.log(`[${route}] ${line}`);
      }
    });
    await page.exposeFunction('codeAutomationExit', (code) => finish({ code }));
    if (process.env.REFSCOPE_TEST_VERBOSE) {
      page.on('pageerror', (err) => console.log(`[${route}] page error: ${err.message}`));
      page.on('console', (m) => console.log(`[${route}] console.${m.type()}: ${m.text()}`));
    }
    phase(route, 'opening the workbench');
    await page.goto(url, { timeout: 60000 });
    phase(route, 'workbench page loaded; waiting for the suite');
    let timer;
    const timeout = new Promise((r) => { timer = setTimeout(() => r({ code: 1, timedOut: true }), timeoutMs); });
    const result = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    phase(route, `suite finished (exit code ${result.code})`);
    const screenshots = (await Promise.all(shots)).filter(Boolean);
    for (const p of screenshots) console.error(`[${route}] screenshot ${p}`);
    return { ...result, passed, failed, summary, screenshots };
  } finally {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Prints the closing `<route>: N passed, N failed` line and returns the exit code. */
export function report(route, r) {
  let { passed, failed } = r;
  if (r.timedOut) console.error(`${route}: timed out waiting for the suite to finish`);
  if (!r.summary) {
    console.error(`${route}: the suite printed no summary (activation or loading failed?)`);
    failed = Math.max(failed, 1);
  }
  if (r.code !== 0 && failed === 0) failed = 1;
  console.log(`${route}: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 && r.code === 0 ? 0 : 1;
}

/** code-server's entry script (scripts/setup-vscode.sh installs it). */
export function codeServerEntry() {
  const csDir = process.env.REFSCOPE_CODE_SERVER_DIR ?? join(root, '.vscode-test/code-server');
  return join(csDir, 'node_modules/code-server/out/node/entry.js');
}

const SERVER_START_MS = 90000;

/** Environment for code-server runs: its config and data stay inside `dataDir`. */
export function codeServerEnv(dataDir, extra = {}) {
  return { ...process.env, XDG_CONFIG_HOME: join(dataDir, 'xdg-config'), XDG_DATA_HOME: join(dataDir, 'xdg-data'), ...extra };
}

/**
 * Starts code-server 4.100.3 (VS Code 1.100's Node extension host) on `port`, with
 * its user data, config and extensions under `dataDir` (extensions in
 * `extensionsDir`, default dataDir/ext). Resolves `ready` once it listens.
 */
export function startCodeServer({ port, dataDir, route, extensionsDir = join(dataDir, 'ext'), env = {} }) {
  const entry = codeServerEntry();
  for (const d of ['data', 'xdg-config', 'xdg-data']) mkdirSync(join(dataDir, d), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(join(dataDir, 'config.yaml'), 'auth: none\ncert: false\n');
  // Quiet, offline user settings: no gallery checks, no git prompt over the workbench in screenshots.
  mkdirSync(join(dataDir, 'data', 'User'), { recursive: true });
  writeFileSync(join(dataDir, 'data', 'User', 'settings.json'), JSON.stringify({
    'git.openRepositoryInParentFolders': 'never',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'telemetry.telemetryLevel': 'off',
    'workbench.startupEditor': 'none',
  }, null, 2));
  const args = [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--user-data-dir', join(dataDir, 'data'), '--extensions-dir', extensionsDir,
    '--config', join(dataDir, 'config.yaml')];
  const child = spawn(process.execPath, args, {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: codeServerEnv(dataDir, { REFSCOPE_TEST_ROUTE: route, ...env }),
  });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not start within ${SERVER_START_MS} ms`)), SERVER_START_MS);
    const onData = (buf) => {
      const s = buf.toString();
      if (process.env.REFSCOPE_TEST_VERBOSE) process.stdout.write(`[code-server] ${s}`);
      if (s.includes('HTTP server listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited early (${code})`));
    });
  });
  return { child, ready };
}

/** Stops code-server and its extension hosts. */
export function stopCodeServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM'); // its own process group: the server and its extension hosts
  } catch {
    child.kill('SIGTERM');
  }
}

/**
 * Runs a route's `main` (resolving its exit code) under a hard deadline: a hang,
 * a throw or the deadline still prints the closing `<route>: 0 passed, 1 failed`.
 */
export function runRoute(route, main, deadlineMs) {
  const guard = setTimeout(() => {
    console.error(`${route}: hard timeout`);
    console.log(`${route}: 0 passed, 1 failed`);
    process.exit(1);
  }, deadlineMs);
  guard.unref();
  main().then((code) => process.exit(code), (err) => {
    console.error(err);
    console.log(`${route}: 0 passed, 1 failed`);
    process.exit(1);
  });
}
