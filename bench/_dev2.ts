import { readFileSync } from 'node:fs';
import { nodeParser } from '../src/node/assets';
import { parseScenario } from '../src/core/scenarios/format';
import { startState } from '../src/core/sim/explore';
import { step, enabledTransitions, viewState } from '../src/core/sim/state';
void (async () => {
  const p = await nodeParser();
  const s = parseScenario(p, readFileSync(process.argv[2]!, 'utf8'), 'x');
  let st = startState(s.model);
  console.log(JSON.stringify(viewState(s.model, st)));
  const seq = process.argv.slice(3).map(Number);
  for (const a of seq) {
    const ts = enabledTransitions(s.model, st);
    console.log('enabled', JSON.stringify(ts));
    const t = ts.find((x) => x.actor === a)!;
    const r = step(s.model, st, t);
    console.log(a, r.note, JSON.stringify(r.violation), JSON.stringify(viewState(s.model, r.state).objects));
    st = r.state;
  }
})();
