import { timed } from '../util/timing';
/**
 * Parse kernel C: normalise (offset-preserving), parse with the injected parser,
 * and list function definitions with their parse damage.
 */
import type { CParser } from './parser';
import type { SyntaxNode as Node, SyntaxTree } from './syntax';
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
  tree: SyntaxTree;
  functions: FunctionInfo[];
  /** Drop the tree (a no-op for SyntaxTrees, whose memory is the garbage collector's). */
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
  // Index arithmetic over the flat tree: generated register headers have ~10^5
  // top-level macro definitions, and no node object is made for them.
  const t = root.tree;
  const visit = (container: number): void => {
    const damaged = t.node(container).hasError;
    const stop = t.subtreeEnd[container]!;
    for (let c = container + 1; c < stop; c = t.subtreeEnd[c]!) {
      const type = t.lang.typeNames[t.typeId[c]!]!;
      if (type === 'function_definition') {
        const n = t.node(c);
        out.push({ name: functionName(n), node: n, damaged: hasDamage(n) });
      } else if (FUNCTION_CONTAINERS.has(type)) {
        visit(c);
      } else if (damaged && t.lang.namedType[t.typeId[c]!]) {
        if (t.node(c).hasError) visit(c);
      }
    }
  };
  if (root.type === 'function_definition') out.push({ name: functionName(root), node: root, damaged: hasDamage(root) });
  else visit(root.index);
  return out;
}

export function parseKernelC(parser: CParser, text: string): ParsedFile {
  const normalized = timed('normalize', () => normalizeKernelC(text));
  const tree = timed('parse+flatten', () => parser.parse(normalized));
  return {
    text,
    normalized,
    tree,
    functions: timed('listFunctions', () => listFunctions(tree.rootNode)),
    dispose: () => tree.delete(),
  };
}
