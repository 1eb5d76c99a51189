/**
 * Offset-preserving kernel-macro normaliser: rewrites kernel macro spellings to
 * same-length C that tree-sitter-c parses, so every UTF-16 offset (and every
 * line/column) of the result maps 1:1 to the user's file.
 *
 * Invariants (tested): `result.length === text.length`; every '\n' and '\r' stays
 * where it was; a character is only ever replaced by an ASCII space or by
 * ASCII letters of a same-length keyword; comments, string and character
 * literals and preprocessor directives are never rewritten (except conditional
 * directives that split an expression or a statement, see 6). It is one linear
 * tokenizer pass plus one linear rewriting pass (no backtracking regexes), and it
 * never throws on any input (binary junk, unterminated comments or strings).
 *
 * Rewrites and the tree shapes they produce (slice the ORIGINAL text with a
 * node's startIndex/endIndex to see the user's spelling):
 *
 * 1. Iterator macros. An identifier containing `for_each` (any case:
 *    `list_for_each_entry_safe`, `hlist_for_each_entry_rcu`, `drm_for_each_crtc`,
 *    `for_each_set_bit`, `xa_for_each`, `idr_for_each_entry`, `FOR_EACH_X`, ...)
 *    at the head of a statement inside a function, followed by `( ... )` and then
 *    a statement or block (not `;`), becomes `while` padded with spaces:
 *      list_for_each_entry(pos, &head, member) {   ->
 *      while              (pos, &head, member) {
 *    Tree: `while_statement` { condition: parenthesized_expression (a
 *    comma_expression of the arguments, or the single argument), body: the
 *    user's statement (usually compound_statement) }. The while_statement
 *    starts at the macro name, so `text.slice(node.startIndex)` begins with the
 *    macro's real name. An empty argument list `for_each_x()` becomes
 *    `while(_)` over the name and parentheses (a non-constant condition).
 * 2. Scoped guards. `scoped_guard(class, args...) stmt` and
 *    `scoped_cond_guard(class, fail, args...) stmt` become `if` padded with
 *    spaces:  scoped_guard(mutex, &l) {  ->  if          (mutex, &l) {
 *    Tree: `if_statement` { condition: parenthesized_expression (comma_expression
 *    of the guard arguments), consequence: the user's statement, no
 *    alternative }. It starts at the macro name (original text begins with
 *    `scoped_guard` / `scoped_cond_guard`). In `scoped_cond_guard` the failure
 *    statement argument (`return -EINTR`) keeps only its expression (see 4).
 *    `guard(class)(args);` and `CLASS(name, var)(args);` are left alone: they
 *    parse as an expression_statement holding a call_expression whose function
 *    is a call_expression (`guard(class)`).
 * 3. Type arguments of macro calls in code (`container_of(p, struct foo, m)`,
 *    `list_entry`, `list_first_entry_or_null`, `hlist_entry_safe`, `rb_entry`,
 *    `kmalloc_obj`, `DEFINE_PER_CPU(struct x, y)`, ...): in an argument that is a
 *    type name only, the keywords `struct`/`union`/`enum`/`const`/`volatile`
 *    and trailing `*` are blanked, leaving the tag name as an `identifier`
 *    argument (`struct foo *` -> `       foo  `); an argument made only of
 *    builtin type keywords (`unsigned int`) becomes the number `0` padded with
 *    spaces (inside function bodies only). `sizeof`, `offsetof`, `_Alignof`,
 *    `va_arg`, `typeof` and `__builtin_*` are left to the grammar.
 * 4. Statement arguments of macros (`PP_ASSERT_WITH_CODE(c, "msg", return -EINVAL)`,
 *    `scoped_cond_guard(..., return -EINTR, ...)`): inside a call's argument list
 *    `return` and `goto` are blanked (leaving their expression or label as an
 *    identifier), `break`/`continue` become `0` padded, and `;` is blanked.
 * 5. Annotation and attribute macros are blanked to spaces (with their
 *    parenthesised arguments): `__rcu`, `__user`, `__iomem`, `__percpu`,
 *    `__force`, `__must_check`, `__maybe_unused`, `__init`, `__exit`,
 *    `__read_mostly`, `__always_inline`, `noinline`, `__printf(a, b)`,
 *    `__aligned(x)`, `__packed`, `__acquires(x)`, `__releases(x)`,
 *    `__must_hold(x)`, `__cond_acquires(x)`, `__attribute__((...))`, `__free(f)`,
 *    `__cleanup(f)`, `__counted_by(x)`, `__guarded_by(x)`, `asmlinkage`,
 *    `notrace`, ... (see ATTRIBUTES below). They stay inside the byte range of
 *    the function_definition (when written after the declarator or between the
 *    specifiers) or of the declaration, so analyses read them from the original
 *    text: `struct foo *p __free(kfree) = NULL;` is a plain `declaration`
 *    (init_declarator with pointer_declarator) whose original text contains
 *    `__free(kfree)`. `asm_inline` becomes `asm` padded.
 * 6. Preprocessor conditionals. A `#if/#ifdef ... #else/#elif ... #endif` group
 *    whose branches are not bracket-balanced (`#ifdef X  if (a) {  #else  if (b) {
 *    #endif`) keeps its first branch: the directives and the other branches are
 *    blanked. A conditional directive inside parentheses, brackets or an
 *    initializer/expression (its previous token is not a statement boundary) is
 *    blanked the same way (first branch kept), so the surrounding expression
 *    parses as one.
 * 7. Top-level macro lines: `EXPORT_SYMBOL*(x);`, `MODULE_*(...)`,
 *    `module_param*(...)`, `__setup(...)`, `*_initcall(...)` and other
 *    statement-start invocations at file scope that are not followed by `;`, `{`,
 *    `,` or `=` (`DEFINE_FREE(name, type, stmt)`, `DEFINE_GUARD(...)`) are blanked.
 *    Inside struct bodies an upper-case `NAME(field, ...);` (`DECLARE_BITMAP(b, N);`)
 *    becomes `int  b ... ;` — a field_declaration named after its first argument.
 *    `static NAME(a, b);` with an upper-case NAME and several arguments
 *    (`static DEFINE_PER_CPU(struct x, y);`) loses `static` and parses as an
 *    expression_statement (call_expression) — the grammar would otherwise read a
 *    one-type macro_type_specifier and fail. `static DEFINE_MUTEX(m);` (one
 *    argument) is left alone: a declaration with a parenthesized_declarator.
 * 8. Declaration-specifier macros at file scope: `STATIC` becomes `static`; an
 *    unknown word followed by a type keyword or by `type name(` (`EXPORT_FOR_TESTS
 *    bool f(`, `static forceinline u32 f(`) is blanked.
 * 9. A macro or `typeof` standing for a declaration's type (`BKEY_PADDED_ONSTACK(k, N) tmp;`,
 *    `DARRAY(struct x) list;`, `typeof(a->b) v = ...;`, `typeof_member(T, m) v;`): the
 *    arguments and parentheses are blanked, the macro name stays as the type
 *    (type_identifier), `typeof` becomes `int`. The result is a `declaration`.
 * 10. An upper-case statement macro used without `;` (`CHECK_PROPERTY(a, B)` with the
 *    next statement on the next line at the same indentation) becomes an empty
 *    `compound_statement` `{}` over its name (arguments blanked). A statement-head
 *    call followed by `{` (`drm_exec_until_all_locked(exec) {`) or by a
 *    deeper-indented statement on the next line (`with_intel_runtime_pm(rpm, wf)`,
 *    `intel_wedge_on_timeout(...)`) is treated as an iterator (rule 1:
 *    while_statement). `} while_each_thread(g, t);` becomes the `while` of a do_statement.
 * 11. Smaller fixes: `offsetof(T, a.b[i])` keeps `a` only; `offsetof(typeof(x), f)`
 *    becomes a call (`offsetoF`); GNU ranges `case 1 ... 3:` / `[0 ... 7]` use `+0+`
 *    for `...`; `register u64 x asm("x0")` loses the asm label; GNU named variadic
 *    macro parameters `#define F(args...)` lose the name (`   ...`); `#define`/`#undef`
 *    inside an initializer or expression are blanked; a conditional directive right
 *    after a label (`err:` `#ifdef`) or a branch ending in a label is handled as in 6.
 *
 * What is never rewritten: code that already parses the same way (`guard(x)(&l);`,
 * `sizeof(struct x)`, statement expressions `({ ... })`, `asm volatile/goto`,
 * `_Generic`), balanced `#ifdef` blocks (left as preproc_* nodes), comments and strings.
 */

/* ---------------------------------------------------------------- tokens */

const T_IDENT = 1;
const T_NUM = 2;
const T_STR = 3;
const T_PUNCT = 4;
const T_PP = 5;

/** Character classes (ASCII only; everything else is treated as an identifier char when >= 0x80). */
const CLASS = new Uint8Array(128); // 1 identifier start, 2 identifier char (digit)
for (let c = 0; c < 128; c++) {
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36) CLASS[c] = 1;
  else if (c >= 48 && c <= 57) CLASS[c] = 2;
}
function isIdentStart(c: number): boolean {
  return c >= 0x80 || CLASS[c] === 1;
}
function isIdentChar(c: number): boolean {
  return c >= 0x80 || CLASS[c]! !== 0;
}
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

interface Tokens {
  n: number;
  kind: Uint8Array;
  start: Int32Array;
  end: Int32Array;
  /** char code of single-character punctuation tokens, -1 for every other token */
  code: Int16Array;
}

/**
 * Token arrays are reused from call to call (the normaliser is synchronous, so one
 * set per thread is safe); this keeps large files from churning the allocator.
 */
let pool: Tokens = { n: 0, kind: new Uint8Array(0), start: new Int32Array(0), end: new Int32Array(0), code: new Int16Array(0) };
let poolAux = { dead: new Uint8Array(0), match: new Int32Array(0), closedKind: new Uint8Array(0) };

function tokenize(text: string): Tokens {
  const len = text.length;
  if (pool.kind.length < Math.max(1024, len >> 2)) {
    const c = Math.max(1024, len >> 2);
    pool = { n: 0, kind: new Uint8Array(c), start: new Int32Array(c), end: new Int32Array(c), code: new Int16Array(c) };
  }
  let cap = pool.kind.length;
  let { kind, start, end, code } = pool;
  let n = 0;
  const push = (k: number, s: number, e: number): void => {
    if (n === cap) {
      cap *= 2;
      const c2 = new Int16Array(cap);
      c2.set(code);
      code = c2;
      const k2 = new Uint8Array(cap);
      k2.set(kind);
      kind = k2;
      const s2 = new Int32Array(cap);
      s2.set(start);
      start = s2;
      const e2 = new Int32Array(cap);
      e2.set(end);
      end = e2;
    }
    kind[n] = k;
    start[n] = s;
    end[n] = e;
    code[n] = k === T_PUNCT && e - s === 1 ? text.charCodeAt(s) : -1;
    n++;
  };
  let i = 0;
  let lineStart = true; // only whitespace/comments since the last newline
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      lineStart = true;
      i++;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    // comments
    if (c === 47 && i + 1 < len) {
      const d = text.charCodeAt(i + 1);
      if (d === 42) {
        const e = text.indexOf('*/', i + 2);
        const stop = e < 0 ? len : e + 2;
        // a newline inside a block comment still starts a new line
        if (text.lastIndexOf('\n', stop - 1) >= i) lineStart = true;
        i = stop;
        continue;
      }
      if (d === 47) {
        i = skipLineComment(text, i + 2);
        continue;
      }
    }
    // backslash-newline continuation outside directives
    if (c === 92 && i + 1 < len && (text.charCodeAt(i + 1) === 10 || text.charCodeAt(i + 1) === 13)) {
      i += text.charCodeAt(i + 1) === 13 && text.charCodeAt(i + 2) === 10 ? 3 : 2;
      continue;
    }
    if (c === 35 && lineStart) {
      const e = skipDirective(text, i + 1);
      push(T_PP, i, e);
      i = e;
      continue;
    }
    lineStart = false;
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < len && isIdentChar(text.charCodeAt(j))) j++;
      // string prefixes L"", u8"" ...
      if (j < len && (text.charCodeAt(j) === 34 || text.charCodeAt(j) === 39) && j - i <= 2) {
        const e = skipQuoted(text, j);
        push(T_STR, i, e);
        i = e;
        continue;
      }
      push(T_IDENT, i, j);
      i = j;
      continue;
    }
    if ((c >= 48 && c <= 57) || (c === 46 && i + 1 < len && text.charCodeAt(i + 1) >= 48 && text.charCodeAt(i + 1) <= 57)) {
      let j = i + 1;
      while (j < len) {
        const d = text.charCodeAt(j);
        if (isIdentChar(d) || d === 46) j++;
        else if ((d === 43 || d === 45) && /[eEpP]/.test(text[j - 1] ?? '')) j++;
        else break;
      }
      push(T_NUM, i, j);
      i = j;
      continue;
    }
    if (c === 34 || c === 39) {
      const e = skipQuoted(text, i);
      push(T_STR, i, e);
      i = e;
      continue;
    }
    // punctuation: group the multi-character operators we need to tell apart
    let j = i + 1;
    if (i + 1 < len) {
      const d = text.charCodeAt(i + 1);
      if ((c === 45 && (d === 62 || d === 45)) || (c === 43 && d === 43)) j = i + 2; // -> -- ++
      else if ((c === 38 && d === 38) || (c === 124 && d === 124)) j = i + 2;
      else if ((c === 61 || c === 33 || c === 60 || c === 62) && d === 61) j = i + 2;
      else if (c === 46 && d === 46 && text.charCodeAt(i + 2) === 46) j = i + 3;
      else if ((c === 60 && d === 60) || (c === 62 && d === 62)) j = text.charCodeAt(i + 2) === 61 ? i + 3 : i + 2;
      else if (d === 61 && (c === 43 || c === 45 || c === 42 || c === 47 || c === 37 || c === 38 || c === 124 || c === 94)) j = i + 2;
    }
    push(T_PUNCT, i, j);
    i = j;
  }
  // sentinel after the last token (arrays are reused: never leave stale data at index n)
  push(0, len, len);
  n--;
  pool = { n, kind, start, end, code };
  return pool;
}

/** Zeroed dead/closedKind and a match array filled with -1, for n tokens (reused). */
function auxArrays(n: number): { dead: Uint8Array; match: Int32Array; closedKind: Uint8Array } {
  if (poolAux.dead.length < n) {
    const c = Math.max(1024, n + (n >> 1));
    poolAux = { dead: new Uint8Array(c), match: new Int32Array(c), closedKind: new Uint8Array(c) };
  }
  poolAux.dead.fill(0, 0, n);
  poolAux.match.fill(-1, 0, n);
  poolAux.closedKind.fill(0, 0, n);
  return poolAux;
}

function skipLineComment(text: string, i: number): number {
  const len = text.length;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      // a backslash before the newline continues the comment
      let k = i - 1;
      if (k >= 0 && text.charCodeAt(k) === 13) k--;
      if (k >= 0 && text.charCodeAt(k) === 92) {
        i++;
        continue;
      }
      return i;
    }
    i++;
  }
  return len;
}

/** Skip a string or character literal starting at its quote; stops at an unescaped newline. */
function skipQuoted(text: string, i: number): number {
  const len = text.length;
  const q = text.charCodeAt(i);
  i++;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c === q) return i + 1;
    if (c === 92) {
      i += 2;
      continue;
    }
    if (c === 10) return i;
    i++;
  }
  return len;
}

/** End of a preprocessor directive (exclusive, before its newline), following continuations and comments. */
function skipDirective(text: string, i: number): number {
  const len = text.length;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c === 10) return i;
    if (c === 92 && i + 1 < len) {
      const d = text.charCodeAt(i + 1);
      if (d === 10) {
        i += 2;
        continue;
      }
      if (d === 13 && text.charCodeAt(i + 2) === 10) {
        i += 3;
        continue;
      }
    }
    if (c === 47 && i + 1 < len) {
      const d = text.charCodeAt(i + 1);
      if (d === 42) {
        const e = text.indexOf('*/', i + 2);
        i = e < 0 ? len : e + 2;
        continue;
      }
      if (d === 47) return skipLineComment(text, i + 2);
    }
    if (c === 34 || c === 39) {
      i = skipQuoted(text, i);
      continue;
    }
    i++;
  }
  return len;
}

/* ---------------------------------------------------------------- tables */

const ATTR_WORDS = [
  '__rcu', '__user', '__iomem', '__percpu', '__force', '__must_check', '__maybe_unused', '__always_unused',
  '__init', '__exit', '__initdata', '__initconst', '__exitdata', '__read_mostly', '__cold', '__hot',
  '__always_inline', 'noinline', 'noinline_for_stack', '__noinline', '__packed', '__nocast', '__bitwise',
  '__bitwise__', 'asmlinkage', 'notrace', '__visible', '__weak', '__latent_entropy', '__sched', '__ro_after_init',
  '__used', '__unused', '__noreturn', '__pure', '__malloc', '__deprecated', '__flatten', '__noclone', '__naked',
  '__randomize_layout', '__no_randomize_layout', '__designated_init', '__ref', '__refdata', '__refconst',
  '__meminit', '__meminitdata', '__init_or_module', '__initdata_or_module', '__net_init', '__net_exit',
  '__net_initdata', '__kprobes', '__nocfi', 'noinstr', '__noinstr', '__no_kcsan', '__no_sanitize_address',
  '__no_sanitize_thread', '__no_sanitize_undefined', '__no_profile', '__fix_address', '__safe', '__private',
  '__kernel', '__attribute_const__', '__data_racy', '__cpuidle', '__irq_entry', '__softirq_entry', '__lockfunc',
  '__ksym', '__bpf_kfunc', '__bpf_fastcall', '__noscs', '__no_stack_protector', '__nonstring', '__mustcheck',
  '__page_aligned_data', '__page_aligned_bss', '__initrodata', '__exit_call', '__init_call', '__cacheline_aligned',
  '__cacheline_aligned_in_smp', '____cacheline_aligned', '____cacheline_aligned_in_smp',
  '____cacheline_internodealigned_in_smp', '__cacheline_internodealigned_in_smp', '__ro_after_init_scope',
  '__sched_text', '__always_unused', '__maybe_unused', '__noendbr', '__init_memblock', '__initdata_memblock',
  '__nostackprotector', '__inline', '__inline__', '__restrict', '__restrict__', '__extension__', '__const',
  '__signed__', '__volatile', '__rcu_bh', '__kernel_rcu', '__iomem_', '__percpu_', '__must_be_checked',
  '__nocapture', '__no_kasan_or_inline', '__no_sanitize_or_inline', '__always_used', '__trace_iter',
  '__counted_by_le', '__counted_by_be', '__packed__', '__user_ptr', '__bpf_nullable', '__arg_ctx', '__arg_nonnull',
  '__arg_untrusted', '__arg_trusted', '__arg_nullable', '__weak_alias', '__xdata', '__devinit', '__devexit',
  '__devinitdata', '__cpuinit', '__cpuinitdata',
];

/** Attribute macros that take a parenthesised argument list (blanked with it). */
const ATTR_CALLS = [
  '__attribute__', '__attribute', '__declspec', '__printf', '__scanf', '__aligned', '__acquires', '__releases',
  '__must_hold', '__cond_acquires', '__cond_acquires_shared', '__acquires_shared', '__releases_shared',
  '__must_hold_shared', '__cond_releases', '__free', '__cleanup', '__counted_by', '__counted_by_le',
  '__counted_by_be', '__counted_by_ptr', '__guarded_by', '__pt_guarded_by', '__section', '__alias', '__alloc_size',
  '__realloc_size', '__nonnull', '__diagnose_as', '__assume_aligned', '__copy', '__no_sanitize', '__format',
  '__no_context_analysis', '__context__', '__cond_lock_attr', '__force_align', '__sanitize', '__must_be_array_attr',
  '__uninitialized', '__nocfi_attr', '__bpf_kptr', '__kptr', '__percpu_kptr', '__aligned_largest',
  '__stringify_attr', '__weak_alias_fn', '__ALIGN_KERNEL_ATTR', '__exclusive_locks_required', '__symbol_attr',
  'CONTEXT_ANALYSIS', '__randomize_layout_fn', '__nonstring_fn', '__BPF_TYPE_TAG', '__btf_decl_tag', '__tag',
];

const ATTRS = new Set<string>(ATTR_WORDS);
const ATTR_FNS = new Set<string>(ATTR_CALLS);
/** First characters of attribute names and `asm_inline`: a cheap gate before hashing an identifier. */
const ATTR_FIRST = new Set<number>([...ATTR_WORDS, ...ATTR_CALLS, 'asm_inline'].map((w) => w.charCodeAt(0)));

const TYPE_KW = new Set([
  'void', 'char', 'short', 'int', 'long', 'float', 'double', 'signed', 'unsigned', '_Bool', '__signed__',
  '_Complex', '__int128',
]);
const TAG_KW = new Set(['struct', 'union', 'enum']);
/** Keywords that can follow an attribute-like macro in declaration specifiers. */
const SPEC_KW = new Set([
  'static', 'extern', 'inline', '__inline', '__inline__', 'void', 'char', 'short', 'int', 'long', 'float', 'double',
  'signed', 'unsigned', '_Bool', 'struct', 'union', 'enum', 'typedef', 'const', 'volatile',
]);
const QUAL_KW = new Set(['const', 'volatile', 'restrict', '__restrict', '__restrict__', '__const', '__volatile__']);
const STMT_KW = new Set(['return', 'goto', 'break', 'continue']);
/** Keywords that open a parenthesised construct the grammar handles itself. */
const BUILTIN_PARENS = new Set([
  'sizeof', 'offsetof', '__builtin_offsetof', '_Alignof', '__alignof__', '__alignof', 'alignof', 'typeof', '__typeof__', '__typeof', 'typeof_unqual', '__typeof_unqual__', '_Generic',
  '__builtin_types_compatible_p', 'asm', '__asm__', '__asm', '_Static_assert', 'static_assert', 'defined',
]);
const KEYWORDS = new Set([
  'auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double', 'else', 'enum', 'extern',
  'float', 'for', 'goto', 'if', 'inline', 'int', 'long', 'register', 'restrict', 'return', 'short', 'signed',
  'sizeof', 'static', 'struct', 'switch', 'typedef', 'union', 'unsigned', 'void', 'volatile', 'while', '_Bool',
  'asm', '__asm__', 'typeof', '__typeof__',
]);

/** Top-level invocations that are blanked with their `;` (module metadata, exports, initcalls). */
function isTopLevelNoise(name: string): boolean {
  return (
    name.startsWith('EXPORT_') ||
    name.startsWith('MODULE_') ||
    name.startsWith('module_param') ||
    name === '__setup' ||
    name === 'early_param' ||
    name === 'core_param' ||
    name === '__initcall' ||
    name === '__exitcall' ||
    name.endsWith('_initcall') ||
    name.endsWith('_initcall_sync') ||
    name === 'ALLOW_ERROR_INJECTION' ||
    name === 'NOKPROBE_SYMBOL' ||
    name.startsWith('BTF_') ||
    name.startsWith('__diag_') ||
    name === 'MODULE_IMPORT_NS' ||
    name === 'postcore_initcall' ||
    name === 'subsys_initcall' ||
    name === 'fs_initcall' ||
    name === 'late_initcall' ||
    name === 'device_initcall' ||
    name === 'arch_initcall' ||
    name === 'core_initcall' ||
    name === 'pure_initcall'
  );
}

function isUpperMacro(name: string): boolean {
  let upper = false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 97 && c <= 122) return false;
    if (c >= 65 && c <= 90) upper = true;
  }
  return upper;
}

function isIterator(name: string): boolean {
  return name.includes('for_each') || name.includes('FOR_EACH');
}

/* ---------------------------------------------------------------- contexts */

const C_TOP = 0;
const C_FNBODY = 1; // function body
const C_BLOCK = 2; // compound statement inside a function
const C_INIT = 3; // initializer list
const C_RECORD = 4; // struct/union/enum body
const C_CALL = 5; // argument list of a call in code
const C_ITER = 6; // argument list of a rewritten iterator / scoped guard
const C_COND = 7; // if/while/switch condition, for header
const C_PAREN = 8; // other parentheses (grouping, casts, declarators)
const C_DECL = 9; // parameter list of a declarator
const C_BRACKET = 10;
const C_MACRO = 11; // argument list of a file-scope macro invocation

/* ---------------------------------------------------------------- normaliser */

export function normalizeKernelC(text: string): string {
  try {
    return normalizeUnsafe(text);
  } catch {
    // Never fail the caller: a normaliser bug must not lose the file.
    return text;
  }
}

/** Same as normalizeKernelC but lets an internal error escape (tests and the benchmark use it to find bugs). */
export function normalizeKernelCStrict(text: string): string {
  const out = normalizeUnsafe(text);
  if (out.length !== text.length) throw new Error('normaliser changed the length');
  return out;
}

/*
 * Per-call state of the normaliser. It lives at module level so that the
 * helpers below are created once: as closures made anew for every file, they
 * sent V8 into a deoptimise-recompile loop ("wrong call target"; on
 * drivers/gpu/drm the normaliser was recompiled 46 times at ~120 ms each, per
 * thread). normalizeUnsafe is not reentrant, and each thread has its own module.
 */
let text = '';
let n = 0;
let kind: Tokens['kind'] = pool.kind;
let start: Tokens['start'] = pool.start;
let end: Tokens['end'] = pool.end;
let code: Tokens['code'] = pool.code;
let dead: Uint8Array = poolAux.dead;
let match: Int32Array = poolAux.match;
let closedKind: Uint8Array = poolAux.closedKind;
/** Edits, token-sized: blanked ranges (s === null) and same-length replacements. */
let edits: { at: number; end: number; s: string | null }[] = [];
let changed = false;
/** #if token -> its directives (#if, #elif/#else..., #endif) */
let groups = new Map<number, number[]>();
let ctx: number[] = [];
let ctxOpen: number[] = [];
/** Last live token (PP included). */
let prev = -1;
/** The rewritten iterator / scoped_guard name whose `(` comes next. */
let iterHead = -1;

function normalizeUnsafe(input: string): string {
  text = input;
  try {
    return normalizeText();
  } finally {
    text = ''; // the state keeps no file alive between calls
    edits = [];
    groups = new Map();
  }
}

function normalizeText(): string {
  ({ n, kind, start, end, code } = tokenize(text));
  if (n === 0) return text;
  ({ dead, match, closedKind } = auxArrays(n + 1));
  edits = [];
  changed = false;
  groups = new Map();
  /* -- 6a. preprocessor conditional groups with unbalanced branches: keep the first branch */
  fixConditionals();

  /* -- bracket matching over live code tokens */
  {
    const stack: number[] = [];
    for (let t = 0; t < n; t++) {
      if (dead[t] || kind[t] !== T_PUNCT) continue;
      const c = ch(t);
      if (c === 40 || c === 91 || c === 123) stack.push(t);
      else if (c === 41 || c === 93 || c === 125) {
        const open = c === 41 ? 40 : c === 93 ? 91 : 123;
        // pop to the nearest matching opener (tolerate junk)
        let k = stack.length - 1;
        while (k >= 0 && ch(stack[k]!) !== open) k--;
        if (k >= 0) {
          const o = stack[k]!;
          stack.length = k;
          match[o] = t;
          match[t] = o;
        }
      }
    }
  }

  /* -- main pass */
  ctx = [C_TOP];
  ctxOpen = [-1];
  prev = -1;
  iterHead = -1;

  for (let i = 0; i < n; i++) {
    if (dead[i]) continue;
    const k = kind[i];
    if (k === T_PP) {
      fixDirectiveInExpression(i);
      if (!dead[i]) prev = i;
      continue;
    }
    if (k === T_IDENT) {
      i = identToken(i);
      continue;
    }
    if (k === T_PUNCT) {
      i = punctToken(i);
      continue;
    }
    prev = i;
  }

  if (!changed) return text;
  // assemble: edits sorted by position, a replacement winning over a blank of the same token
  edits.sort((x, y) => x.at - y.at || (x.s === null ? 1 : 0) - (y.s === null ? 1 : 0));
  const out: string[] = [];
  let pos = 0;
  for (const e of edits) {
    if (e.at < pos) continue; // already covered
    if (e.at > pos) out.push(text.slice(pos, e.at));
    out.push(e.s ?? blankText(text, e.at, e.end));
    pos = e.end;
  }
  if (pos < text.length) out.push(text.slice(pos));
  const result = out.join('');
  return result.length === text.length ? result : text;
}

/** The main pass on an identifier token: returns the last token it consumed (the pass goes on after it). */
function identToken(i: number): number {
    const c0 = text.charCodeAt(start[i]);
    const o = nextLive(i);
    const hasArgs = ch(o) === 40 && match[o] > o;
    const c = top();
    // Only identifiers that can matter are looked up (hashing every identifier costs).
    const interesting =
      ATTR_FIRST.has(c0) ||
      hasArgs ||
      ((c === C_CALL || c === C_ITER) && (c0 === 114 || c0 === 103 || c0 === 98 || c0 === 99)) || // return goto break continue
      (kind[o] === T_IDENT && (c === C_TOP || c0 === 115));
    if (!interesting) {
      prev = i;
      return i;
    }
    const w = word(i);
    // 5. attributes
    if (ATTRS.has(w)) {
      kill(i);
      return i;
    }
    if (ATTR_FNS.has(w)) {
      if (hasArgs) {
        killRange(i, match[o]!);
        i = match[o]!;
      } else kill(i);
      return i;
    }
    if ((w === 'asm' || w === '__asm__' || w === '__asm') && hasArgs && prev >= 0 && ((kind[prev] === T_IDENT && !KEYWORDS.has(word(prev))) || ch(prev) === 93)) {
      // register variable / symbol rename: `register u64 x0 asm("x0") = v;`
      killRange(i, match[o]!);
      i = match[o]!;
      return i;
    }
    if (hasArgs && ch(prev) === 125 && w.startsWith('while_each')) {
      // `do { ... } while_each_thread(g, t);` -> `do { ... } while            (g, t);`
      // `} while_each_subsys_mask();` -> `} while(0)              ;`
      if (nextLive(o) === match[o]) {
        kill(o);
        kill(match[o]!);
        replace(i, 'while(0)');
        prev = match[o]!;
        closedKind[match[o]!] = C_COND;
        i = match[o]!;
        return i;
      }
      replace(i, 'while');
      prev = i;
      iterHead = i;
      return i;
    }
    if (w === 'asm_inline') {
      replace(i, 'asm');
      prev = i;
      return i;
    }
    // 4. statement keywords inside macro arguments
    if ((c === C_CALL || c === C_ITER) && STMT_KW.has(w)) {
      if (w === 'break' || w === 'continue') replace(i, '0');
      else kill(i);
      return i;
    }
    if (hasArgs && (c === C_FNBODY || c === C_BLOCK) && isStmtBoundary(prev)) {
      const close = match[o]!;
      const after = nextLive(close);
      const ac = ch(after);
      const body = after < n && ac !== 59 && ac !== 44 && ac !== 41 && ac !== 61 && ac !== 46 && !(kind[after] === T_PUNCT && text.charCodeAt(start[after]) === 45 && end[after] - start[after] === 2 && text.charCodeAt(start[after] + 1) === 62);
      // 1. iterators, 2. scoped guards
      // `drm_exec_until_all_locked(&exec) {`, or a loop macro whose body sits on a deeper-indented line:
      // `with_intel_runtime_pm(rpm, wf)\n\t\tstmt;`
      const blockMacro = !KEYWORDS.has(w) && (ac === 123 || (body && kind[after] === T_IDENT && !KEYWORDS.has(word(after)) && indentOf(start[after]) > indentOf(start[i]) && lineOf(after) > lineOf(close)));
      if (body && (isIterator(w) || w === 'scoped_guard' || w === 'scoped_cond_guard' || blockMacro)) {
        const kw = w.startsWith('scoped_') ? 'if' : 'while';
        if (nextLive(o) === close) {
          // empty argument list: `name()` -> `while(_)` over name and parens (not a constant:
          // the loop may end)
          kill(o);
          kill(close);
          replace(i, `${kw}(_)`);
          closedKind[close] = C_ITER;
          prev = close;
          i = close;
          return i;
        }
        replace(i, kw);
        prev = i;
        iterHead = i;
        return i; // the `(` is handled below as C_ITER
      }
      // 10. an upper-case statement macro used without `;` (`CHECK_PROPERTY(hpos, HPOS)` then a new
      // statement on the next line, not deeper indented): `{}` over its name, arguments blanked.
      if (isUpperMacro(w) && after < n && lineOf(after) > lineOf(close) && indentOf(start[after]) <= indentOf(start[i]) && !typeMacroDecl(close) &&
        (kind[after] === T_IDENT || ac === 125 || ac === 40 || ac === 42 || word(after) === '++' || word(after) === '--')) {
        replace(i, '{}');
        dead[i] = 1;
        for (let t = o; t <= close; t++) if (!dead[t]) kill(t);
        prev = close;
        closedKind[close] = C_COND;
        i = close;
        return i;
      }
    }
    // 9. a macro (or typeof) standing for a type in a declaration: `BKEY_PADDED_ONSTACK(k, N) tmp;`,
    // `DARRAY(struct x) list;`, `typeof(a->b) v = ...;` -> the name stays as a type (typeof becomes `int`)
    // and its parenthesised arguments are blanked.
    if (hasArgs && c !== C_CALL && c !== C_ITER && c !== C_PAREN && c !== C_COND && c !== C_BRACKET && (isStmtBoundary(prev) || declStart(prev) || isQualifier(prev))) {
      const close = match[o]!;
      const isTypeof = w === 'typeof' || w === '__typeof__' || w === '__typeof' || w === 'typeof_unqual' || w === '__typeof_unqual__';
      if ((isTypeof || isUpperMacro(w) || w === 'typeof_member') && typeMacroDecl(close, isTypeof)) {
        if (isTypeof) replace(i, 'int');
        for (let t = o; t <= close; t++) if (!dead[t]) kill(t);
        prev = i;
        i = close;
        return i;
      }
    }
    // 7c. `static DEFINE_PER_CPU(struct x, y);` / `static DEFINE_RATELIMIT_STATE(rs, HZ, 10);`: the grammar reads
    // `static NAME(` as a macro type specifier taking one type; without `static` it is a plain call statement.
    if ((w === 'static' || w === 'extern') && kind[o] === T_IDENT && isUpperMacro(word(o)) && isStmtBoundary(prev)) {
      const op = nextLive(o);
      if (ch(op) === 40 && match[op] > op && ch(nextLive(match[op]!)) === 59 && hasTopLevelComma(op, match[op]!)) {
        kill(i);
        return i;
      }
    }
    // 8. declaration-specifier macros at file scope: `STATIC void f()`, `static forceinline u32 f()`
    if (c === C_TOP && !hasArgs && kind[o] === T_IDENT && !KEYWORDS.has(w) && declStart(prev)) {
      if (w === 'STATIC') {
        replace(i, 'static');
        prev = i;
        return i;
      }
      const o1 = nextCode(i);
      const w1 = kind[o1] === T_IDENT ? word(o1) : '';
      let o2 = nextCode(o1);
      while (ch(o2) === 42) o2 = nextCode(o2);
      const junk =
        w1 !== '' &&
        ((SPEC_KW.has(w1) && !QUAL_KW.has(w1)) ||
          (kind[o2] === T_IDENT && !KEYWORDS.has(w1) && !KEYWORDS.has(word(o2)) && !ATTR_FNS.has(w1) && ch(nextCode(o2)) === 40));
      if (junk) {
        kill(i);
        return i;
      }
    }
    // 7. file-scope macro invocations
    if (hasArgs && c === C_TOP && isStmtBoundary(prev)) {
      const close = match[o]!;
      const after = nextLive(close);
      const ac = ch(after);
      if (isTopLevelNoise(w)) {
        killRange(i, ac === 59 ? after : close);
        i = ac === 59 ? after : close;
        return i;
      }
      const declLike = ac === 59 || ac === 123 || ac === 44 || ac === 61 || ac === 91 || ac === 40 || ac === 58;
      if (after < n && !declLike && kind[after] === T_IDENT && !ATTRS.has(word(after)) && !ATTR_FNS.has(word(after)) && (lineOf(after) > lineOf(close))) {
        killRange(i, close);
        i = close;
        return i;
      }
    }
    // 7b. DECLARE_BITMAP(name, N); inside a struct body
    if (hasArgs && c === C_RECORD && isStmtBoundary(prev) && isUpperMacro(w)) {
      const close = match[o]!;
      const after = nextLive(close);
      const first = nextLive(o);
      if (ch(after) === 59 && kind[first] === T_IDENT && (ch(nextLive(first)) === 44 || nextLive(first) === close) && w.length >= 3) {
        replace(i, 'int');
        kill(o);
        for (let t = nextLive(first); t <= close; t++) if (!dead[t]) kill(t);
        prev = after;
        i = after;
        return i;
      }
    }
    prev = i;
    return i;
}

/** The main pass on a punctuation token: returns the last token it consumed (the pass goes on after it). */
function punctToken(i: number): number {
    const c = ch(i);
    if (c === 40) {
      // (
      let kindOf = C_PAREN;
      const p = prev;
      if (p >= 0 && kind[p] === T_IDENT) {
        const w = word(p);
        if (w === 'if' || w === 'while' || w === 'switch' || w === 'for') kindOf = C_COND;
        else if (p === iterHead) kindOf = C_ITER;
        else if (BUILTIN_PARENS.has(w) || w.startsWith('__builtin_')) {
          kindOf = C_PAREN;
          if ((w === 'offsetof' || w === '__builtin_offsetof') && match[i] > i) {
            const a0 = nextLive(i);
            const w0 = kind[a0] === T_IDENT ? word(a0) : '';
            if (w0.includes('typeof')) {
              // the grammar wants a type name: `offsetof(typeof(*p), f)` becomes the call `offsetoF(...)`
              replace(p, w.slice(0, -1) + 'F');
              kindOf = C_CALL;
            } else offsetofMember(i, match[i]!);
          }
        }
        else if (KEYWORDS.has(w)) kindOf = C_PAREN;
        else if (top() === C_TOP) kindOf = isStmtBoundary(prevOf(p)) ? C_MACRO : C_DECL;
        else if (top() === C_RECORD || top() === C_DECL) kindOf = C_DECL;
        else kindOf = C_CALL;
      } else if (p >= 0 && ch(p) === 41 && closedKind[p] === C_CALL) kindOf = C_CALL; // guard(x)(args)
      if (top() === C_DECL && kindOf === C_PAREN) kindOf = C_DECL;
      if ((kindOf === C_CALL || kindOf === C_ITER || kindOf === C_MACRO) && match[i] > i) typeArgs(i, match[i]!, kindOf !== C_MACRO && inCode(), true);
      else if (kindOf === C_DECL && ctx.length === 1 && match[i] > i) typeArgs(i, match[i]!, false, false); // static DEFINE_PER_CPU(struct x, y);
      ctx.push(kindOf);
      ctxOpen.push(i);
      prev = i;
      return i;
    }
    if (c === 91) {
      ctx.push(C_BRACKET);
      ctxOpen.push(i);
      prev = i;
      return i;
    }
    if (c === 123) {
      // {
      const p = prev;
      const t = top();
      const pc = ch(p);
      let kindOf = C_BLOCK;
      if (t === C_TOP || t === C_RECORD || t === C_DECL || t === C_MACRO) {
        if (pc === 41 && t === C_TOP) kindOf = C_FNBODY;
        else if (pc === 61 || pc === 44 || pc === 123 || pc === 40) kindOf = C_INIT;
        else kindOf = C_RECORD;
      } else if (t === C_INIT || t === C_CALL || t === C_PAREN || t === C_BRACKET || t === C_COND) {
        kindOf = pc === 40 && (t === C_CALL || t === C_PAREN || t === C_COND) ? C_BLOCK : C_INIT;
        if (p >= 0 && kind[p] === T_IDENT && (word(p) === 'struct' || word(p) === 'union' || word(p) === 'enum' || isTagName(p))) kindOf = C_RECORD;
      } else {
        // inside a function
        if (pc === 61 || pc === 44) kindOf = C_INIT;
        else if (pc === 41 && closedKind[p] === C_PAREN) kindOf = C_INIT; // compound literal
        else if (p >= 0 && kind[p] === T_IDENT && (isTagName(p) || TAG_KW.has(word(p)))) kindOf = C_RECORD;
        else kindOf = C_BLOCK;
      }
      ctx.push(kindOf);
      ctxOpen.push(i);
      prev = i;
      return i;
    }
    if (c === 41 || c === 93 || c === 125) {
      // close the innermost context opened by the matching bracket
      const o = match[i];
      if (o >= 0) {
        let d = ctxOpen.length - 1;
        while (d > 0 && ctxOpen[d] !== o) d--;
        if (d > 0) {
          closedKind[i] = ctx[d]!;
          ctx.length = d;
          ctxOpen.length = d;
        }
      }
      prev = i;
      return i;
    }
    if (end[i] - start[i] === 3 && text.charCodeAt(start[i]) === 46 && (inCode() || top() === C_INIT || top() === C_BRACKET) && top() !== C_DECL && top() !== C_CALL) {
      // GNU ranges `case 1 ... 3:` / `[0 ... 7] = x`: `...` -> `+0+` (an expression)
      replace(i, '+0+');
      prev = i;
      return i;
    }
    if (c === 59 && (top() === C_CALL || top() === C_ITER)) {
      // 4. `;` inside macro arguments
      kill(i);
      return i;
    }
  prev = i;
  return i;
}

/* ------------------------------------------------------------ helpers */

function kill(t: number): void {
  dead[t] = 1;
  edits.push({ at: start[t], end: end[t], s: null });
  changed = true;
}
function killRange(a: number, b: number): void {
  for (let t = a; t <= b; t++) kill(t);
}
function word(t: number): string {
  return text.slice(start[t], end[t]);
}
function ch(t: number): number {
  return (t >= 0 && t < n ? code[t]! : -1);
}
function replace(t: number, s: string): void {
  // s must be no longer than the token; pad with spaces
  const len = end[t] - start[t];
  edits.push({ at: start[t], end: end[t], s: s + ' '.repeat(Math.max(0, len - s.length)) });
  changed = true;
}

function top(): number {
  return ctx[ctx.length - 1]!;
}
function inCode(): boolean {
  for (let k = ctx.length - 1; k >= 0; k--) {
    const c = ctx[k]!;
    if (c === C_FNBODY || c === C_BLOCK) return true;
    if (c === C_TOP || c === C_RECORD) return false;
  }
  return false;
}
function isStmtBoundary(p: number): boolean {
  if (p < 0) return true;
  if (kind[p] === T_PP) return true;
  if (kind[p] === T_IDENT) {
    const w = word(p);
    return w === 'else' || w === 'do';
  }
  const c = ch(p);
  if (c === 59 || c === 123 || c === 125) return true; // ; { }
  if (c === 58) return top() === C_FNBODY || top() === C_BLOCK; // label / case
  if (c === 41) {
    const k = closedKind[p];
    return k === C_COND || k === C_ITER;
  }
  return false;
}
/** Next live code token, also skipping attribute words not yet blanked. */
function nextCode(t: number): number {
  let k = t + 1;
  while (k < n && (dead[k] || kind[k] === T_PP || (kind[k] === T_IDENT && ATTRS.has(word(k))))) k++;
  return k;
}
function nextLive(t: number): number {
  let k = t + 1;
  while (k < n && (dead[k] || kind[k] === T_PP)) k++;
  return k;
}


function prevOf(t: number): number {
  let k = t - 1;
  while (k >= 0 && dead[k]) k--;
  return k;
}

function lineOf(t: number): number {
  // cheap monotone proxy: the offset of the last newline before the token
  return text.lastIndexOf('\n', start[t]);
}

/** After `)`: `ident ;|=|,|[|)` on the same line (or `*ident` when `star`): the macro call is a declaration's type. */
function typeMacroDecl(close: number, star = false): boolean {
  let a = nextLive(close);
  if (a >= n) return false;
  if (star) while (a < n && ch(a) === 42) a = nextLive(a);
  if (a >= n || kind[a] !== T_IDENT || KEYWORDS.has(word(a)) || lineOf(a) !== lineOf(close)) return false;
  const b = nextLive(a);
  const bc = ch(b);
  return bc === 59 || bc === 61 || bc === 44 || bc === 91;
}

function isQualifier(p: number): boolean {
  if (p < 0 || kind[p] !== T_IDENT) return false;
  const w = word(p);
  return w === 'const' || w === 'volatile' || w === 'static' || w === 'register';
}

function hasTopLevelComma(open: number, close: number): boolean {
  let depth = 0;
  for (let t = open + 1; t < close; t++) {
    if (dead[t] || kind[t] !== T_PUNCT) continue;
    const c = ch(t);
    if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) depth--;
    else if (c === 44 && depth === 0) return true;
  }
  return false;
}

/** At the start of a file-scope declaration, possibly after storage-class keywords. */
function declStart(p: number): boolean {
  if (isStmtBoundary(p)) return true;
  if (p >= 0 && kind[p] === T_IDENT) {
    const w = word(p);
    return w === 'static' || w === 'extern' || w === 'inline' || w === '__inline' || w === '__inline__';
  }
  return false;
}

function isTagName(t: number): boolean {
  const p = prevOf(t);
  if (p < 0 || kind[p] !== T_IDENT) return false;
  const w = word(p);
  return w === 'struct' || w === 'union' || w === 'enum';
}

/** `offsetof(T, a.b[i])`: the grammar takes one field name; keep `a`, blank the rest of the path. */
function offsetofMember(open: number, close: number): void {
  let depth = 0;
  let comma = -1;
  for (let t = open + 1; t < close; t++) {
    if (dead[t] || kind[t] !== T_PUNCT) continue;
    const c = ch(t);
    if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) depth--;
    else if (c === 44 && depth === 0) {
      comma = t;
      break;
    }
  }
  if (comma < 0) return;
  const f = nextLive(comma);
  if (f >= close || kind[f] !== T_IDENT) return;
  for (let t = f + 1; t < close; t++) if (!dead[t] && kind[t] !== T_PP) kill(t);
}

/** 3. Rewrite type-only arguments of a call `(` open .. close `)`. */
function typeArgs(open: number, close: number, allowPrimitive: boolean, statements: boolean): void {
  let a = open + 1;
  let depth = 0;
  let semi = false;
  let lastComma = -1;
  for (let t = open + 1; t <= close; t++) {
    if (dead[t] || kind[t] === T_PP) continue;
    const c = ch(t);
    if (c === 40 || c === 91 || c === 123) depth++;
    else if ((c === 41 || c === 93 || c === 125) && t !== close) depth--;
    else if (c === 59 && depth === 0) semi = true;
    if ((c === 44 && depth === 0) || t === close) {
      if (!statements || !stmtArg(a, t - 1, semi, t === close ? lastComma : -1)) typeArg(a, t - 1, allowPrimitive);
      a = t + 1;
      semi = false;
      if (c === 44) lastComma = t;
    }
  }
}

/**
 * 4. A statement (`if (c) break`, `r = -EINVAL; goto out`), a bare operator
 * (`ASSERTCMP(a, ==, b)`) or an empty last argument: blank it, leaving `0`.
 */
function stmtArg(a: number, b: number, semi: boolean, commaBefore: number): boolean {
  let first = -1;
  let allPunct = true;
  for (let t = a; t <= b; t++) {
    if (dead[t] || kind[t] === T_PP) continue;
    if (first < 0) first = t;
    if (kind[t] !== T_PUNCT) allPunct = false;
    else {
      const c = ch(t);
      if (c === 40 || c === 41 || c === 91 || c === 93 || c === 123 || c === 125 || end[t] - start[t] === 3) allPunct = false;
    }
  }
  if (first < 0) {
    // `f(a, b, )`: drop the dangling comma
    if (commaBefore >= 0) kill(commaBefore);
    return true;
  }
  const w = kind[first] === T_IDENT ? word(first) : '';
  const stmt = semi || w === 'if' || w === 'do' || w === 'while' || w === 'for' || w === 'switch' || w === 'goto' || w === 'break' || w === 'continue' || w === 'return';
  if (!stmt && !allPunct) return false;
  if (w === 'return' && !semi) {
    kill(first); // keep the returned expression
    return true;
  }
  for (let t = a; t <= b; t++) if (!dead[t] && kind[t] !== T_PP) kill(t);
  dead[first] = 1;
  replace(first, '0');
  return true;
}

function typeArg(a: number, b: number, allowPrimitive: boolean): void {
  // `typeof(struct x)` as an argument: keep `x`
  let f = a;
  while (f <= b && (dead[f] || kind[f] === T_PP)) f++;
  if (f <= b && kind[f] === T_IDENT && word(f).includes('typeof')) {
    const op = nextLive(f);
    const tag = nextLive(op);
    const name = nextLive(tag);
    const cl = nextLive(name);
    if (ch(op) === 40 && match[op] === cl && nextLive(cl) > b && kind[tag] === T_IDENT && TAG_KW.has(word(tag)) && kind[name] === T_IDENT) {
      kill(f);
      kill(op);
      kill(tag);
      kill(cl);
    }
    return;
  }
  // fast exit without allocating: a type name is identifiers and `*` only, and more than one identifier
  // unless it is a builtin type keyword
  let count = 0;
  let firstTok = -1;
  for (let t = a; t <= b; t++) {
    if (dead[t] || kind[t] === T_PP) continue;
    if (kind[t] !== T_IDENT && ch(t) !== 42) return;
    if (firstTok < 0) firstTok = t;
    count++;
  }
  if (count === 0 || kind[firstTok] !== T_IDENT) return;
  if (count === 1 && !TYPE_KW.has(word(firstTok))) return;
  const live: number[] = [];
  for (let t = a; t <= b; t++) if (!dead[t] && kind[t] !== T_PP) live.push(t);
  if (live.length === 0) return;
  let j = 0;
  const quals: number[] = [];
  while (j < live.length && kind[live[j]!] === T_IDENT && QUAL_KW.has(word(live[j]!))) quals.push(live[j++]!);
  if (j >= live.length) return;
  const t0 = live[j]!;
  if (kind[t0] !== T_IDENT) return;
  const w0 = word(t0);
  let nameTok = -1;
  let tagTok = -1;
  const prims: number[] = [];
  if (TAG_KW.has(w0)) {
    const t1 = live[j + 1];
    if (t1 === undefined || kind[t1] !== T_IDENT) return;
    tagTok = t0;
    nameTok = t1;
    j += 2;
  } else if (TYPE_KW.has(w0)) {
    while (j < live.length && kind[live[j]!] === T_IDENT && TYPE_KW.has(word(live[j]!))) prims.push(live[j++]!);
  } else {
    nameTok = t0;
    j += 1;
  }
  // trailing qualifiers and stars
  const tail: number[] = [];
  while (j < live.length) {
    const t = live[j]!;
    if (ch(t) === 42 || (kind[t] === T_IDENT && QUAL_KW.has(word(t)))) {
      tail.push(t);
      j++;
    } else break;
  }
  if (j !== live.length) return; // not a pure type name
  if (prims.length) {
    if (!allowPrimitive) return;
    for (const t of quals) kill(t);
    for (const t of tail) kill(t);
    replace(prims[0]!, '0');
    for (let q = 1; q < prims.length; q++) kill(prims[q]!);
    return;
  }
  if (tagTok < 0 && tail.length === 0 && quals.length === 0) return; // a plain identifier: already an expression
  if (tagTok >= 0) kill(tagTok);
  for (const t of quals) kill(t);
  for (const t of tail) kill(t);
  void nameTok;
}

function namedVariadic(t: number): void {
  const r = namedVariadicAt(text, start[t], end[t]);
  if (r) {
    edits.push({ at: r[0], end: r[1], s: null });
    changed = true;
  }
}

/* 6a: walk #if groups; blank directives + non-first branches of unbalanced groups */
function fixConditionals(): void {
  interface Group {
    directives: number[]; // token indices of #if, #elif/#else..., #endif
  }
  const stack: Group[] = [];
  for (let t = 0; t < n; t++) {
    if (kind[t] !== T_PP) continue;
    const d = directiveName(t);
    if (d === 'if' || d === 'ifdef' || d === 'ifndef') stack.push({ directives: [t] });
    else if (d === 'elif' || d === 'else' || d === 'elifdef' || d === 'elifndef') {
      const g = stack[stack.length - 1];
      if (g) g.directives.push(t);
    } else if (d === 'endif') {
      const g = stack.pop();
      if (!g) continue;
      g.directives.push(t);
      const ds = g.directives;
      groups.set(ds[0]!, ds);
      let balanced = true;
      for (let b = 0; b + 1 < ds.length && balanced; b++) balanced = isBalanced(ds[b]! + 1, ds[b + 1]! - 1) && branchEndsCleanly(ds[b]! + 1, ds[b + 1]! - 1);
      if (!balanced) keepFirstBranch(ds);
    }
  }
}

function keepFirstBranch(ds: number[]): void {
  kill(ds[0]!);
  const last = ds[ds.length - 1]!;
  if (ds.length > 2) killRange(ds[1]!, last);
  else kill(last);
}

/** A branch that ends in `else`, `)` or `&&`/`||`, or starts with `else`, continues a statement across the directive. */
function branchEndsCleanly(a: number, b: number): boolean {
  let first = -1;
  let last = -1;
  for (let t = a; t <= b; t++) {
    if (dead[t] || kind[t] === T_PP) continue;
    if (first < 0) first = t;
    last = t;
  }
  if (first < 0) return true;
  if (kind[first] === T_IDENT && word(first) === 'else') return false;
  if (kind[last] === T_IDENT) return word(last) !== 'else';
  if (kind[last] !== T_PUNCT) return true;
  const w = word(last);
  return w !== ')' && w !== '&&' && w !== '||' && w !== ':';
}

function indentOf(pos: number): number {
  let ls = text.lastIndexOf('\n', pos - 1) + 1;
  let col = 0;
  for (; ls < pos; ls++) {
    const c = text.charCodeAt(ls);
    if (c === 9) col = (col + 8) & ~7;
    else if (c === 32) col++;
    else break;
  }
  return col;
}

function isBalanced(a: number, b: number): boolean {
  let p = 0;
  let q = 0;
  for (let t = a; t <= b; t++) {
    if (dead[t] || kind[t] !== T_PUNCT) continue;
    const c = ch(t);
    if (c === 40) p++;
    else if (c === 41) {
      if (--p < 0) return false;
    } else if (c === 123) q++;
    else if (c === 125) {
      if (--q < 0) return false;
    }
  }
  return p === 0 && q === 0;
}

function directiveName(t: number): string {
  let i = start[t] + 1;
  const e = end[t];
  while (i < e && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  let j = i;
  while (j < e && isIdentChar(text.charCodeAt(j))) j++;
  return text.slice(i, j);
}

/* 6b: a conditional directive in the middle of an expression: keep the first branch */
function fixDirectiveInExpression(t: number): void {
  const d = directiveName(t);
  const c = top();
  const inBody = c === C_FNBODY || c === C_BLOCK;
  const afterLabel = inBody && ch(prev) === 58; // `err:` then `#ifdef`: a label needs a statement
  const inExpr = c === C_CALL || c === C_COND || c === C_PAREN || c === C_BRACKET || c === C_ITER || c === C_MACRO || c === C_DECL ||
    (c === C_INIT && ctx.length > 1) || afterLabel ||
    (inBody && !isStmtBoundary(prev) && !(prev >= 0 && kind[prev] === T_IDENT && isUpperMacro(word(prev))));
  if (d === 'define') namedVariadic(t);
  if (!inExpr) return;
  if (d === 'define' || d === 'undef' || d === 'pragma' || d === 'include' || d === 'error' || d === 'warning') {
    if (!afterLabel) kill(t);
    return;
  }
  if (d !== 'if' && d !== 'ifdef' && d !== 'ifndef') return;
  const ds = groups.get(t);
  if (!ds || ds.length < 2) return;
  keepFirstBranch(ds);
}

/** `#define F(args...)`: GNU named variadic parameters; the grammar knows only `...`, so blank the name. */
function namedVariadicAt(text: string, a: number, b: number): [number, number] | null {
  const line = text.slice(a, Math.min(b, a + 400));
  const m = /^#\s*define\s+\w+\(([^)]*?)(\w+)\.\.\.\)/.exec(line);
  if (!m) return null;
  const at = a + m[0].length - 4 - m[2]!.length;
  return [at, at + m[2]!.length];
}

function blankText(text: string, a: number, b: number): string {
  let s = '';
  let run = 0;
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      if (run) {
        s += ' '.repeat(run);
        run = 0;
      }
      s += c === 10 ? '\n' : '\r';
    } else run++;
  }
  if (run) s += ' '.repeat(run);
  return s;
}
