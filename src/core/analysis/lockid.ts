/**
 * Lock identity: by expression (`&obj->lock`, `&(obj)->lock`, `obj->lock` all
 * become the key `obj.lock`) and by class (struct type + field path:
 * `struct foo *f` makes `f.lock` of class `foo.lock`; globals are their own class).
 */

/** Normalise a lock expression as written to its key. */
export function lockKey(text: string): string {
  let s = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\s+/g, '');
  for (let i = 0; i < 6; i++) {
    const before = s;
    s = s.replace(/(?<![\w\]])\((\w+)\)/g, '$1');
    if (s.startsWith('&')) s = s.slice(1);
    while (s.startsWith('(') && s.endsWith(')') && balanced(s.slice(1, -1))) s = s.slice(1, -1);
    s = s.replace(/->/g, '.');
    s = s.replace(/\(\*(\w+)\)\./g, '$1.');
    if (s === before) break;
  }
  return s;
}

function balanced(s: string): boolean {
  let d = 0;
  for (const ch of s) {
    if (ch === '(') d++;
    else if (ch === ')' && --d < 0) return false;
  }
  return d === 0;
}

/** Root identifier of a key (`obj.base.lock` -> `obj`). */
export function keyRoot(key: string): string | null {
  const m = /^\*?([A-Za-z_]\w*)/.exec(key);
  return m ? m[1]! : null;
}

/** Identifiers a key depends on (root and index variables). */
export function keyIdentifiers(key: string): string[] {
  const out: string[] = [];
  const root = keyRoot(key);
  if (root) out.push(root);
  for (const m of key.matchAll(/\[([^\]]*)\]/g)) for (const id of m[1]!.match(/[A-Za-z_]\w*/g) ?? []) out.push(id);
  // Operands of pointer arithmetic (`conf->hash_locks + i`): `i` chooses the instance as an index would.
  const at = key.search(/[+-]/);
  if (at > 0) for (const m of key.slice(at).matchAll(/(?:^|[^.\w])([A-Za-z_]\w*)/g)) if (!out.includes(m[1]!)) out.push(m[1]!);
  return out;
}

/** Replace the root of `key` by `replacement` (an alias's key). */
export function rerootKey(key: string, replacement: string): string {
  const root = keyRoot(key);
  if (!root) return key;
  const at = key.indexOf(root);
  const rest = key.slice(at + root.length);
  return key.startsWith('*') && rest === '' ? replacement : replacement + rest;
}

/** Lock class from the key and the struct type of its root variable (if known). */
export function lockClass(key: string, types: ReadonlyMap<string, string>): string {
  const root = keyRoot(key);
  if (!root) return key;
  const t = types.get(root);
  if (!t) return key;
  const rest = key.slice(key.indexOf(root) + root.length).replace(/\[[^\]]*\]/g, '[]');
  return `struct ${t}${rest}`;
}

/** Last field of a key (`a.b.lock` -> `lock`). */
export function keyField(key: string): string {
  const i = key.lastIndexOf('.');
  return i < 0 ? key : key.slice(i + 1);
}
