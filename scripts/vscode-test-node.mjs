// Route N: the integration suite in the Node extension host of VS Code 1.100
// (npm code-server@4.100.3, installed by scripts/setup-vscode.sh), driven in
// Debian's Chromium. usage: node scripts/vscode-test-node.mjs
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExtension, bundleTests, driveWorkbench, freePort, report, root, workspaceDir } from './vscode-test-common.mjs';

const ROUTE = 'vscode-node';
const TIMEOUT_MS = Number(process.env.REFSCOPE_TEST_TIMEOUT_MS ?? 480000);
const SERVER_START_MS = 90000;
const csDir = process.env.REFSCOPE_CODE_SERVER_DIR ?? join(root, '.vscode-test/code-server');
const entry = join(csDir, 'node_modules/code-server/out/node/entry.js');

function startCodeServer(port, dataDir) {
  for (const d of ['data', 'ext', 'xdg-config', 'xdg-data']) mkdirSync(join(dataDir, d), { recursive: true });
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
    '--disable-workspace-trust', '--user-data-dir', join(dataDir, 'data'), '--extensions-dir', join(dataDir, 'ext'),
    '--config', join(dataDir, 'config.yaml')];
  const child = spawn(process.execPath, args, {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      XDG_CONFIG_HOME: join(dataDir, 'xdg-config'),
      XDG_DATA_HOME: join(dataDir, 'xdg-data'),
      REFSCOPE_TEST_ROUTE: ROUTE,
    },
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

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM'); // its own process group: the server and its extension hosts
  } catch {
    child.kill('SIGTERM');
  }
}

async function main() {
  if (!existsSync(entry)) {
    console.error(`${ROUTE}: code-server is not installed in ${csDir}; run: bash scripts/setup-vscode.sh`);
    return 1;
  }
  buildExtension();
  const tests = await bundleTests('node');
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'refscope-code-server-'));
  const { child, ready } = startCodeServer(port, dataDir);
  try {
    await ready;
    const authority = `vscode-remote://localhost:${port}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', `${authority}${root}`],
      ['extensionTestsPath', `${authority}${tests}`],
    ]);
    const url = `http://localhost:${port}/?folder=${encodeURIComponent(workspaceDir)}&payload=${encodeURIComponent(payload)}`;
    const result = await driveWorkbench({ url, route: ROUTE, timeoutMs: TIMEOUT_MS });
    return report(ROUTE, result);
  } finally {
    stop(child);
    setTimeout(() => rmSync(dataDir, { recursive: true, force: true }), 500).unref();
  }
}

const guard = setTimeout(() => {
  console.error(`${ROUTE}: hard timeout`);
  console.log(`${ROUTE}: 0 passed, 1 failed`);
  process.exit(1);
}, TIMEOUT_MS + SERVER_START_MS + 120000);
guard.unref();
main().then((code) => process.exit(code), (err) => {
  console.error(err);
  console.log(`${ROUTE}: 0 passed, 1 failed`);
  process.exit(1);
});
