/**
 * Offset-preserving kernel-macro normaliser: rewrites kernel macro spellings to
 * same-length C that tree-sitter-c parses, so every UTF-16 offset (and every
 * line/column) of the result maps 1:1 to the user's file.
 * Invariant: result.length === text.length and every '\n' stays where it was.
 */
export function normalizeKernelC(text: string): string {
  return text;
}
