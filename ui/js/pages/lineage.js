// Lineage: tables and the jobs between them. A search picks a node; the graph then shows what feeds
// it and what it feeds, so a large project stays readable.
import {h, fill} from '../dom.js';
import {api, part} from '../api.js';
import {section, errorBox} from '../page.js';
import {layeredGraph} from '../graph.js';

const FULL_GRAPH_LIMIT = 80;  // larger graphs are shown around a selected node only

function neighbourhood(id, edges) {
  const keep = new Set([id]);
  for (const [from, to] of [['from', 'to'], ['to', 'from']]) {
    const queue = [id];
    while (queue.length) {
      const current = queue.pop();
      for (const e of edges) {
        if (e[from] === current && !keep.has(e[to])) {
          keep.add(e[to]);
          queue.push(e[to]);
        }
      }
    }
  }
  return keep;
}

export function lineagePage(view, _params, query) {
  const search = h('input', {type: 'search', id: 'lineage-search', placeholder: 'table or job', list: 'lineage-names',
    value: query.get('focus')?.replace(/^[a-z]+:/, '') || ''});
  const names = h('datalist', {id: 'lineage-names'});
  const info = h('p', {class: 'muted', id: 'lineage-info'});
  const canvas = h('div', {class: 'graph', id: 'lineage-graph'}, h('p', {class: 'notice'}, 'Loading…'));
  fill(view, section('Lineage', h('div', {class: 'toolbar'}, search, names,
    h('span', {class: 'muted'}, 'Pick a table or job to see what feeds it and what it feeds; click a node to follow it.')),
  info, canvas));

  api('/lineage').then(({nodes, edges}) => {
    fill(names, nodes.map(n => h('option', {value: n.label})));
    const draw = focusId => {
      const keep = focusId ? neighbourhood(focusId, edges) : null;
      if (!keep && nodes.length > FULL_GRAPH_LIMIT) {
        info.textContent = `${nodes.length} nodes: pick one to see its lineage.`;
        fill(canvas);
        return;
      }
      const shown = keep ? nodes.filter(n => keep.has(n.id)) : nodes;
      info.textContent = keep ? `${shown.length} of ${nodes.length} nodes, around ${focusId.replace(/^[a-z]+:/, '')}`
        : `${nodes.length} nodes`;
      const graphNodes = shown.map(n => ({id: n.id, kind: n.kind, label: n.label,
        sub: n.kind === 'job' ? `job of ${n.pipeline}` : n.kind}));
      fill(canvas, layeredGraph(graphNodes, edges.filter(e => (!keep || (keep.has(e.from) && keep.has(e.to)))), {
        label: 'lineage', selected: focusId,
        onSelect: node => {
          if (node.id === focusId) {
            const target = node.kind === 'table' ? `#/tables/${part(node.label)}`
              : node.kind === 'job' ? `#/pipelines/${part(nodes.find(n => n.id === node.id).pipeline)}` : null;
            if (target) location.hash = target;
          } else {
            location.hash = `#/lineage?focus=${part(node.id)}`;
          }
        },
      }));
    };
    const focus = query.get('focus');
    draw(focus && nodes.some(n => n.id === focus) ? focus : null);
    search.addEventListener('change', () => {
      const text = search.value.trim();
      const match = nodes.find(n => n.label === text) || nodes.find(n => n.label.includes(text));
      location.hash = match ? `#/lineage?focus=${part(match.id)}` : '#/lineage';
    });
  }).catch(error => fill(canvas, errorBox(error)));
}
