/**
 * web-tree-sitter loader. The WASM runtime and the C grammar are loaded once per
 * thread and the resulting `CParser` is injected into everything that parses.
 * The core never reads files: the host passes the two WASM binaries.
 */
import { Language, Parser, type Tree } from 'web-tree-sitter';

export interface ParserAssets {
  /** Bytes of web-tree-sitter's `tree-sitter.wasm`. */
  runtimeWasm: Uint8Array;
  /** Bytes of tree-sitter-c's `tree-sitter-c.wasm`. */
  languageWasm: Uint8Array;
}

export interface CParser {
  readonly language: Language;
  /** Parse C text as is (no normalisation). The caller must `delete()` the tree. */
  parseRaw(text: string): Tree;
}

let runtimeReady: Promise<void> | undefined;

export async function createCParser(assets: ParserAssets): Promise<CParser> {
  runtimeReady ??= Parser.init({ wasmBinary: assets.runtimeWasm } as unknown as object);
  await runtimeReady;
  const language = await Language.load(assets.languageWasm);
  const parser = new Parser();
  parser.setLanguage(language);
  return {
    language,
    parseRaw(text: string): Tree {
      const tree = parser.parse(text);
      if (!tree) throw new Error('tree-sitter returned no tree');
      return tree;
    },
  };
}
