import { readFileSync } from 'node:fs';
import { nodeParser } from '../src/node/assets';
import { runScenario } from '../src/core/scenarios/run';
import { parseScenario } from '../src/core/scenarios/format';
void (async () => {
  const p = await nodeParser();
  for (const f of process.argv.slice(2)) {
    const text = readFileSync(f, 'utf8');
    try {
      if (process.env.DUMP) { const s = parseScenario(p, text, f); for (const pr of s.model.programs) { console.log(pr.name, pr.slots); pr.instrs.forEach((i, k) => console.log(k, JSON.stringify({ ...i, src: undefined }), i.src.text)); } }
      const r = runScenario(p, text, f);
      const rn = runScenario(p, text, f, { por: false });
      console.log(`${r.matches ? 'OK ' : 'BAD'} ${f}: expect ${r.expect} got ${r.verdict} [${r.violations.map((v) => v.kind).join(',')}] states ${r.states} (nopor ${rn.states} ${rn.verdict} [${rn.violations.map((v) => v.kind).join(",")}]) ${r.ms}ms`);
      if (process.env.TRACE) for (const v of r.violations) { console.log(' ', v.kind, v.message); for (const s of v.trace) console.log('    ', s.thread, '|', s.op, '|', s.line, '|', s.note); }
    } catch (e) { console.log('ERR', (e as Error).message); }
  }
})();
