/**
 * What the refcount pass of `refscope check` does to go faster must not change
 * a finding: the function facts packed and decoded on demand in another thread
 * (src/core/index/lazy.ts) answer exactly as the index's own map does, and the
 * focused parse (src/core/rules/refcount/focus.ts: definitions no rule can
 * report on blanked out) gives the findings of the whole file. Real grammar,
 * the refcount fixtures as the workspace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeParser } from '../../src/node/assets';
import { parseKernelC } from '../../src/core/parse/source';
import { builtinCatalog } from '../../src/core/catalog';
import { analyzeRefcount } from '../../src/core/analyze';
import { buildWorkspaceIndex, extractFileFacts } from '../../src/core/index/index';
import { buildPackedIndex, definitionScanFlags, functionById, functionsInFile, resolveCallee, type WorkspaceIndex } from '../../src/core/index/workspace';
import { CallerIds, FunctionPacker, LazyFunctions, LazyTable, packFactJson, packLists, packTable, SlotLists, SLOT_SUMMARIZABLE, unpackFactJson, type PackedFunctions } from '../../src/core/index/lazy';
import { refcountFocus } from '../../src/core/rules/refcount/focus';
import { runRefcountRules } from '../../src/core/rules/refcount/index';
import { indexCatalog } from '../../src/core/catalog';
import type { Finding } from '../../src/core/types';

const DIR = join(__dirname, '..', 'fixtures', 'refcount');
const names = readdirSync(DIR).filter((n) => /\.[ch]$/.test(n)).sort();

async function workspace(): Promise<{ texts: Map<string, string>; index: WorkspaceIndex }> {
  const parser = await nodeParser();
  const texts = new Map(names.map((n) => [`refcount/${n}`, readFileSync(join(DIR, n), 'utf8')]));
  const facts = [...texts].map(([file, text]) => extractFileFacts(parser, text, file));
  return { texts, index: buildWorkspaceIndex(facts) };
}

/** The index as a worker sees it: the function facts packed per definition, the structs, globals and prototypes per entry. */
function lazyIndex(index: WorkspaceIndex, budget = Infinity): { index: WorkspaceIndex; lazy: LazyFunctions; packed: PackedFunctions } {
  const packer = new FunctionPacker((n) => new Uint8Array(n));
  for (const f of index.files) packer.add(f, functionsInFile(index, f).map((d) => d.fact));
  const packed = packer.finish(index.files);
  const lazy = new LazyFunctions(structuredClone(packed), budget);
  const table = <V>(t: ReadonlyMap<string, V>): LazyTable<V> => new LazyTable<V>(structuredClone(packTable(t, (n) => new Uint8Array(n))));
  return { index: { ...index, functions: lazy, structs: table(index.structs), globals: table(index.globals), prototypes: table(index.prototypes) }, lazy, packed };
}

const brief = (fs: Finding[]): string[] => fs.map((f) => `${f.rule}@${f.span.start.line}:${f.span.start.column}-${f.span.end.line}:${f.span.end.column}:${f.function}:${f.message}`).sort();

test('packed function facts: every lookup answers as the index map does, decoding only what is asked', async () => {
  const { index } = await workspace();
  const { lazy } = lazyIndex(index);
  assert.equal(lazy.decodedFunctions, 0);
  const some = [...index.functions.keys()][0]!;
  assert.deepEqual(lazy.get(some)?.map((d) => d.id), index.functions.get(some)?.map((d) => d.id));
  assert.equal(lazy.decodedFunctions, index.functions.get(some)!.length, 'asking one name decodes only its definitions');
  assert.equal(lazy.definitions, [...index.functions.values()].reduce((n, l) => n + l.length, 0));
  const anotherFile = index.files.find((f) => functionsInFile(index, f).filter((d) => d.fact.name !== some).length > 1)!;
  const before = lazy.decodedFunctions;
  const first = functionsInFile(index, anotherFile).find((d) => d.fact.name !== some)!;
  assert.equal(functionById({ ...index, functions: lazy }, first.id)?.id, first.id);
  assert.equal(lazy.decodedFunctions, before + 1, 'a lookup by id decodes that definition');
  assert.equal(lazy.get('no_such_function_anywhere'), undefined);
  assert.equal(lazy.has('no_such_function_anywhere'), false);
  for (const [name, defs] of index.functions) {
    assert.ok(lazy.has(name));
    assert.deepEqual(lazy.get(name)?.map((d) => [d.id, d.file, d.fact]), defs.map((d) => [d.id, d.file, d.fact]), name);
    for (const d of defs) assert.deepEqual(functionById({ ...index, functions: lazy }, d.id)?.fact, functionById(index, d.id)?.fact);
  }
  for (const f of index.files) assert.deepEqual(lazy.inFile(f).map((d) => d.id), functionsInFile(index, f).map((d) => d.id), f);
  for (const name of index.functions.keys()) {
    for (const from of [...index.files, 'elsewhere.c']) {
      assert.equal(resolveCallee({ ...index, functions: lazy }, from, name)?.id, resolveCallee(index, from, name)?.id, `${name} from ${from}`);
    }
  }
  assert.equal(lazy.size, index.functions.size);
  assert.deepEqual([...lazy.keys()], [...index.functions.keys()], 'iteration in the index order');
});

test('packed function facts under a tiny decode budget: files are dropped and decoded again, every answer and finding unchanged', async () => {
  const parser = await nodeParser();
  const { texts, index } = await workspace();
  const { index: small, lazy } = lazyIndex(index, 2048);
  for (const [name, defs] of index.functions) {
    assert.deepEqual(lazy.get(name)?.map((d) => [d.id, d.fact]), defs.map((d) => [d.id, d.fact]), name);
  }
  for (const f of index.files) assert.deepEqual(lazy.inFile(f).map((d) => d.id), functionsInFile(index, f).map((d) => d.id), f);
  const catalog = builtinCatalog();
  for (const [file, text] of texts) {
    if (!file.endsWith('.c')) continue;
    assert.deepEqual(brief(analyzeRefcount(parser, text, file, { catalog, index: small })), brief(analyzeRefcount(parser, text, file, { catalog, index })), file);
  }
  assert.ok(lazy.redecoded > 0, 'the budget made some definition be decoded again');
});

test('focused parse: unreportable definitions blanked in place, findings of every fixture unchanged (with the map and the packed facts)', async () => {
  const parser = await nodeParser();
  const { texts, index } = await workspace();
  const { index: lazy } = lazyIndex(index);
  const catalog = builtinCatalog();
  let blanked = 0;
  for (const [file, text] of texts) {
    if (!file.endsWith('.c')) continue;
    const parsed = parseKernelC(parser, text);
    let whole: Finding[];
    try {
      whole = runRefcountRules(parsed, file, { catalog, index });
    } finally {
      parsed.dispose();
    }
    const focus = refcountFocus(text, { file, index, rc: index.rc, cat: indexCatalog(catalog) });
    if (focus) {
      assert.equal(focus.text.length, text.length, `${file}: offsets kept`);
      assert.equal(focus.text.split('\n').length, text.split('\n').length, `${file}: lines kept`);
      blanked += focus.blanked;
    } else {
      assert.deepEqual(whole, [], `${file}: no definition of interest, no finding`);
    }
    assert.deepEqual(brief(analyzeRefcount(parser, text, file, { catalog, index })), brief(whole), `${file}: focused`);
    assert.deepEqual(brief(analyzeRefcount(parser, text, file, { catalog, index: lazy })), brief(whole), `${file}: focused, packed facts`);
  }
  assert.ok(blanked > 0, 'some fixture has definitions no rule can report on');
});

test('focused text: a blanked definition is spaces with its line ends kept, long lines and CRLF included; the rest is the text itself', async () => {
  const parser = await nodeParser();
  const file = 'refcount/focus-blank.c';
  const long = `\tint x = ${'1 + '.repeat(700)}1;`; // a line longer than the run of spaces the blanking cuts from
  const text = [
    '#include <linux/kref.h>', 'struct obj { struct kref ref; };', 'static void obj_release(struct kref *ref) { }',
    'static int quiet(int a)\r', '{', long, '\treturn x + a;\r', '}',
    'void obj_put(struct obj *o)', '{', '\tkref_put(&o->ref, obj_release);', '}', '',
  ].join('\n');
  const index = buildWorkspaceIndex([extractFileFacts(parser, text, file)]);
  const focus = refcountFocus(text, { file, index, rc: index.rc, cat: indexCatalog(builtinCatalog()) });
  assert.ok(focus && focus.blanked >= 1, 'quiet() is blanked');
  const from = text.indexOf('static int quiet');
  const to = text.indexOf('}', text.indexOf(long)) + 1;
  assert.equal(focus.text.slice(from, to), text.slice(from, to).replace(/[^\n]/g, ' '));
  const put = text.indexOf('void obj_put');
  assert.equal(focus.text.slice(put), text.slice(put), 'obj_put() is kept as it is');
  assert.equal(focus.text.length, text.length);
  for (let i = 0; i < text.length; i++) {
    if (focus.text[i] !== text[i]) assert.ok(focus.text[i] === ' ' && text[i] !== '\n', `offset ${i}: only blanked, never a line end`);
  }
});

test('focused parse keeps the whole file when the facts do not match the text', async () => {
  const parser = await nodeParser();
  const file = 'refcount/ref-leak-drm-regressions.c';
  const text = readFileSync(join(DIR, 'ref-leak-drm-regressions.c'), 'utf8');
  const index = buildWorkspaceIndex([extractFileFacts(parser, text, file)]);
  const env = { file, index, rc: index.rc, cat: indexCatalog(builtinCatalog()) };
  assert.ok((refcountFocus(text, env)?.blanked ?? 0) > 0);
  const edited = '/* a new comment shifts every definition */\n' + text;
  const focus = refcountFocus(edited, env);
  assert.equal(focus?.text, edited, 'stale spans: nothing blanked');
});

test('callers shipped as definition slots read back as the same id sets, in the same order', async () => {
  const parser = await nodeParser();
  const { texts, index } = await workspace();
  const packer = new FunctionPacker((n) => new Uint8Array(n));
  const rest = [...texts].map(([file, text]) => {
    const ff = extractFileFacts(parser, text, file);
    packer.add(ff.file, ff.functions);
    return { ...ff, functions: [] };
  });
  const built = buildPackedIndex(rest, packer, Infinity);
  assert.ok(built.callers instanceof CallerIds);
  // What a worker gets: the slot lists and the packed facts, copied to another thread.
  const lazy = new LazyFunctions(structuredClone((built.functions as LazyFunctions).packedFacts));
  const shipped = new CallerIds(structuredClone(built.callers.packedCallers), lazy);
  assert.ok(index.callers.size > 10, 'the fixtures call things');
  assert.equal(shipped.size, index.callers.size);
  assert.deepEqual([...shipped.keys()], [...index.callers.keys()]);
  for (const [callee, ids] of index.callers) assert.deepEqual([...shipped.get(callee)!], [...ids], callee);
  assert.equal(shipped.get('no_such_function_anywhere'), undefined);
  assert.equal(lazy.decodedFunctions, 0, 'ids come from the slots, no definition decoded');
  // Outlines (refcountFocus's view of a file) come from the slots too, and say what the facts say.
  let outlined = 0;
  for (const file of texts.keys()) {
    const got = lazy.outlinesInFile(file).map((o) => [o.name, o.span, o.damaged]);
    outlined += got.length;
    const want = [...index.functions.values()].flat().filter((d) => d.file === file)
      .sort((a, b) => a.fact.span[0] - b.fact.span[0]).map((d) => [d.fact.name, d.fact.span, !!d.fact.damaged]);
    assert.deepEqual(got, want, file);
  }
  assert.ok(outlined > 20, `definitions outlined: ${outlined}`);
  assert.equal(lazy.decodedFunctions, 0, 'outlines decode no definition');
});

/** Every table of an index as comparable data (functions and callers as what they answer). */
function tablesOf(index: WorkspaceIndex): unknown {
  const functions: unknown[] = [];
  for (const name of index.functions.keys()) functions.push([name, index.functions.get(name)!.map((d) => [d.id, d.file, d.fact])]);
  const callers: unknown[] = [];
  for (const name of index.callers.keys()) callers.push([name, [...index.callers.get(name)!]]);
  return {
    files: index.files, structs: [...index.structs], typedefs: [...index.typedefs], globals: [...index.globals], prototypes: [...index.prototypes],
    fptrTargets: [...index.fptrTargets], refcounted: [...index.refcounted], atomicRefCounters: [...index.atomicRefCounters], lookups: [...index.lookups],
    releases: [...index.releases], summaries: [...index.summaries], typesafeByRcu: index.typesafeByRcu, rcuCallbacks: index.rcuCallbacks, stats: index.stats,
    functions, callers,
  };
}

test('an index built from facts packed as they arrive equals the one built from every fact at once, with any decode budget', async () => {
  const parser = await nodeParser();
  const { texts, index } = await workspace();
  const facts = () => [...texts].map(([file, text]) => extractFileFacts(parser, text, file));
  const catalog = builtinCatalog();
  const want = tablesOf(index);
  // (the callers' use of a conditional get's result is counted on both builds: conn_hold's 4 calls, 3 ignored)
  assert.ok([...index.summaries.values()].some((s) => s.name === 'conn_hold' && s.resultUse?.calls === 4 && s.resultUse.ignored === 3), 'resultUse counted');
  for (const [budget, classify] of [[Infinity, false], [4096, false], [1, false], [Infinity, true], [1, true]] as const) {
    // Arrival order is not index order: the packer takes the files last first. With `classify`
    // (the CLI's packer) the build reads the call graph from the packer's callee lists and
    // decodes only the definitions its scans act on.
    const packer = new FunctionPacker((n) => new Uint8Array(n), 1024, classify ? definitionScanFlags() : undefined);
    const rest = facts().reverse().map((ff) => {
      packer.add(ff.file, ff.functions);
      return { ...ff, functions: [] };
    });
    const packed = buildPackedIndex(rest, packer, budget);
    const lazy = packed.functions as LazyFunctions;
    assert.ok(lazy instanceof LazyFunctions && packed.callers instanceof CallerIds);
    assert.ok(lazy.packedFacts.chunks.length > 1, 'small chunks: definitions spread over several');
    if (classify) assert.ok(lazy.decodedFunctions < lazy.definitions, `the build decoded ${lazy.decodedFunctions} of ${lazy.definitions}: it should leave out those no scan and no summary needs`);
    assert.deepEqual(tablesOf(packed), want, `budget ${budget}${classify ? ', classified' : ''}`);
    if (budget === 1 && !classify) assert.ok(lazy.redecoded > 0, 'a budget of one byte decodes definitions again');
    for (const [file, text] of texts) {
      if (!file.endsWith('.c')) continue;
      assert.deepEqual(brief(analyzeRefcount(parser, text, file, { catalog, index: packed })), brief(analyzeRefcount(parser, text, file, { catalog, index })), `${file}, budget ${budget}`);
    }
  }
});

test('packer: a file added twice has both sets in text order at its place; files never added have none; the id of a shared line is the last', async () => {
  const parser = await nodeParser();
  const fact = (text: string) => extractFileFacts(parser, text, 'x.c').functions;
  const a = fact('int a(int x) { return x; }\nint b(int y) { return y; }\n');
  const c = fact('\n\nint c(int z) { return z; }\n');
  const packer = new FunctionPacker((n) => new Uint8Array(n));
  packer.add('x.c', [a[1]!]);
  packer.add('y.c', c);
  packer.add('x.c', [a[0]!]);
  const packed = packer.finish(['w.c', 'x.c', 'y.c']);
  assert.deepEqual([...packed.fileStart], [0, 0, 2, 3]);
  const lazy = new LazyFunctions(packed);
  assert.deepEqual(lazy.inFile('x.c').map((d) => d.fact.name), ['a', 'b']);
  assert.deepEqual(lazy.inFile('w.c'), []);
  assert.equal(lazy.byId('y.c:3')?.fact.name, 'c');
  assert.equal(lazy.slotOfId('y.c:4'), undefined);
  assert.equal(packer.calls, 0);
  assert.deepEqual([...packed.calls], [0, 0, 0]);
  assert.equal(packed.flags[0]! & SLOT_SUMMARIZABLE, SLOT_SUMMARIZABLE, 'a(int x) has a parameter');
});

test('packed tables answer as the maps do, decoding only the entries asked for', async () => {
  const { index } = await workspace();
  for (const name of ['structs', 'globals', 'prototypes'] as const) {
    const map = index[name] as ReadonlyMap<string, unknown>;
    assert.ok(map.size > 0, `the fixtures have ${name}`);
    const lazy = new LazyTable(structuredClone(packTable(map, (n) => new Uint8Array(n))));
    assert.equal(lazy.size, map.size);
    assert.deepEqual([...lazy.keys()], [...map.keys()], `${name}: same keys in the same order`);
    const first = [...map.keys()][0]!;
    assert.deepEqual(lazy.get(first), JSON.parse(JSON.stringify(map.get(first))));
    assert.equal(lazy.decodedValues, 1, `${name}: one entry asked, one decoded`);
    assert.equal(lazy.get('no such key'), undefined);
    assert.equal(lazy.has('no such key'), false);
    assert.deepEqual([...lazy.entries()], JSON.parse(JSON.stringify([...map.entries()])), `${name}: every entry`);
    assert.equal(lazy.decodedValues, map.size);
  }
});

test('a packed table keeping a few entries keeps the most recently used, decodes the rest again, answers the same', async () => {
  const { index } = await workspace();
  const map = index.structs;
  const [a, b, c] = [...map.keys()];
  assert.ok(a && b && c, 'the fixtures have three structs');
  const lazy = new LazyTable(packTable(map, (n) => new Uint8Array(n)), 2);
  const first = { a: lazy.get(a), b: lazy.get(b) };
  assert.equal(lazy.get(a), first.a, 'a kept');
  lazy.get(c); // evicts b, the least recently used
  assert.equal(lazy.decodedValues, 2);
  assert.equal(lazy.get(a), first.a, 'a still kept: used after b');
  const again = lazy.get(b);
  assert.notEqual(again, first.b, 'b decoded again');
  assert.deepEqual(again, first.b);
  assert.deepEqual([...lazy.entries()], JSON.parse(JSON.stringify([...map.entries()])));
  assert.equal(lazy.decodedValues, 2, 'a scan over all keeps two');
  const none = new LazyTable(packTable(map, (n) => new Uint8Array(n)), 0);
  assert.deepEqual(none.get(a), first.a);
  assert.equal(none.decodedValues, 0);
});

test('packed slot lists read back in place: names in order, each list as packed, empty lists and an empty map kept, shared memory left shared', () => {
  const lists = new Map<string, number[]>([['kref_put', [3, 7, 7000000]], ['empty_list', []], ['__x86_indirect_thunk_rax', [0]], ['kref_get', [1, 2]]]);
  const shared = (n: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(n));
  const packed = packLists(lists, shared);
  assert.ok(packed.items.buffer instanceof SharedArrayBuffer && packed.starts.buffer instanceof SharedArrayBuffer && packed.keys.buffer instanceof SharedArrayBuffer);
  // As a worker gets it: a clone that shares the bytes.
  const read = new SlotLists(structuredClone(packed));
  assert.equal(read.size, 4);
  assert.deepEqual([...read.keys()], [...lists.keys()]);
  for (const [name, l] of lists) assert.deepEqual([...read.get(name)!], l, name);
  assert.deepEqual([...read.entries()].map(([n, l]) => [n, [...l]]), [...lists]);
  assert.equal(read.get('kref_put_lock'), undefined, 'a prefix of a name is not a name');
  assert.equal(read.has('kref'), false);
  packed.items[0] = 4;
  assert.equal(read.get('kref_put')![0], 4, 'the lists are read in place, not copied');
  const none = new SlotLists(packLists(new Map()));
  assert.equal(none.size, 0);
  assert.equal(none.get(''), undefined);
  assert.throws(() => packLists(new Map([['a\nb', [1]]])), /newline/);
});

test('packed fact JSON: shorter, and every string round-trips exactly, fragments inside values and escaped control characters too', async () => {
  const { index } = await workspace();
  let json = 0;
  let packedBytes = 0;
  for (const f of index.files) {
    for (const d of functionsInFile(index, f)) {
      const j = JSON.stringify(d.fact);
      const p = packFactJson(j);
      assert.equal(unpackFactJson(p), j, d.id);
      assert.doesNotMatch(p, /"name":|,"col":|,"line":/, `${d.id}: the frequent fragments are coded`);
      assert.deepEqual(JSON.parse(unpackFactJson(p)), d.fact);
      json += j.length;
      packedBytes += p.length;
    }
  }
  assert.ok(json > 10000, 'the fixtures have facts');
  assert.ok(packedBytes < 0.8 * json, `packed ${packedBytes} of ${json} bytes`);
  // Fragments inside string values, next to each other, at the ends; escapes JSON.stringify writes for control characters.
  const odd = { name: '"name":"', a: [',"col":', '],"],"', '\u0001\u001f\n\t', '}],"', ',"g":1,"g":1'], s: ',{"c":"x"}', h: ['":{"'] };
  const j = JSON.stringify(odd);
  assert.equal(unpackFactJson(packFactJson(j)), j);
  assert.deepEqual(JSON.parse(unpackFactJson(packFactJson(j))), odd);
  for (const raw of ['', ',"l":', ',"l":,"l":', '{"name":"x","line":1,"endLine":2}', 'no fragments here']) assert.equal(unpackFactJson(packFactJson(raw)), raw, raw);
});
