import { timed } from '../util/timing';
/**
 * web-tree-sitter loader. The WASM runtime and the C grammar are loaded once per
 * thread and the resulting `CParser` is injected into everything that parses.
 * The core never reads files: the host passes the two WASM binaries.
 */
import { Language, Parser, type Tree } from 'web-tree-sitter';
import { cursorExports, flattenTree, SyntaxLanguage, type FlattenReuse, type SyntaxTree } from './syntax';

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
  /** Parse C text as is into a SyntaxTree (the WebAssembly tree is freed before it returns). */
  parse(text: string): SyntaxTree;
  /**
   * Copy a tree this parser made into a SyntaxTree (`text`: what it was parsed
   * from; `reuse`: subtrees to copy from an earlier copy); the tree stays the caller's.
   */
  flatten(tree: Tree, text: string, reuse?: FlattenReuse): SyntaxTree;
  readonly syntax: SyntaxLanguage;
}

let runtimeReady: Promise<void> | undefined;
/** The Emscripten module web-tree-sitter was initialised with (Parser.init makes its options object the module). */
const runtimeModule: { wasmBinary?: Uint8Array } = {};

export async function createCParser(assets: ParserAssets): Promise<CParser> {
  if (!runtimeReady) {
    runtimeModule.wasmBinary = assets.runtimeWasm;
    runtimeReady = Parser.init(runtimeModule as unknown as object);
  }
  await runtimeReady;
  const language = await Language.load(assets.languageWasm);
  const parser = new Parser();
  parser.setLanguage(language);
  const lang = new SyntaxLanguage(language);
  const raw = cursorExports(runtimeModule);
  const parseRaw = (text: string): Tree => {
    const tree = parser.parse(text);
    if (!tree) throw new Error('tree-sitter returned no tree');
    return tree;
  };
  return {
    language,
    parseRaw,
    parse(text: string): SyntaxTree {
      const tree = timed('parseRaw', () => parseRaw(text));
      try {
        return timed('flatten', () => flattenTree(tree, text, lang, raw));
      } finally {
        tree.delete();
      }
    },
    flatten: (tree, text, reuse) => flattenTree(tree, text, lang, raw, reuse),
    syntax: lang,
  };
}
