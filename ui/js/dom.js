// Building DOM nodes. Text always goes in as text nodes (never as HTML), so data from the project —
// a table, column or pipeline name, a value — shows as written, whatever characters it holds.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function setAttributes(node, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      node.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (key === 'dataset') {
      Object.assign(node.dataset, value);
    } else if (key === 'value' || key === 'checked' || key === 'disabled' || key === 'selected') {
      node[key] = value;
    } else {
      node.setAttribute(key, value === true ? '' : String(value));
    }
  }
  return node;
}

/** h('a', {href: '#/x'}, 'text', child, [more]) — an element with attributes and children. */
export function h(tag, attrs, ...children) {
  return append(setAttributes(document.createElement(tag), attrs), children);
}

/** The same for SVG elements. */
export function svg(tag, attrs, ...children) {
  return append(setAttributes(document.createElementNS(SVG_NS, tag), attrs), children);
}

/** Replaces the children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** A table: columns [{title, cell: row => node|text, class}] over rows. */
export function dataTable(columns, rows, attrs = {}) {
  return h('table', attrs,
    h('thead', null, h('tr', null, columns.map(c => h('th', {class: c.class}, c.title)))),
    h('tbody', null, rows.map(row => h('tr', null, columns.map(c => h('td', {class: c.class}, c.cell(row)))))));
}

/** A status word shown as a coloured badge. */
export function badge(status) {
  return h('span', {class: ['badge', `badge-${String(status).replace(/[^a-z_]/g, '')}`]}, String(status).replace(/_/g, ' '));
}

/** A hash link inside the app: link('#/tables/raw.x', 'raw.x'). Parts of the route are encoded by the caller. */
export function link(href, ...children) {
  return h('a', {href}, ...children);
}
