/// <reference lib="dom" />
/**
 * The lifecycle diagram: the object states (unallocated, allocated, published,
 * released, freed) as an SVG state machine per object, the usual transitions
 * drawn faint, the transitions seen in the shown trace drawn solid, and the
 * state after the selected step marked. Colours come from the theme (CSS
 * classes using --vscode-* variables only).
 */
import type { ObjectStateName, SimTraceStep } from '../src/core/sim/types';
import { s } from './dom';

const STATES: readonly ObjectStateName[] = ['unallocated', 'allocated', 'published', 'released', 'freed'];
const LABEL: Record<ObjectStateName, string> = { unallocated: 'unallocated', allocated: 'allocated', published: 'published', released: 'released', freed: 'freed' };
/** The lifecycle as the code intends it. */
const USUAL: Array<[ObjectStateName, ObjectStateName]> = [
  ['unallocated', 'allocated'], ['allocated', 'published'], ['published', 'allocated'], ['allocated', 'released'], ['published', 'released'], ['released', 'freed'],
];

const NODE_W = 124;
const NODE_H = 40;
const GAP = 30;
const ROW_H = 130;

export interface DiagramInput {
  trace: SimTraceStep[];
  step: number;
}

/** Transitions per object seen along the trace (consecutive distinct states), each with the first step it happens at. */
export function observedTransitions(trace: SimTraceStep[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const last = new Map<string, ObjectStateName>();
  trace.forEach((st, i) => {
    for (const o of st.state.objects) {
      const prev = last.get(o.name);
      if (prev && prev !== o.state) {
        let m = out.get(o.name);
        if (!m) out.set(o.name, (m = new Map()));
        if (!m.has(`${prev}>${o.state}`)) m.set(`${prev}>${o.state}`, i);
      }
      last.set(o.name, o.state);
    }
  });
  return out;
}

const cache = new WeakMap<SimTraceStep[], Map<string, Map<string, number>>>();

function edgePath(a: number, b: number, y: number, lane: number): string {
  const xa = a * (NODE_W + GAP) + NODE_W / 2;
  const xb = b * (NODE_W + GAP) + NODE_W / 2;
  if (Math.abs(a - b) === 1 && a < b) return `M ${xa + NODE_W / 2} ${y} L ${xb - NODE_W / 2 - 4} ${y}`;
  // Skips and backward edges: arcs above (forward) or below (backward).
  const up = a < b;
  const dy = (up ? -1 : 1) * (18 + 10 * Math.min(3, Math.abs(a - b)) + lane * 4);
  const y0 = y + (up ? -NODE_H / 2 : NODE_H / 2);
  const y1 = y0 + (up ? -4 : 4);
  return `M ${xa} ${y0} C ${xa} ${y0 + dy}, ${xb} ${y0 + dy}, ${xb} ${y1}`;
}

/** Builds the SVG for the objects of the trace, marking each object's state after `step`. */
export function lifecycleDiagram(input: DiagramInput): SVGSVGElement {
  const cur = input.trace[Math.max(0, Math.min(input.step, input.trace.length - 1))];
  const objects = (cur?.state.objects ?? []).slice(0, 4);
  let seen = cache.get(input.trace);
  if (!seen) cache.set(input.trace, (seen = observedTransitions(input.trace)));
  const width = STATES.length * NODE_W + (STATES.length - 1) * GAP;
  const height = Math.max(1, objects.length) * ROW_H;
  const desc = objects.map((o) => `${o.name}: ${o.state}`).join('; ') || 'no object';
  const svg = s('svg', {
    class: 'diagram',
    viewBox: `0 -6 ${width} ${height}`,
    preserveAspectRatio: 'xMidYMin meet',
    role: 'img',
    'aria-label': `Lifecycle diagram. Current state ${desc}`,
  });
  svg.appendChild(s('title', {}, `Object lifecycle (current: ${desc})`));
  const defs = s('defs', {});
  for (const [id, cls] of [['arrow', 'edge-head'], ['arrow-seen', 'edge-head seen']] as const) {
    defs.appendChild(s('marker', { id: `rs-${id}`, viewBox: '0 0 10 10', refX: '8', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' }, s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: cls })));
  }
  svg.appendChild(defs);
  objects.forEach((o, row) => {
    const g = s('g', { class: 'object-row', transform: `translate(0 ${row * ROW_H})` });
    const y = ROW_H / 2 + 4;
    g.appendChild(s('text', { x: '0', y: '16', class: 'object-name' }, `${o.name} (refcount ${o.refcount})`));
    const seenHere = seen.get(o.name) ?? new Map<string, number>();
    const edges = new Map<string, 'usual' | 'seen' | 'past'>();
    for (const [a, b] of USUAL) edges.set(`${a}>${b}`, 'usual');
    for (const [k, at] of seenHere) edges.set(k, at <= input.step ? 'past' : 'seen');
    let lane = 0;
    for (const [k, kind] of edges) {
      const [a, b] = k.split('>') as [ObjectStateName, ObjectStateName];
      const ia = STATES.indexOf(a);
      const ib = STATES.indexOf(b);
      if (ia < 0 || ib < 0) continue;
      const skip = !(Math.abs(ia - ib) === 1 && ia < ib);
      g.appendChild(s('path', {
        d: edgePath(ia, ib, y, skip ? lane++ : 0),
        class: `edge ${kind}`,
        'marker-end': kind === 'usual' ? 'url(#rs-arrow)' : 'url(#rs-arrow-seen)',
      }));
    }
    STATES.forEach((st, i) => {
      const x = i * (NODE_W + GAP);
      const isCur = o.state === st;
      const node = s('g', { class: `state-node${isCur ? ' current' : ''} state-${st}`, 'data-state': st });
      node.appendChild(s('rect', { x: String(x), y: String(y - NODE_H / 2), width: String(NODE_W), height: String(NODE_H), rx: '6' }));
      node.appendChild(s('text', { x: String(x + NODE_W / 2), y: String(y + 6), 'text-anchor': 'middle' }, LABEL[st]));
      if (isCur) node.appendChild(s('text', { x: String(x + NODE_W / 2), y: String(y + NODE_H / 2 + 18), 'text-anchor': 'middle', class: 'current-label' }, 'current'));
      g.appendChild(node);
    });
    svg.appendChild(g);
  });
  return svg;
}
