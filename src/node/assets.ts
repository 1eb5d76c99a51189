/** Node host: find and read the two WASM files next to the bundle or in node_modules. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createCParser, type CParser, type ParserAssets } from '../core/parse/parser';

function candidates(file: string, pkg: string): string[] {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const out: string[] = [join(here, file), join(here, '..', 'dist', file)];
  let dir = here;
  for (let i = 0; i < 6; i++) {
    out.push(join(dir, 'node_modules', pkg, file));
    dir = dirname(dir);
  }
  out.push(join(process.cwd(), 'node_modules', pkg, file));
  return out.map((p) => resolve(p));
}

function readFirst(file: string, pkg: string): Uint8Array {
  for (const p of candidates(file, pkg)) {
    if (existsSync(p)) return readFileSync(p);
  }
  throw new Error(`cannot find ${file} (looked next to the bundle and in node_modules/${pkg})`);
}

export function loadParserAssets(): ParserAssets {
  return {
    runtimeWasm: readFirst('tree-sitter.wasm', 'web-tree-sitter'),
    languageWasm: readFirst('tree-sitter-c.wasm', 'tree-sitter-c'),
  };
}

let shared: Promise<CParser> | undefined;
/** One parser per thread. */
export function nodeParser(): Promise<CParser> {
  shared ??= createCParser(loadParserAssets());
  return shared;
}
