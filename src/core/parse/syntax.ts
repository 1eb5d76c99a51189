/**
 * A syntax tree held on the JavaScript side. tree-sitter's web binding answers
 * every question about a node (its type, a field, its children) with a call
 * into WebAssembly plus a `Node` object marshalled through a transfer buffer;
 * on drivers/gpu/drm those crossings cost more than a quarter of the analysis
 * (2026-12-07 profile: 23 of 106 s of worker CPU in web-tree-sitter's JS glue
 * and node functions, plus the collections of the objects it made). A tree is
 * therefore copied once, right after the parse, into flat typed arrays in
 * preorder (`flattenTree`, one cursor walk: about a quarter of the parse's
 * time), and every analysis reads that copy through `SyntaxNode`, which has
 * the same names and meanings as web-tree-sitter's `Node` for the part of its
 * API the analyses use. The WebAssembly tree can be freed at once.
 *
 * Layout: node 0 is the root; a node's children follow it, each followed by
 * its own subtree; `subtreeEnd[i]` is the index after node i's last
 * descendant, so the first child of i is i + 1 (when i + 1 < subtreeEnd[i])
 * and the next sibling of child c is subtreeEnd[c] (when below the parent's).
 */
import type { Language, Node, Tree } from 'web-tree-sitter';
import { lineStarts, posOf } from '../util/text';

export interface Point {
  row: number;
  column: number;
}

const NAMED = 1;
const MISSING = 2;
const HAS_ERROR = 4;
/** tree-sitter's symbol for ERROR nodes (`ts_builtin_sym_error`). */
const ERROR_SYMBOL = 65535;

/** The grammar's tables a flat tree needs, computed once per language. */
export class SyntaxLanguage {
  readonly typeNames: string[];
  readonly namedType: Uint8Array;
  private readonly fieldIds = new Map<string, number>();

  constructor(language: Language) {
    const count = language.types.length;
    this.typeNames = new Array<string>(ERROR_SYMBOL + 1);
    this.namedType = new Uint8Array(ERROR_SYMBOL + 1);
    for (let i = 0; i < count; i++) {
      this.typeNames[i] = language.types[i] || 'ERROR';
      this.namedType[i] = language.nodeTypeIsNamed(i) ? 1 : 0;
    }
    this.typeNames[ERROR_SYMBOL] = 'ERROR';
    this.namedType[ERROR_SYMBOL] = 1;
    language.fields.forEach((name, id) => {
      if (name) this.fieldIds.set(name, id);
    });
  }

  /** The id of a named node type (the first symbol with that name), or -1. */
  typeIdOf(name: string): number {
    for (let i = 0; i < this.typeNames.length; i++) if (this.typeNames[i] === name && this.namedType[i]) return i;
    return -1;
  }

  /** The field's id, or -1 (no child has it) for a name the grammar does not have. */
  fieldId(name: string): number {
    return this.fieldIds.get(name) ?? -1;
  }
}

/** Node ids are unique across the trees of a thread (they key memo tables). */
let nextIdBase = 1;

export class SyntaxTree {
  readonly rootNode: SyntaxNode;
  /** `id` of node 0; node i's id is idBase + i. */
  readonly idBase: number;
  private readonly nodes: (SyntaxNode | undefined)[];
  private lineStarts: number[] | undefined;

  constructor(
    readonly lang: SyntaxLanguage,
    /** The text the tree was parsed from (node `text` is a slice of it). */
    readonly text: string,
    readonly length: number,
    readonly typeId: Uint16Array,
    readonly start: Int32Array,
    readonly end: Int32Array,
    readonly parentOf: Int32Array,
    readonly subtreeEnd: Int32Array,
    readonly field: Uint16Array,
    readonly flags: Uint8Array,
  ) {
    this.idBase = nextIdBase;
    nextIdBase += length + 1;
    if (nextIdBase > 2 ** 52) nextIdBase = 1;
    this.nodes = new Array<SyntaxNode | undefined>(length);
    this.rootNode = this.node(0);
  }

  /** The node at preorder index i (one object per node, so `===` compares nodes). */
  node(i: number): SyntaxNode {
    let n = this.nodes[i];
    if (n === undefined) this.nodes[i] = n = new SyntaxNode(this, i);
    return n;
  }

  /** Row and column (UTF-16 code units) of an offset in the text. */
  pointAt(offset: number): Point {
    const p = posOf((this.lineStarts ??= lineStarts(this.text)), offset);
    return { row: p.line - 1, column: p.column - 1 };
  }

  /** Nothing to free: the arrays are garbage with the tree (kept for symmetry with web-tree-sitter trees). */
  delete(): void {}
}

/**
 * One node of a SyntaxTree: web-tree-sitter's `Node` API (the part the
 * analyses use), answered from the flat arrays without leaving JavaScript.
 */
export class SyntaxNode {
  constructor(readonly tree: SyntaxTree, readonly index: number) {}

  get id(): number {
    return this.tree.idBase + this.index;
  }

  get typeId(): number {
    return this.tree.typeId[this.index]!;
  }

  get type(): string {
    return this.tree.lang.typeNames[this.tree.typeId[this.index]!]!;
  }

  get startIndex(): number {
    return this.tree.start[this.index]!;
  }

  get endIndex(): number {
    return this.tree.end[this.index]!;
  }

  get startPosition(): Point {
    return this.tree.pointAt(this.tree.start[this.index]!);
  }

  get endPosition(): Point {
    return this.tree.pointAt(this.tree.end[this.index]!);
  }

  get text(): string {
    return this.tree.text.slice(this.tree.start[this.index]!, this.tree.end[this.index]!);
  }

  get isNamed(): boolean {
    return (this.tree.flags[this.index]! & NAMED) !== 0;
  }

  get isMissing(): boolean {
    return (this.tree.flags[this.index]! & MISSING) !== 0;
  }

  get isError(): boolean {
    return this.tree.typeId[this.index] === ERROR_SYMBOL;
  }

  /** The node is or contains an ERROR or MISSING node. */
  get hasError(): boolean {
    return (this.tree.flags[this.index]! & HAS_ERROR) !== 0;
  }

  get parent(): SyntaxNode | null {
    const p = this.tree.parentOf[this.index]!;
    return p < 0 ? null : this.tree.node(p);
  }

  get childCount(): number {
    let k = 0;
    const { subtreeEnd } = this.tree;
    const stop = subtreeEnd[this.index]!;
    for (let c = this.index + 1; c < stop; c = subtreeEnd[c]!) k++;
    return k;
  }

  get namedChildCount(): number {
    let k = 0;
    const { subtreeEnd, flags } = this.tree;
    const stop = subtreeEnd[this.index]!;
    for (let c = this.index + 1; c < stop; c = subtreeEnd[c]!) if (flags[c]! & NAMED) k++;
    return k;
  }

  get children(): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    const t = this.tree;
    const stop = t.subtreeEnd[this.index]!;
    for (let c = this.index + 1; c < stop; c = t.subtreeEnd[c]!) out.push(t.node(c));
    return out;
  }

  get namedChildren(): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    const t = this.tree;
    const stop = t.subtreeEnd[this.index]!;
    for (let c = this.index + 1; c < stop; c = t.subtreeEnd[c]!) if (t.flags[c]! & NAMED) out.push(t.node(c));
    return out;
  }

  child(k: number): SyntaxNode | null {
    const t = this.tree;
    const stop = t.subtreeEnd[this.index]!;
    for (let c = this.index + 1; c < stop; c = t.subtreeEnd[c]!) if (k-- === 0) return t.node(c);
    return null;
  }

  namedChild(k: number): SyntaxNode | null {
    const t = this.tree;
    const stop = t.subtreeEnd[this.index]!;
    for (let c = this.index + 1; c < stop; c = t.subtreeEnd[c]!) if (t.flags[c]! & NAMED && k-- === 0) return t.node(c);
    return null;
  }

  get firstChild(): SyntaxNode | null {
    const i = this.index + 1;
    return i < this.tree.subtreeEnd[this.index]! ? this.tree.node(i) : null;
  }

  get lastChild(): SyntaxNode | null {
    const t = this.tree;
    const stop = t.subtreeEnd[this.index]!;
    let last = -1;
    for (let c = this.index + 1; c < stop; c = t.subtreeEnd[c]!) last = c;
    return last < 0 ? null : t.node(last);
  }

  get nextSibling(): SyntaxNode | null {
    const t = this.tree;
    const p = t.parentOf[this.index]!;
    if (p < 0) return null;
    const s = t.subtreeEnd[this.index]!;
    return s < t.subtreeEnd[p]! ? t.node(s) : null;
  }

  /** The parent's next named child (tree-sitter's own search goes by position and passes over zero-width nodes, which only error recovery makes). */
  get nextNamedSibling(): SyntaxNode | null {
    const t = this.tree;
    const p = t.parentOf[this.index]!;
    if (p < 0) return null;
    const stop = t.subtreeEnd[p]!;
    for (let s = t.subtreeEnd[this.index]!; s < stop; s = t.subtreeEnd[s]!) if (t.flags[s]! & NAMED) return t.node(s);
    return null;
  }

  /**
   * The first child with the field. An ERROR node has none: tree-sitter finds a
   * field through the node's own production, and ERROR has none, though the
   * cursor (and so `field` and childrenForFieldName) reports the fields of the
   * hidden nodes error recovery kept under it.
   */
  childForFieldName(name: string): SyntaxNode | null {
    const t = this.tree;
    const f = t.lang.fieldId(name);
    if (f <= 0 || t.typeId[this.index] === ERROR_SYMBOL) return null;
    const stop = t.subtreeEnd[this.index]!;
    for (let c = this.index + 1; c < stop; c = t.subtreeEnd[c]!) if (t.field[c] === f) return t.node(c);
    return null;
  }

  childrenForFieldName(name: string): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    const t = this.tree;
    const f = t.lang.fieldId(name);
    if (f <= 0) return out;
    const stop = t.subtreeEnd[this.index]!;
    for (let c = this.index + 1; c < stop; c = t.subtreeEnd[c]!) if (t.field[c] === f) out.push(t.node(c));
    return out;
  }

  /** This node and its descendants of the given types, in document order (as web-tree-sitter's, the node itself included). */
  descendantsOfType(types: string | readonly string[]): SyntaxNode[] {
    const want = typeof types === 'string' ? [types] : types;
    const t = this.tree;
    const names = t.lang.typeNames;
    const out: SyntaxNode[] = [];
    const stop = t.subtreeEnd[this.index]!;
    for (let i = this.index; i < stop; i++) if (want.includes(names[t.typeId[i]!]!)) out.push(t.node(i));
    return out;
  }

  toString(): string {
    return `(${this.type} ${this.startIndex}-${this.endIndex})`;
  }
}

/** The web binding's functions that read and move a tree cursor kept in its transfer buffer. */
interface CursorExports {
  _ts_tree_cursor_goto_first_child_wasm(tree: number): number;
  _ts_tree_cursor_goto_next_sibling_wasm(tree: number): number;
  _ts_tree_cursor_goto_parent_wasm(tree: number): number;
  _ts_tree_cursor_current_node_type_id_wasm(tree: number): number;
  _ts_tree_cursor_start_index_wasm(tree: number): number;
  _ts_tree_cursor_end_index_wasm(tree: number): number;
  _ts_tree_cursor_current_field_id_wasm(tree: number): number;
  _ts_tree_cursor_current_node_is_missing_wasm(tree: number): number;
  _ts_tree_cursor_delete_wasm(tree: number): void;
}

const CURSOR_EXPORTS: (keyof CursorExports)[] = [
  '_ts_tree_cursor_goto_first_child_wasm', '_ts_tree_cursor_goto_next_sibling_wasm', '_ts_tree_cursor_goto_parent_wasm',
  '_ts_tree_cursor_current_node_type_id_wasm', '_ts_tree_cursor_start_index_wasm', '_ts_tree_cursor_end_index_wasm',
  '_ts_tree_cursor_current_field_id_wasm', '_ts_tree_cursor_current_node_is_missing_wasm', '_ts_tree_cursor_delete_wasm',
];

/**
 * The cursor functions of web-tree-sitter's Emscripten module (the object
 * `Parser.init` was given becomes the module), or undefined when this build
 * does not have them all: `flattenTree` then walks with the public TreeCursor.
 */
export function cursorExports(module: object): CursorExports | undefined {
  const m = module as Record<string, unknown>;
  return CURSOR_EXPORTS.every((k) => typeof m[k] === 'function') ? (module as CursorExports) : undefined;
}

/** One walk's growable arrays, reused across the trees of a thread. */
class Scratch {
  cap = 0;
  typeId = new Uint16Array(0);
  start = new Int32Array(0);
  end = new Int32Array(0);
  parentOf = new Int32Array(0);
  subtreeEnd = new Int32Array(0);
  field = new Uint16Array(0);
  flags = new Uint8Array(0);
  stack = new Int32Array(256);

  grow(min: number): void {
    const cap = Math.max(min, this.cap * 2, 4096);
    const g = <T extends Uint16Array | Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(0, this.cap) as never);
      return b;
    };
    this.typeId = g(this.typeId, (n) => new Uint16Array(n));
    this.start = g(this.start, (n) => new Int32Array(n));
    this.end = g(this.end, (n) => new Int32Array(n));
    this.parentOf = g(this.parentOf, (n) => new Int32Array(n));
    this.subtreeEnd = g(this.subtreeEnd, (n) => new Int32Array(n));
    this.field = g(this.field, (n) => new Uint16Array(n));
    this.flags = g(this.flags, (n) => new Uint8Array(n));
    this.cap = cap;
  }

  push(depth: number, node: number): void {
    if (depth >= this.stack.length) {
      const s = new Int32Array(this.stack.length * 2);
      s.set(this.stack);
      this.stack = s;
    }
    this.stack[depth] = node;
  }
}

const scratch = new Scratch();

/** What a walk reads at the cursor's node, and how it moves. */
interface CursorOps {
  firstChild(): boolean;
  nextSibling(): boolean;
  parent(): boolean;
  typeId(): number;
  startIndex(): number;
  endIndex(): number;
  fieldId(): number;
  isMissing(): boolean;
  done(): void;
}

function rawOps(tree: Tree, raw: CursorExports): CursorOps {
  tree.rootNode.walk(); // leaves the new cursor in the transfer buffer, where the raw functions read and move it
  const t = (tree as unknown as Record<number, number>)[0]!;
  return {
    firstChild: () => raw._ts_tree_cursor_goto_first_child_wasm(t) === 1,
    nextSibling: () => raw._ts_tree_cursor_goto_next_sibling_wasm(t) === 1,
    parent: () => raw._ts_tree_cursor_goto_parent_wasm(t) === 1,
    typeId: () => raw._ts_tree_cursor_current_node_type_id_wasm(t),
    startIndex: () => raw._ts_tree_cursor_start_index_wasm(t),
    endIndex: () => raw._ts_tree_cursor_end_index_wasm(t),
    fieldId: () => raw._ts_tree_cursor_current_field_id_wasm(t),
    isMissing: () => raw._ts_tree_cursor_current_node_is_missing_wasm(t) === 1,
    // the cursor as it is now: its stack may have been reallocated since walk() returned
    done: () => raw._ts_tree_cursor_delete_wasm(t),
  };
}

function publicOps(tree: Tree): CursorOps {
  const c = tree.rootNode.walk();
  return {
    firstChild: () => c.gotoFirstChild(),
    nextSibling: () => c.gotoNextSibling(),
    parent: () => c.gotoParent(),
    typeId: () => c.nodeTypeId,
    startIndex: () => c.startIndex,
    endIndex: () => c.endIndex,
    fieldId: () => c.currentFieldId,
    isMissing: () => c.nodeIsMissing,
    done: () => c.delete(),
  };
}

/**
 * Subtrees a flatten may copy from an earlier SyntaxTree of the same file
 * instead of walking them (the editor's re-parse after an edit inside one
 * function: every other function is the same text, moved).
 */
export interface FlattenReuse {
  prev: SyntaxTree;
  /** The node type whose subtrees may be copied (function_definition). */
  typeId: number;
  /** The index in `prev` of a node of that type to copy for the new one at [start, end), or -1. */
  at(start: number, end: number): number;
}

/** Copy prev's subtree at `from` (all but its root's own record) below node `me`, shifted by `shift`; returns the new count. */
function copySubtree(prev: SyntaxTree, from: number, me: number, n: number, shift: number, s: Scratch): number {
  const stop = prev.subtreeEnd[from]!;
  const need = n + stop - from - 1;
  if (need > s.cap) s.grow(need);
  const base = me - from; // prev index + base = new index
  for (let j = from + 1; j < stop; j++, n++) {
    s.typeId[n] = prev.typeId[j]!;
    s.start[n] = prev.start[j]! + shift;
    s.end[n] = prev.end[j]! + shift;
    s.field[n] = prev.field[j]!;
    s.flags[n] = prev.flags[j]!;
    s.parentOf[n] = prev.parentOf[j]! + base;
    s.subtreeEnd[n] = prev.subtreeEnd[j]! + base;
  }
  return n;
}

/** Set HAS_ERROR on flat node i (the copy of `node`, which has an error) and on its descendants that tree-sitter says have one. */
function markErrors(node: Node, i: number, s: Scratch): void {
  s.flags[i] |= HAS_ERROR;
  const stop = s.subtreeEnd[i]!;
  let c = i + 1;
  for (const k of node.children) {
    if (c >= stop) break;
    if (k?.hasError) markErrors(k, c, s);
    c = s.subtreeEnd[c]!;
  }
}

/**
 * Copy a web-tree-sitter tree into a SyntaxTree (`text`: the text it was parsed
 * from). `raw`: the binding's cursor functions (`cursorExports`), which walk
 * about six times faster than the public TreeCursor; without them the public
 * API gives the same tree. The WebAssembly tree is left as it is.
 */
export function flattenTree(tree: Tree, text: string, lang: SyntaxLanguage, raw?: CursorExports, reuse?: FlattenReuse): SyntaxTree {
  const s = scratch;
  const ops = raw ? rawOps(tree, raw) : publicOps(tree);
  const named = lang.namedType;
  let n = 0;
  let depth = 0; // the cursor's depth; stack[0..depth-1] are the node's ancestors
  try {
    for (;;) {
      if (n >= s.cap) s.grow(n + 1);
      const ty = ops.typeId();
      const st = ops.startIndex();
      const en = ops.endIndex();
      s.typeId[n] = ty;
      s.start[n] = st;
      s.end[n] = en;
      s.field[n] = ops.fieldId();
      s.parentOf[n] = depth > 0 ? s.stack[depth - 1]! : -1;
      let fl = named[ty]! ? NAMED : 0;
      const me = n++;
      const from = reuse && ty === reuse.typeId ? reuse.at(st, en) : -1;
      if (from >= 0) {
        n = copySubtree(reuse!.prev, from, me, n, st - reuse!.prev.start[from]!, s);
        s.flags[me] = reuse!.prev.flags[from]!;
      } else if (ops.firstChild()) {
        s.flags[me] = fl;
        s.push(depth++, me);
        continue;
      }
      if (from < 0) {
        // missing nodes are zero-width leaves
        if (st === en && ops.isMissing()) fl |= MISSING;
        s.flags[me] = fl;
      }
      s.subtreeEnd[me] = n;
      let more = false;
      while (depth > 0) {
        if (ops.nextSibling()) {
          more = true;
          break;
        }
        ops.parent();
        s.subtreeEnd[s.stack[--depth]!] = n;
      }
      if (!more) break;
    }
  } finally {
    ops.done();
  }
  // hasError is tree-sitter's answer, asked along the paths to the errors (few and short: a
  // node has an error only if its parent has). It cannot be read off the copy: an invisible
  // MISSING token (`preproc_include_token2` after a `#define` continued into a comment) gives
  // its ancestors an error the cursor never shows, and an ERROR leaf (a skipped token) has none.
  if (tree.rootNode.hasError) markErrors(tree.rootNode, 0, s);
  return new SyntaxTree(
    lang, text, n,
    s.typeId.slice(0, n), s.start.slice(0, n), s.end.slice(0, n), s.parentOf.slice(0, n),
    s.subtreeEnd.slice(0, n), s.field.slice(0, n), s.flags.slice(0, n),
  );
}
