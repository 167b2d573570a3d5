// The query console: SQL over the lake through the sandboxed API query (POST /api/v1/query), with
// row and time limits, a version picker (as_of), the scan-limit refusal shown as the server words
// it, and the results as CSV.
import {h, fill} from '../dom.js';
import {api} from '../api.js';
import {section, errorBox} from '../page.js';
import {resultGrid, toCsv} from '../results.js';
import * as fmt from '../format.js';

export function queryPage(view, _params, query) {
  const editor = h('textarea', {id: 'sql', class: 'query-editor', spellcheck: 'false', 'aria-label': 'SQL',
    placeholder: 'SELECT * FROM raw.orders LIMIT 10'});
  editor.value = query.get('sql') || sessionStorage.getItem('sluice.query.sql') || '';
  const maxRows = h('input', {type: 'number', id: 'max-rows', min: 1, max: 10000, value: 100, 'aria-label': 'row limit'});
  const timeout = h('input', {type: 'number', id: 'timeout', min: 1, max: 600, value: 30, 'aria-label': 'time limit in seconds'});
  const asOf = h('input', {type: 'number', id: 'as-of', min: 1, placeholder: 'latest', list: 'versions',
    'aria-label': 'as of version'});
  const versions = h('datalist', {id: 'versions'});
  const run = h('button', {type: 'button', class: 'primary', id: 'run-query'}, 'Run');
  const download = h('button', {type: 'button', id: 'download-csv', disabled: true}, 'Download CSV');
  const status = h('p', {class: 'muted', id: 'query-status'});
  const results = h('div', {id: 'query-results'});
  fill(view, section('Query', editor,
    h('div', {class: 'toolbar'}, run,
      h('label', null, 'rows ', maxRows), h('label', null, 'seconds ', timeout),
      h('label', null, 'as of version ', asOf), versions, download,
      h('span', {class: 'muted'}, 'Ctrl+Enter runs. Tables are zone.table; queries read the lake only.')),
    status, results));

  // The version picker offers the versions the lake's tables have reached.
  api('/tables').then(({tables}) => {
    const highest = Math.max(0, ...tables.map(t => t.version));
    fill(versions, Array.from({length: Math.min(highest, 200)}, (_, i) => h('option', {value: highest - i})));
  }).catch(() => {});

  let answer = null;
  const execute = async () => {
    const sql = editor.value.trim();
    if (!sql) return;
    sessionStorage.setItem('sluice.query.sql', editor.value);
    const body = {sql, max_rows: Number(maxRows.value) || 100, timeout_seconds: Number(timeout.value) || 30};
    if (asOf.value) body.as_of = Number(asOf.value);
    run.disabled = true;
    download.disabled = true;
    status.textContent = 'Running…';
    const started = performance.now();
    try {
      answer = await api('/query', {method: 'POST', body});
      const took = (performance.now() - started) / 1000;
      status.textContent = `${fmt.count(answer.rows.length)} rows${answer.truncated ? ` (cut at ${body.max_rows}; raise the row limit for more)` : ''} in ${took.toFixed(2)} s`;
      fill(results, resultGrid(answer, {id: 'result-table'}));
      download.disabled = answer.rows.length === 0;
    } catch (error) {
      answer = null;
      status.textContent = error.status === 408 ? 'Stopped at the time limit.' : 'The query was refused or failed.';
      fill(results, h('div', {class: 'error', id: 'query-error', role: 'alert'}, error.message));
    } finally {
      run.disabled = false;
    }
  };
  run.addEventListener('click', execute);
  editor.addEventListener('keydown', event => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      execute();
    }
  });
  download.addEventListener('click', () => {
    if (!answer) return;
    const url = URL.createObjectURL(new Blob([toCsv(answer)], {type: 'text/csv'}));
    const a = h('a', {href: url, download: 'query.csv'});
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  });
  editor.focus();
}
