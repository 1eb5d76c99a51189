/**
 * Parse kernel C: normalise (offset-preserving), parse with the injected parser,
 * and list function definitions with their parse damage.
 */
import type { Node, Tree } from 'web-tree-sitter';
import type { CParser } from './parser';
import { normalizeKernelC } from './normalize';

export interface FunctionInfo {
  name: string;
  node: Node;
  /** The function still contains an ERROR or MISSING node after normalisation. */
  damaged: boolean;
}

export interface ParsedFile {
  /** The user's text, unchanged. Slice it with node offsets to see original spellings. */
  text: string;
  /** The normalised text the tree was built from (same length as `text`). */
  normalized: string;
  tree: Tree;
  functions: FunctionInfo[];
  /** Free the WASM-side tree. */
  dispose(): void;
}

export function hasDamage(node: Node): boolean {
  return node.hasError || node.isMissing;
}

/** Name of a function_definition's declarator (through pointers, attributes and parentheses). */
export function functionName(fn: Node): string {
  let d: Node | null = fn.childForFieldName('declarator');
  for (let i = 0; d && i < 16; i++) {
    if (d.type === 'function_declarator') {
      const inner = d.childForFieldName('declarator');
      if (inner && (inner.type === 'identifier' || inner.type === 'field_identifier')) return inner.text;
      d = inner;
      continue;
    }
    if (d.type === 'identifier') return d.text;
    d = d.childForFieldName('declarator') ?? d.namedChildren.find((c) => c !== null && c.type.endsWith('declarator')) ?? null;
  }
  return '<anonymous>';
}

export function listFunctions(root: Node): FunctionInfo[] {
  const out: FunctionInfo[] = [];
  const stack: Node[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type === 'function_definition') {
      out.push({ name: functionName(n), node: n, damaged: hasDamage(n) });
      continue;
    }
    for (let i = n.namedChildCount - 1; i >= 0; i--) {
      const c = n.namedChild(i);
      if (c) stack.push(c);
    }
  }
  return out;
}

export function parseKernelC(parser: CParser, text: string): ParsedFile {
  const normalized = normalizeKernelC(text);
  const tree = parser.parseRaw(normalized);
  return {
    text,
    normalized,
    tree,
    functions: listFunctions(tree.rootNode),
    dispose: () => tree.delete(),
  };
}
