// The integration suite in a desktop VS Code (Electron, Node extension host) via
// @vscode/test-electron. Not run in CI here (it needs a desktop build): set
// VSCODE_EXECUTABLE to an installed `code` binary, or let test-electron download
// one (VSCODE_VERSION, default: the minimum supported engine, 1.100.0) where the
// network allows. usage: VSCODE_EXECUTABLE=/usr/share/code/code node scripts/vscode-test-electron.mjs
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExtension, bundleTests, root, workspaceDir } from './vscode-test-common.mjs';

const ROUTE = 'vscode-electron';

async function main() {
  const { runTests } = await import('@vscode/test-electron');
  buildExtension();
  const extensionTestsPath = await bundleTests('node');
  const userData = mkdtempSync(join(tmpdir(), 'refscope-electron-'));
  const options = {
    extensionDevelopmentPath: root,
    extensionTestsPath,
    extensionTestsEnv: { REFSCOPE_TEST_ROUTE: ROUTE },
    launchArgs: [workspaceDir, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes',
      '--user-data-dir', join(userData, 'data'), '--extensions-dir', join(userData, 'ext')],
  };
  if (process.env.VSCODE_EXECUTABLE) options.vscodeExecutablePath = process.env.VSCODE_EXECUTABLE;
  else options.version = process.env.VSCODE_VERSION ?? '1.100.0';
  // The suite prints `refscope-test: vscode-electron: N passed, N failed` on the console itself.
  const code = await runTests(options);
  return code === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => {
  console.error(`${ROUTE}: ${err instanceof Error ? err.message : String(err)}`);
  console.log(`${ROUTE}: 0 passed, 1 failed`);
  process.exit(1);
});
