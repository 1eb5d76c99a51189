// Route V: packs the extension with @vscode/vsce exactly as a user would
// (`npx @vscode/vsce package`), installs the .vsix into code-server 4.100.3
// (VS Code 1.100's Node extension host) with `--install-extension`, and runs
// test/integration/index.vsix.ts against the installed copy: the packaged
// bundles and WASM files activate, analyse a fixture and register every
// command, and the package holds nothing it does not need.
// usage: node scripts/vscode-test-vsix.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bundleTests, codeServerEntry, codeServerEnv, driveWorkbench, freePort, phase, report, root, runRoute, startCodeServer, stopCodeServer, workspaceDir,
} from './vscode-test-common.mjs';

const ROUTE = 'vscode-vsix';
const TIMEOUT_MS = Number(process.env.REFSCOPE_TEST_TIMEOUT_MS ?? 300000);
const SERVER_START_MS = 90000;
const entry = codeServerEntry();
const vsce = join(root, 'node_modules/.bin/vsce');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

async function main() {
  if (!existsSync(entry)) {
    console.error(`${ROUTE}: code-server is not installed (${entry}); run: bash scripts/setup-vscode.sh`);
    return 1;
  }
  if (!existsSync(vsce)) {
    console.error(`${ROUTE}: @vscode/vsce is not installed; run: npm ci`);
    return 1;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'refscope-vsix-'));
  let child;
  try {
    // 1. Package: vsce runs the `vscode:prepublish` build itself.
    const vsix = join(dataDir, 'refscope.vsix');
    phase(ROUTE, 'vsce package');
    const packed = run(vsce, ['package', '--out', vsix]);
    const done = /DONE\s+Packaged: .*/.exec(packed);
    phase(ROUTE, `${done ? done[0] : 'packaged'} (${(statSync(vsix).size / 1024).toFixed(0)} KB)`);

    // 2. Install into a fresh extensions directory, as `code --install-extension` does.
    const extDir = join(dataDir, 'extensions');
    mkdirSync(extDir, { recursive: true });
    for (const d of ['data', 'xdg-config', 'xdg-data']) mkdirSync(join(dataDir, d), { recursive: true });
    const installed = run(process.execPath, [entry, '--user-data-dir', join(dataDir, 'data'), '--extensions-dir', extDir, '--install-extension', vsix],
      { env: codeServerEnv(dataDir) });
    phase(ROUTE, installed.trim().split('\n').pop());

    // 3. The suite runs from a probe extension with its own id, so the development
    //    copy in this checkout never shadows the installed one.
    const probe = join(dataDir, 'probe');
    mkdirSync(probe, { recursive: true });
    writeFileSync(join(probe, 'package.json'), JSON.stringify({
      name: 'refscope-vsix-probe', publisher: 'refscope-test', version: '0.0.0', engines: { vscode: '^1.100.0' },
    }, null, 2));
    const tests = await bundleTests('vsix');
    const port = await freePort();
    const server = startCodeServer({ port, dataDir, route: ROUTE, extensionsDir: extDir, env: { REFSCOPE_VSIX_EXT_DIR: extDir } });
    child = server.child;
    await server.ready;
    const authority = `vscode-remote://localhost:${port}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', `${authority}${probe}`],
      ['extensionTestsPath', `${authority}${tests}`],
    ]);
    const url = `http://localhost:${port}/?folder=${encodeURIComponent(workspaceDir)}&payload=${encodeURIComponent(payload)}`;
    const result = await driveWorkbench({ url, route: ROUTE, timeoutMs: TIMEOUT_MS, screenshotDir: null });
    return report(ROUTE, result);
  } finally {
    if (child) stopCodeServer(child);
    setTimeout(() => rmSync(dataDir, { recursive: true, force: true }), 500).unref();
  }
}

runRoute(ROUTE, main, TIMEOUT_MS + SERVER_START_MS + 180000);
