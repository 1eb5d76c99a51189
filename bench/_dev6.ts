import { readFileSync } from 'node:fs';
import { nodeParser } from '../src/node/assets';
import { parseScenario } from '../src/core/scenarios/format';
import { explore } from '../src/core/sim/explore';
void (async () => {
  const p = await nodeParser();
  const s = parseScenario(p, readFileSync('test/fixtures/sim/three-by-twelve.rsim', 'utf8'), 'x');
  for (let k = 0; k < 3; k++) {
    let t0 = performance.now();
    const r = explore(s.model);
    console.log('por', r.states, performance.now() - t0);
    t0 = performance.now();
    const r2 = explore(s.model, { por: false });
    console.log('nopor', r2.states, performance.now() - t0);
  }
})();
