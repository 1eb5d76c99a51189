import { nodeParser } from '../src/node/assets';
import { library, parseBuiltin } from '../src/core/scenarios/library';
import { explore } from '../src/core/sim/explore';
void (async () => {
  const p = await nodeParser();
  for (const e of library()) for (const v of e.variants) {
    const s = parseBuiltin(p, v);
    const ts: number[] = [];
    let st = 0;
    for (let i = 0; i < 5; i++) { const t0 = performance.now(); st = explore(s.model).states; ts.push(performance.now() - t0); }
    console.log(v.ref, st, ts.map((x) => x.toFixed(1)).join(' '));
  }
})();
