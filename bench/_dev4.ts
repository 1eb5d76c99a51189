import { nodeParser } from '../src/node/assets';
import { findBuiltin, parseBuiltin } from '../src/core/scenarios/library';
import { explore } from '../src/core/sim/explore';
void (async () => {
  const p = await nodeParser();
  const s = parseBuiltin(p, findBuiltin(process.argv[2]!)[0]!);
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) explore(s.model);
  console.log((performance.now() - t0) / 20);
})();
