import { nodeParser } from '../src/node/assets';
import { findBuiltin, parseBuiltin } from '../src/core/scenarios/library';
import { explore } from '../src/core/sim/explore';
import { computeFootprints } from '../src/core/sim/por';
void (async () => {
  const p = await nodeParser();
  const s = parseBuiltin(p, findBuiltin(process.argv[2]!)[0]!);
  for (let k = 0; k < 3; k++) {
  let t0 = performance.now();
  for (let i = 0; i < 20; i++) computeFootprints(s.model);
  console.log('fp', (performance.now() - t0) / 20);
  t0 = performance.now();
  for (let i = 0; i < 20; i++) explore(s.model, { por: false });
  console.log('nopor', (performance.now() - t0) / 20);
  t0 = performance.now();
  for (let i = 0; i < 20; i++) explore(s.model);
  console.log('por', (performance.now() - t0) / 20);
  }
})();
