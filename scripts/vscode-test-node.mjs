// Route N: the integration suite in the Node extension host of VS Code 1.100
// (npm code-server@4.100.3, installed by scripts/setup-vscode.sh), driven in
// Debian's Chromium. usage: node scripts/vscode-test-node.mjs
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExtension, bundleTests, codeServerEntry, driveWorkbench, freePort, report, root, startCodeServer, stopCodeServer, workspaceDir, runRoute } from './vscode-test-common.mjs';

const ROUTE = 'vscode-node';
const TIMEOUT_MS = Number(process.env.REFSCOPE_TEST_TIMEOUT_MS ?? 480000);
const SERVER_START_MS = 90000;
const entry = codeServerEntry();

async function main() {
  if (!existsSync(entry)) {
    console.error(`${ROUTE}: code-server is not installed (${entry}); run: bash scripts/setup-vscode.sh`);
    return 1;
  }
  buildExtension();
  const tests = await bundleTests('node');
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'refscope-code-server-'));
  const { child, ready } = startCodeServer({ port, dataDir, route: ROUTE });
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
    stopCodeServer(child);
    setTimeout(() => rmSync(dataDir, { recursive: true, force: true }), 500).unref();
  }
}

runRoute(ROUTE, main, TIMEOUT_MS + SERVER_START_MS + 120000);
