import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SyntaxNode as Node } from '../../src/core/parse/syntax';
import { nodeParser } from '../../src/node/assets';
import { normalizeKernelC, normalizeKernelCStrict } from '../../src/core/parse/normalize';
import { parseKernelC, functionName, hasDamage, type ParsedFile } from '../../src/core/parse/source';

/* ------------------------------------------------------------ helpers */

function assertInvariant(input: string): string {
  const out = normalizeKernelCStrict(input);
  assert.equal(out.length, input.length, 'length preserved');
  for (let i = 0; i < input.length; i++) {
    const a = input.charCodeAt(i);
    const b = out.charCodeAt(i);
    if (a === 10 || a === 13) assert.equal(b, a, `newline kept at ${i}`);
    else if (a !== b) assert.ok(b === 32 || (b >= 33 && b < 127), `replacement at ${i} is printable ASCII`);
    if (b === 10 || b === 13) assert.equal(a, b, `no newline introduced at ${i}`);
  }
  assert.equal(normalizeKernelC(input), out);
  return out;
}

async function parse(text: string): Promise<ParsedFile> {
  const parser = await nodeParser();
  return parseKernelC(parser, text);
}

function nodesOfType(root: Node, type: string): Node[] {
  return root.descendantsOfType(type).filter((n): n is Node => n !== null);
}

/** Parse, assert there is no ERROR/MISSING anywhere, hand the file to `fn`, dispose. */
async function clean(text: string, fn: (p: ParsedFile) => void): Promise<void> {
  assertInvariant(text);
  const p = await parse(text);
  try {
    assert.equal(hasDamage(p.tree.rootNode), false, `parse damage in:\n${p.normalized}\n${p.tree.rootNode.toString()}`);
    fn(p);
  } finally {
    p.dispose();
  }
}

const orig = (p: ParsedFile, n: Node): string => p.text.slice(n.startIndex, n.endIndex);

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/* ------------------------------------------------------------ invariants */

test('length and newline positions are preserved on kernel-style, broken and binary input', async () => {
  const samples = [
    '',
    '\n\n',
    '/* unterminated comment\n int x;\n list_for_each_entry(a, b, c) {',
    '"unterminated string\n scoped_guard(mutex, &l) {',
    "char c = '\\'';\n#if 1\n foo(a,\n#else\n bar(b,\n",
    '#define X(a) \\\n  list_for_each_entry(a, b, c) \\\n  { }\n',
    'void f(void) { for_each_x() ; for_each_y() x++; ((((((( }',
    ')))}}}]]] __attribute__((( __free( __acquires(',
    'int f(void)\r\n{\r\n\tlist_for_each_entry(p, h, m)\r\n\t\tx++;\r\n}\r\n',
    'x = "\u00e9\u{1F600}"; /* \u{1F600} */ int \u00e9t\u00e9 __user *p;',
  ];
  for (const s of samples) assertInvariant(s);

  const r = rng(42);
  const alphabet = 'abcdefor_each(){}[];,*&#\n\r\t "\'\\/ifelsestructscoped_guard__acquires01';
  for (let k = 0; k < 200; k++) {
    let s = '';
    const len = Math.floor(r() * 400);
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)];
    assertInvariant(s);
  }
  for (let k = 0; k < 50; k++) {
    let s = '';
    const len = Math.floor(r() * 2000);
    for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(r() * 0x10000));
    assertInvariant(s);
  }
  // Pathological nesting and many directives inside one expression: must finish (linear scan).
  assertInvariant(`void f(void) { x = ${'('.repeat(20000)}1${')'.repeat(20000)}; }`);
  assertInvariant(`void f(void) { x = a\n${'#ifdef A\n| b\n#else\n| c\n#endif\n'.repeat(5000)}; }`);
  assertInvariant('{'.repeat(30000) + 'list_for_each_entry(a,b,c) {' + '}'.repeat(10));

  // and the parser accepts all of it without throwing
  const p = await parse(String.fromCharCode(0, 1, 2, 0xd800, 65, 0xdc00, 10, 255) + '/* x');
  assert.equal(p.text.length, p.normalized.length);
  p.dispose();
});

test('results do not depend on what was normalised before (reused token buffers)', () => {
  const small = 'void f(void)\n{\n\tlist_for_each_entry(p, h, m)\n\t\tx(p);\n\tg(a)\n}\n';
  const fresh = normalizeKernelCStrict(small);
  const big = `void g(void)\n{\n${'\tscoped_guard(mutex, &l) { q = container_of(p, struct foo, m); }\n'.repeat(3000)}}\n`;
  normalizeKernelCStrict(big);
  assert.equal(normalizeKernelCStrict(small), fresh);
  assert.equal(normalizeKernelCStrict(small.slice(0, 20)), normalizeKernelCStrict(small.slice(0, 20)));
});

test('text that needs no rewriting is returned unchanged', () => {
  const s = 'int f(int a)\n{\n\treturn a + 1;\n}\n';
  assert.equal(normalizeKernelC(s), s);
});

/* ------------------------------------------------------------ iterators */

test('iterator macros become while_statement whose body is the user block', async () => {
  const src = [
    'static void walk(struct dev *dev)',
    '{',
    '\tstruct item *pos, *n;',
    '\tlist_for_each_entry(pos, &dev->items, link) {',
    '\t\tpos->count++;',
    '\t}',
    '\tlist_for_each_entry_safe(pos, n, &dev->items, link)',
    '\t\tkfree(pos);',
    '\thlist_for_each_entry_rcu(pos, &dev->hash[0], node)',
    '\t\tuse(pos);',
    '\tdrm_for_each_crtc(crtc, dev) {',
    '\t\tif (!crtc->enabled)',
    '\t\t\tcontinue;',
    '\t}',
    '\tfor_each_set_bit(bit, dev->mask, 64)',
    '\t\tclear(bit);',
    '\txa_for_each(&dev->xa, index, entry) { drop(entry); }',
    '\tidr_for_each_entry(&dev->idr, entry, id)',
    '\t\tbreak;',
    '\tfor_each_possible_cpu(cpu) per_cpu(x, cpu) = 0;',
    '\tidr_for_each(&dev->idr, cb, NULL);',
    '}',
  ].join('\n');
  await clean(src, (p) => {
    const loops = nodesOfType(p.tree.rootNode, 'while_statement');
    const names = loops.map((l) => /^\w+/.exec(orig(p, l))?.[0]);
    assert.deepEqual(names, [
      'list_for_each_entry',
      'list_for_each_entry_safe',
      'hlist_for_each_entry_rcu',
      'drm_for_each_crtc',
      'for_each_set_bit',
      'xa_for_each',
      'idr_for_each_entry',
      'for_each_possible_cpu',
    ]);
    const first = loops[0]!;
    assert.equal(first.childForFieldName('body')?.type, 'compound_statement');
    assert.match(orig(p, first.childForFieldName('body')!), /pos->count\+\+/);
    assert.equal(loops[1]!.childForFieldName('body')?.type, 'expression_statement');
    assert.equal(orig(p, loops[1]!.childForFieldName('body')!), 'kfree(pos);');
    // the `continue` inside drm_for_each_crtc belongs to that loop
    assert.equal(nodesOfType(loops[3]!, 'continue_statement').length, 1);
    // a real function whose name contains for_each, called with `;`, stays a call
    const calls = nodesOfType(p.tree.rootNode, 'call_expression').map((c) => orig(p, c.childForFieldName('function')!));
    assert.ok(calls.includes('idr_for_each'));
    assert.equal(p.functions.length, 1);
    assert.equal(p.functions[0]!.damaged, false);
  });
});

test('iterator with a type argument and an empty argument list', async () => {
  const src = 'void f(void)\n{\n\tlist_for_each_entry_typed(struct foo *, pos, &h, m) { x(pos); }\n\tfor_each_thing() { y(); }\n}\n';
  await clean(src, (p) => {
    const loops = nodesOfType(p.tree.rootNode, 'while_statement');
    assert.equal(loops.length, 2);
    assert.match(p.normalized, /while\(_\)/);
  });
});

test('a block macro that is not named for_each (drm_exec_until_all_locked) and a deeper-indented loop body', async () => {
  const src = [
    'int f(struct drm_exec *exec, struct rpm *rpm)',
    '{',
    '\tdrm_exec_until_all_locked(exec) {',
    '\t\tret = drm_exec_lock_obj(exec, obj);',
    '\t\tdrm_exec_retry_on_contention(exec);',
    '\t}',
    '\twith_intel_runtime_pm(rpm, wakeref)',
    '\t\tval = read(rpm);',
    '\treturn ret;',
    '}',
  ].join('\n');
  await clean(src, (p) => {
    const loops = nodesOfType(p.tree.rootNode, 'while_statement');
    assert.deepEqual(loops.map((l) => /^\w+/.exec(orig(p, l))?.[0]), ['drm_exec_until_all_locked', 'with_intel_runtime_pm']);
    assert.equal(nodesOfType(p.tree.rootNode, 'return_statement').length, 1);
  });
});

/* ------------------------------------------------------------ guards */

test('scoped_guard and scoped_cond_guard become if_statement; guard()() stays a call of a call', async () => {
  const src = [
    'static int g(struct dev *d)',
    '{',
    '\tguard(mutex)(&d->lock);',
    '\tscoped_guard(spinlock_irqsave, &d->slock) {',
    '\t\td->n++;',
    '\t}',
    '\tscoped_guard(rcu)',
    '\t\tp = rcu_dereference(d->p);',
    '\tscoped_cond_guard(mutex_intr, return -EINTR, &d->lock) {',
    '\t\td->m++;',
    '\t}',
    '\treturn 0;',
    '}',
  ].join('\n');
  await clean(src, (p) => {
    const ifs = nodesOfType(p.tree.rootNode, 'if_statement');
    assert.deepEqual(ifs.map((n) => /^\w+/.exec(orig(p, n))?.[0]), ['scoped_guard', 'scoped_guard', 'scoped_cond_guard']);
    for (const n of ifs) {
      assert.equal(n.childForFieldName('alternative'), null);
      assert.equal(n.childForFieldName('condition')?.type, 'parenthesized_expression');
    }
    assert.equal(ifs[0]!.childForFieldName('consequence')?.type, 'compound_statement');
    assert.match(orig(p, ifs[0]!.childForFieldName('consequence')!), /d->n\+\+/);
    assert.equal(ifs[1]!.childForFieldName('consequence')?.type, 'expression_statement');
    // the guard's arguments are read back from the original text
    assert.equal(orig(p, ifs[0]!.childForFieldName('condition')!), '(spinlock_irqsave, &d->slock)');
    // guard(mutex)(&d->lock): call_expression whose function is the call guard(mutex)
    const stmt = p.functions[0]!.node.childForFieldName('body')!.namedChild(0)!;
    assert.equal(stmt.type, 'expression_statement');
    const call = stmt.namedChild(0)!;
    assert.equal(call.type, 'call_expression');
    assert.equal(call.childForFieldName('function')?.type, 'call_expression');
    assert.equal(orig(p, call.childForFieldName('function')!), 'guard(mutex)');
  });
});

/* ------------------------------------------------------------ attributes */

test('__free(kfree) declaration is a plain declaration and keeps the annotation in its range', async () => {
  const src = 'int f(void)\n{\n\tstruct foo *p __free(kfree) = NULL;\n\tchar *buf __free(kvfree) = kvmalloc(n, GFP_KERNEL);\n\treturn 0;\n}\n';
  await clean(src, (p) => {
    const decls = nodesOfType(p.tree.rootNode, 'declaration');
    assert.equal(decls.length, 2);
    assert.equal(orig(p, decls[0]!), 'struct foo *p __free(kfree) = NULL;');
    const init = decls[0]!.childForFieldName('declarator')!;
    assert.equal(init.type, 'init_declarator');
    assert.equal(init.childForFieldName('declarator')?.type, 'pointer_declarator');
    assert.equal(init.childForFieldName('value')?.type, 'null');
    assert.match(orig(p, decls[1]!), /__free\(kvfree\)/);
  });
});

test('lock annotations stay inside the function_definition, whose name is found', async () => {
  const src = [
    'static void lock_both(struct pair *p)',
    '\t__acquires(&p->a->lock) __acquires(&p->b->lock)',
    '{',
    '\tspin_lock(&p->a->lock);',
    '\tspin_lock_nested(&p->b->lock, SINGLE_DEPTH_NESTING);',
    '}',
    'void __must_hold(&d->lock) helper(struct dev *d) { d->x = 0; }',
    'static int __cond_acquires(&d->lock) try_it(struct dev *d)',
    '{',
    '\treturn spin_trylock(&d->lock);',
    '}',
    'static __always_inline void unlock_it(struct dev *d) __releases(d->lock)',
    '{',
    '\tspin_unlock(&d->lock);',
    '}',
  ].join('\n');
  await clean(src, (p) => {
    assert.deepEqual(
      p.functions.map((f) => functionName(f.node)),
      ['lock_both', 'helper', 'try_it', 'unlock_it'],
    );
    const texts = p.functions.map((f) => orig(p, f.node));
    assert.match(texts[0]!, /__acquires\(&p->a->lock\) __acquires\(&p->b->lock\)/);
    assert.match(texts[1]!, /__must_hold\(&d->lock\)/);
    assert.match(texts[2]!, /__cond_acquires\(&d->lock\)/);
    assert.match(texts[3]!, /__releases\(d->lock\)/);
    assert.ok(p.functions.every((f) => !f.damaged));
  });
});

test('attribute macros in signatures, declarations and struct bodies', async () => {
  const src = [
    'static int __init __must_check foo_init(char __user *buf, void __iomem *regs)',
    '{',
    '\tstruct bar __rcu *b = rcu_dereference(x);',
    '\tu32 __maybe_unused tmp;',
    '\treturn (__force int)b->v;',
    '}',
    'static void __exit foo_exit(void) { }',
    'static int __read_mostly debug;',
    'struct s {',
    '\tint len;',
    '\tu8 data[] __counted_by(len);',
    '\tDECLARE_BITMAP(map, 64);',
    '} __packed __aligned(8);',
    '__printf(2, 3) void logit(int lvl, const char *fmt, ...);',
    'asmlinkage __visible void notrace entry(void) { }',
    'static __latent_entropy int __cold rare(void) { return 0; }',
    'void f(void) __attribute__((noreturn));',
    'EXPORT_SYMBOL_GPL(foo_init);',
    'module_init(foo_init);',
    'MODULE_LICENSE("GPL");',
    'module_param(debug, int, 0644);',
    'DEFINE_FREE(bar_put, struct bar *, if (_T) bar_put(_T))',
    'DEFINE_GUARD(dev, struct dev *, dev_lock(_T), dev_unlock(_T))',
    'static DEFINE_MUTEX(big_lock);',
    'static LIST_HEAD(all_devs);',
    'static DEFINE_PER_CPU(struct pcp, pcp_data);',
    'STATIC void xfs_style(void) { }',
    'static forceinline u32 ntfs_style(int x) { return x; }',
  ].join('\n');
  await clean(src, (p) => {
    assert.deepEqual(
      p.functions.map((f) => functionName(f.node)),
      ['foo_init', 'foo_exit', 'entry', 'rare', 'xfs_style', 'ntfs_style'],
    );
    const fields = nodesOfType(p.tree.rootNode, 'field_identifier').map((n) => n.text);
    assert.ok(fields.includes('map'), 'DECLARE_BITMAP keeps its field name');
    assert.ok(p.normalized.includes('static void xfs_style'));
  });
});

/* ------------------------------------------------------------ type and statement arguments */

test('container_of / list_entry family with type arguments parse as calls', async () => {
  const src = [
    'void f(struct work_struct *work, struct list_head *h)',
    '{',
    '\tstruct obj *o = container_of(work, struct obj, work);',
    '\tstruct obj *a = list_entry(h->next, struct obj, link);',
    '\tstruct obj *b = list_first_entry_or_null(h, struct obj, link);',
    '\tstruct obj *c = hlist_entry_safe(n, struct obj, node);',
    '\tstruct obj *d = rb_entry(rb, struct obj, rb);',
    '\tstruct obj *e = list_last_entry(h, typeof(*e), link);',
    '\tstruct obj *t = container_of(ref, typeof(struct obj), ref);',
    '\tstruct obj *g = kmalloc_obj(struct obj *, GFP_KERNEL);',
    '\tvoid __user *u = (void __user *)(unsigned long)arg;',
    '\tsize_t s = sizeof(struct obj) + offsetof(struct obj, inner.field[2]);',
    '\tx = READ_ONCE(*(unsigned long *)p) + va_arg(ap, struct reg) + BITS(unsigned int);',
    '\tswitch (x) { case 1 ... 3: break; }',
    '}',
  ].join('\n');
  await clean(src, (p) => {
    const calls = nodesOfType(p.tree.rootNode, 'call_expression').map((c) => orig(p, c.childForFieldName('function')!));
    for (const name of ['container_of', 'list_entry', 'list_first_entry_or_null', 'hlist_entry_safe', 'rb_entry', 'list_last_entry', 'kmalloc_obj']) {
      assert.ok(calls.includes(name), name);
    }
    const co = nodesOfType(p.tree.rootNode, 'call_expression').find((c) => orig(p, c.childForFieldName('function')!) === 'container_of')!;
    const args = co.childForFieldName('arguments')!.namedChildren.filter((n): n is Node => n !== null);
    assert.deepEqual(args.map((a) => `${a.type}:${orig(p, a)}`), ['identifier:work', 'identifier:obj', 'identifier:work']);
  });
});

test('statement and operator arguments of macros (PP_ASSERT_WITH_CODE, nvkm_msec, ASSERTCMP)', async () => {
  const src = [
    'int f(struct hw *hw)',
    '{',
    '\tPP_ASSERT_WITH_CODE(hw->ok, "not ok", return -EINVAL);',
    '\tPP_ASSERT_WITH_CODE(hw->ok, "not ok", r = -EINVAL; goto failed);',
    '\tPP_ASSERT_WITH_CODE(hw->ok, "not ok", );',
    '\tnvkm_msec(dev, 2000,',
    '\t\tif (rd32(dev, 0x10) & 1)',
    '\t\t\tbreak;',
    '\t);',
    '\tASSERTCMP(hw->flags, &, 4);',
    '\treturn 0;',
    'failed:',
    '\treturn r;',
    '}',
  ].join('\n');
  await clean(src, (p) => {
    assert.equal(p.functions.length, 1);
    assert.equal(nodesOfType(p.tree.rootNode, 'return_statement').length, 2);
  });
});

/* ------------------------------------------------------------ preprocessor */

test('#ifdef that splits an if/else or an expression keeps the first branch', async () => {
  const src = [
    'int f(int compat, int a)',
    '{',
    '\tint len;',
    '#ifdef CONFIG_COMPAT',
    '\tif (compat)',
    '\t\tlen = 4;',
    '\telse',
    '#endif',
    '\t\tlen = 8;',
    '#ifdef CONFIG_A',
    '\tif (a) {',
    '#else',
    '\tif (!a) {',
    '#endif',
    '\t\tlen++;',
    '\t}',
    '\tlen = a |',
    '#ifdef CONFIG_B',
    '\t\t4 |',
    '#endif',
    '\t\t8;',
    '\treturn len;',
    '}',
  ].join('\n');
  await clean(src, (p) => {
    assert.equal(p.functions.length, 1);
    assert.equal(functionName(p.functions[0]!.node), 'f');
    // the #else branch `if (!a) {` is blanked, the first one kept
    assert.ok(p.normalized.includes('if (a) {'));
    assert.ok(!p.normalized.includes('if (!a)'));
    assert.equal(nodesOfType(p.tree.rootNode, 'if_statement').length, 2);
  });
});

test('balanced #ifdef blocks in a function are left to the grammar', async () => {
  const src = 'void f(void)\n{\n#ifdef CONFIG_X\n\tlock();\n#else\n\tother();\n#endif\n}\n';
  await clean(src, (p) => {
    assert.equal(p.normalized, src);
    assert.equal(nodesOfType(p.tree.rootNode, 'preproc_ifdef').length, 1);
  });
});

/* ------------------------------------------------------------ realistic functions */

test('realistic kernel-style functions with several macro families parse without damage', async () => {
  const src = `
static struct drm_gem_object *
my_gem_lookup(struct drm_file *filp, u32 handle)
	__must_hold(&filp->table_lock)
{
	struct drm_gem_object *obj;

	obj = idr_find(&filp->object_idr, handle);
	if (obj)
		drm_gem_object_get(obj);
	return obj;
}

static void __maybe_unused release_all(struct my_dev *mdev)
{
	struct my_obj *obj, *tmp;
	LIST_HEAD(reap);
	DECLARE_BITMAP(seen, 64);

	scoped_guard(spinlock_irqsave, &mdev->lock) {
		list_for_each_entry_safe(obj, tmp, &mdev->objects, link) {
			if (!kref_get_unless_zero(&obj->ref))
				continue;
			list_move_tail(&obj->link, &reap);
		}
	}

	list_for_each_entry_safe(obj, tmp, &reap, link) {
		struct my_file *mf = container_of(obj->owner, struct my_file, base);
		guard(mutex)(&mf->lock);
		for_each_set_bit(bit, seen, 64)
			clear_bit(bit, mf->map);
		kref_put(&obj->ref, my_obj_release);
	}
}

static int my_ioctl(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct my_args *args = data;
	struct my_obj *obj __free(my_obj_put) = NULL;
	void __user *uptr = u64_to_user_ptr(args->ptr);
	int ret;

	ret = mutex_lock_interruptible(&dev->struct_mutex);
	if (ret)
		return ret;
	obj = list_first_entry_or_null(&dev->objs, struct my_obj, link);
	if (!obj) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (copy_to_user(uptr, &obj->info, sizeof(obj->info)))
		ret = -EFAULT;
out_unlock:
	mutex_unlock(&dev->struct_mutex);
	return ret;
}
EXPORT_SYMBOL(my_ioctl);
`;
  await clean(src, (p) => {
    assert.deepEqual(p.functions.map((f) => f.name), ['my_gem_lookup', 'release_all', 'my_ioctl']);
    assert.ok(p.functions.every((f) => !f.damaged));
    const rel = p.functions[1]!.node;
    const ifs = nodesOfType(rel, 'if_statement').filter((n) => orig(p, n).startsWith('scoped_guard'));
    assert.equal(ifs.length, 1);
    // the iterator is nested inside the scoped_guard's consequence
    assert.equal(nodesOfType(ifs[0]!.childForFieldName('consequence')!, 'while_statement').length, 1);
    assert.equal(nodesOfType(rel, 'while_statement').length, 3);
    assert.equal(nodesOfType(p.functions[2]!.node, 'labeled_statement').length, 1);
    assert.match(orig(p, p.functions[0]!.node), /__must_hold\(&filp->table_lock\)/);
  });
});

test('a function the normaliser cannot repair is still listed, flagged damaged', async () => {
  const src = 'int good(void) { return 1; }\nint bad(void) { x = = ; return 2; }\nint after(void) { return 3; }\n';
  const p = await parse(src);
  try {
    assert.deepEqual(p.functions.map((f) => [f.name, f.damaged]), [['good', false], ['bad', true], ['after', false]]);
  } finally {
    p.dispose();
  }
});

test('labels before #ifdef, #define inside initializers, typeof and macro-typed declarations, statement macros without ;', async () => {
  const src = [
    '#define dbg(fmt, args...) pr_debug(fmt, ##args)',
    'static int f(struct v *v)',
    '{',
    '\tstatic const struct {',
    '\t\tu8 a;',
    '\t\tu8 b;',
    '\t} map[] = {',
    '#define MAP(x, y) { x, y }',
    '\t\tMAP(1, 2),',
    '#undef MAP',
    '\t};',
    '\tstatic const int files[] = {',
    '\t\t1,',
    '#if CONFIG_X',
    '\t\t2,',
    '#endif',
    '\t\t0',
    '\t};',
    '\ttypeof(v->flags) val = READ_ONCE(v->flags);',
    '\t__typeof__(*v) *copy = v;',
    '\tBKEY_PADDED_ONSTACK(k, 8) tmp;',
    '\tDARRAY_PREALLOCATED(struct scatterlist, 4) sgl;',
    '\tregister u64 x0 asm("x0") = 1;',
    '\tsize_t off = offsetof(typeof(*v), inner.field);',
    '\tCHECK_PROPERTY(hpos, HPOS)',
    '\tCHECK_PROPERTY(vpos, VPOS)',
    '\treturn 0;',
    'err_clnt:',
    '#ifdef CONFIG_9P_FSCACHE',
    '\tkfree(v->tag);',
    '#endif',
    '\treturn -1;',
    '}',
    'static void g(struct task_struct *leader)',
    '{',
    '\tstruct task_struct *task = leader;',
    '#ifndef __KERNEL__',
    'retry:',
    '#endif',
    '\tdo {',
    '\t\tvisit(task);',
    '\t} while_each_thread(leader, task);',
    '\tdo_each_subsys_mask(ss, ssid, mask) {',
    '\t\tss->n++;',
    '\t} while_each_subsys_mask();',
    '}',
  ].join('\n');
  await clean(src, (p) => {
    assert.deepEqual(p.functions.map((f) => f.name), ['f', 'g']);
    const dw = nodesOfType(p.functions[1]!.node, 'do_statement');
    assert.equal(dw.length, 1);
    assert.match(orig(p, dw[0]!), /while_each_thread\(leader, task\);$/);
    const loops = nodesOfType(p.functions[1]!.node, 'while_statement').map((n) => orig(p, n));
    assert.equal(loops.length, 2);
    assert.ok(loops[0]!.startsWith('do_each_subsys_mask('));
    assert.equal(loops[1], 'while_each_subsys_mask();');
    assert.match(p.normalized, /while\(0\)\s+;/);
    const decls = nodesOfType(p.functions[0]!.node, 'declaration').map((d) => orig(p, d));
    assert.ok(decls.some((d) => d.startsWith('typeof(v->flags) val')));
    assert.ok(decls.some((d) => d.startsWith('BKEY_PADDED_ONSTACK(k, 8) tmp;')));
    assert.equal(nodesOfType(p.functions[0]!.node, 'labeled_statement').length, 1);
  });
});
