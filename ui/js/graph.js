// A left-to-right layered drawing of a directed graph in SVG: each node in the column after its
// furthest upstream node. Used for a pipeline's jobs and for the lineage of tables and jobs.
import {svg} from './dom.js';

const NODE_W = 190, NODE_H = 38, COL_GAP = 80, ROW_GAP = 18, PAD = 16;

function ranks(nodes, edges) {
  const rank = new Map(nodes.map(n => [n.id, 0]));
  // Longest path from the sources; a cycle stops growing after |nodes| passes.
  for (let pass = 0; pass < nodes.length; pass += 1) {
    let changed = false;
    for (const e of edges) {
      if (!rank.has(e.from) || !rank.has(e.to)) continue;
      if (rank.get(e.to) < rank.get(e.from) + 1) {
        rank.set(e.to, rank.get(e.from) + 1);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return rank;
}

function shorten(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * nodes: [{id, label, kind, sub}], edges: [{from, to, label}].
 * options.selected: id drawn highlighted; options.onSelect(node) when a node is clicked.
 */
export function layeredGraph(nodes, edges, options = {}) {
  const rank = ranks(nodes, edges);
  const columns = [];
  for (const node of nodes) {
    const r = rank.get(node.id);
    (columns[r] ||= []).push(node);
  }
  const position = new Map();
  columns.forEach((column, c) => column.forEach((node, i) => position.set(node.id, {
    x: PAD + c * (NODE_W + COL_GAP), y: PAD + i * (NODE_H + ROW_GAP)})));
  const width = PAD * 2 + Math.max(1, columns.length) * (NODE_W + COL_GAP) - COL_GAP;
  const height = PAD * 2 + Math.max(1, ...columns.map(c => c.length)) * (NODE_H + ROW_GAP) - ROW_GAP;

  const root = svg('svg', {width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': options.label || 'graph'});
  root.append(svg('defs', null, svg('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5,
    markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'}, svg('path', {d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow'}))));
  for (const e of edges) {
    const a = position.get(e.from), b = position.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    root.append(svg('path', {class: 'edge', d: `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`,
      'marker-end': 'url(#arrow)'}));
    if (e.label) {
      root.append(svg('text', {class: 'edge-label', x: mid, y: (y1 + y2) / 2 - 4, 'text-anchor': 'middle'}, e.label));
    }
  }
  for (const node of nodes) {
    const p = position.get(node.id);
    const g = svg('g', {class: ['node', node.kind, node.id === options.selected && 'selected'],
      transform: `translate(${p.x} ${p.y})`, tabindex: 0, dataset: {id: node.id}},
      svg('title', null, node.sub ? `${node.label} (${node.sub})` : node.label),
      svg('rect', {width: NODE_W, height: NODE_H, rx: 6}),
      svg('text', {x: 10, y: node.sub ? 16 : 23}, shorten(node.label, 26)),
      node.sub ? svg('text', {x: 10, y: 31, class: 'muted'}, shorten(node.sub, 28)) : null);
    if (options.onSelect) {
      g.addEventListener('click', () => options.onSelect(node));
      g.addEventListener('keydown', event => {
        if (event.key === 'Enter') options.onSelect(node);
      });
    }
    root.append(g);
  }
  return root;
}
