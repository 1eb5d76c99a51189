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

/**
 * Nodes that can contain a function definition in an undamaged tree: the file,
 * conditional-compilation blocks and `extern "C"`-style lists. Other undamaged
 * nodes (declarations, initialiser tables, macro definitions) cannot, and are
 * not walked: on generated register headers that walk cost as much as the
 * parse. A node that contains an ERROR is walked whole, since error recovery
 * can leave a definition anywhere inside it (counted, and flagged as damaged).
 */
const FUNCTION_CONTAINERS = new Set([
  'translation_unit', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef',
  'linkage_specification', 'declaration_list',
]);

export function listFunctions(root: Node): FunctionInfo[] {
  const out: FunctionInfo[] = [];
  // A cursor visits siblings without creating a Node per child: generated
  // register headers have ~10^5 top-level macro definitions.
  const visit = (container: Node): void => {
    const damaged = container.hasError;
    const cursor = container.walk();
    try {
      if (!cursor.gotoFirstChild()) return;
      do {
        if (!cursor.nodeIsNamed) continue;
        const type = cursor.nodeType;
        if (type === 'function_definition') {
          const n = cursor.currentNode;
          out.push({ name: functionName(n), node: n, damaged: hasDamage(n) });
        } else if (FUNCTION_CONTAINERS.has(type)) {
          visit(cursor.currentNode);
        } else if (damaged) {
          const n = cursor.currentNode;
          if (n.hasError) visit(n);
        }
      } while (cursor.gotoNextSibling());
    } finally {
      cursor.delete();
    }
  };
  if (root.type === 'function_definition') out.push({ name: functionName(root), node: root, damaged: hasDamage(root) });
  else visit(root);
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
