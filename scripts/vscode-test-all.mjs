// Runs the integration suite in both offline VS Code builds, one after the other
// (route W: web host of 1.137; route N: Node host of 1.100 via code-server), then
// the packaged .vsix installed into code-server (route V), and
// fails if any fails. usage: node scripts/vscode-test-all.mjs
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
let failed = 0;
for (const runner of ['vscode-test-web.mjs', 'vscode-test-node.mjs', 'vscode-test-vsix.mjs']) {
  const r = spawnSync(process.execPath, [join(here, runner)], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${runner} failed (exit ${r.status ?? r.signal})`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
