// Query results as a grid, and as CSV for download.
import {h, dataTable} from './dom.js';

function cellText(value) {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function resultGrid(answer, attrs = {}) {
  if (answer.rows.length === 0) return h('p', {class: 'notice'}, 'No rows.');
  return h('div', {class: 'table-scroll'}, dataTable(answer.columns.map(c => ({
    title: h('span', {title: c.type}, c.name),
    class: /INT|DECIMAL|DOUBLE|FLOAT|REAL|NUMERIC/.test(c.type) ? 'num' : '',
    cell: row => row[c.name] === null ? h('span', {class: 'muted'}, 'NULL') : cellText(row[c.name]),
  })), answer.rows, attrs));
}

function csvField(text) {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(answer) {
  const lines = [answer.columns.map(c => csvField(c.name)).join(',')];
  for (const row of answer.rows) lines.push(answer.columns.map(c => csvField(cellText(row[c.name]))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
