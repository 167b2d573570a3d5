// Runs, newest first, filtered by pipeline, table and status; the queue on top.
import {h, fill, badge, link, dataTable} from '../dom.js';
import {api, part} from '../api.js';
import {section, errorBox, poll} from '../page.js';
import * as fmt from '../format.js';

/** A stream's flushes are runs of `stream:NAME` (docs/streams.md), a pipeline with no page: link its table. */
function pipelineCell(r) {
  const table = r.pipeline.startsWith('stream:') && r.details && r.details.jobs && r.details.jobs[0] && r.details.jobs[0].table;
  return table ? link(`#/tables/${part(table)}`, r.pipeline) : link(`#/pipelines/${part(r.pipeline)}`, r.pipeline);
}

export function runsTable(runs, attrs = {}) {
  if (runs.length === 0) return h('p', {class: 'notice'}, 'No runs.');
  return dataTable([
    {title: 'Run', cell: r => link(`#/runs/${part(r.id)}`, h('span', {class: 'mono'}, r.id))},
    {title: 'Pipeline', cell: pipelineCell},
    {title: 'Status', cell: r => badge(r.status)},
    {title: 'Trigger', cell: r => r.trigger},
    {title: 'Started', cell: r => fmt.time(r.started_at)},
    {title: 'Duration', class: 'num', cell: r => fmt.seconds(fmt.secondsBetween(r.started_at, r.finished_at))},
    {title: 'Rows written', class: 'num', cell: r => fmt.count(r.rows_written)},
    {title: 'Rejected', class: 'num', cell: r => fmt.count(r.rows_rejected)},
    {title: 'Bytes', class: 'num', cell: r => fmt.bytes(r.bytes_written)},
  ], runs, {class: 'runs-table', ...attrs});
}

export function runsPage(view, _params, query) {
  const pipeline = query.get('pipeline') || '';
  const table = query.get('table') || '';
  const status = query.get('status') || '';
  const update = (key, value) => {
    const next = new URLSearchParams(query);
    if (value) next.set(key, value);
    else next.delete(key);
    location.hash = `#/runs${next.toString() ? `?${next}` : ''}`;
  };
  const pipelineInput = h('input', {type: 'search', id: 'runs-pipeline', placeholder: 'pipeline', value: pipeline});
  const tableInput = h('input', {type: 'search', id: 'runs-table-filter', placeholder: 'table (zone.name)', value: table});
  const statusSelect = h('select', {id: 'runs-status'},
    ['', 'running', 'succeeded', 'no_changes', 'failed', 'cancelled', 'interrupted'].map(v =>
      h('option', {value: v, selected: v === status}, v || 'any status')));
  pipelineInput.addEventListener('change', () => update('pipeline', pipelineInput.value.trim()));
  tableInput.addEventListener('change', () => update('table', tableInput.value.trim()));
  statusSelect.addEventListener('change', () => update('status', statusSelect.value));
  const queue = h('div', {id: 'queue'});
  const body = h('div', {id: 'runs'}, h('p', {class: 'notice'}, 'Loading…'));
  fill(view, section('Runs', h('div', {class: 'toolbar'}, pipelineInput, tableInput, statusSelect), queue, body));

  const params = new URLSearchParams({limit: '100'});
  if (pipeline) params.set('pipeline', pipeline);
  if (table) params.set('table', table);
  return poll(async () => {
    try {
      const [runs, pending] = await Promise.all([api(`/runs?${params}`), api('/queue')]);
      const waiting = pending.queue.filter(q => q.status === 'queued' && (!pipeline || q.pipeline === pipeline));
      fill(queue, waiting.length ? [h('h2', null, 'Queued'), dataTable([
        {title: 'Run', cell: q => link(`#/runs/${part(q.id)}`, h('span', {class: 'mono'}, q.id))},
        {title: 'Pipeline', cell: q => q.pipeline},
        {title: 'Trigger', cell: q => q.trigger},
        {title: 'Enqueued', cell: q => fmt.time(q.enqueued_at)},
        {title: 'Not before', cell: q => fmt.time(q.not_before)},
      ], waiting)] : []);
      const shown = runs.runs.filter(r => !status || r.status === status);
      fill(body, runsTable(shown, {id: 'runs-table'}));
    } catch (error) {
      fill(body, errorBox(error));
      return false;
    }
  }, 3000);
}
