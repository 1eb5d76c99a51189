// Runs node's test runner over test files (Node 20 has no glob support in --test).
// usage: node scripts/test.mjs [dir ...]   (default: test/unit)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const dirs = process.argv.slice(2).length ? process.argv.slice(2) : ['test/unit'];
const files = [];
const walk = (d) => {
  for (const name of readdirSync(d).sort()) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.test\.(ts|mjs|js)$/.test(name)) files.push(p);
  }
};
dirs.forEach(walk);
if (files.length === 0) {
  console.error(`no test files under ${dirs.join(', ')}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
