// Home: every pipeline with its triggers, next scheduled fire, last run, health and a Run button.
import {h, fill, badge, link, dataTable} from '../dom.js';
import {api, part} from '../api.js';
import {section, errorBox, poll} from '../page.js';
import * as fmt from '../format.js';

/** Starts a run of `name` through the API and opens its page; errors show in `where`. */
export async function startRun(name, where, button) {
  button.disabled = true;
  try {
    const started = await api(`/pipelines/${part(name)}/trigger`, {method: 'POST'});
    location.hash = `#/runs/${part(started.run_id)}`;
  } catch (error) {
    fill(where, errorBox(error));
    button.disabled = false;
  }
}

export function pipelinesPage(view, _params, query) {
  const message = h('div', {id: 'pipelines-message'});
  const filterText = h('input', {type: 'search', id: 'pipeline-filter', placeholder: 'Filter by name or table',
    value: query.get('q') || ''});
  const filterHealth = h('select', {id: 'health-filter'},
    ['all', 'running', 'failing', 'late', 'on_time', 'never_run'].map(v =>
      h('option', {value: v, selected: (query.get('health') || 'all') === v}, v === 'all' ? 'any health' : v.replace('_', ' '))));
  const body = h('div', {id: 'pipelines'}, h('p', {class: 'notice'}, 'Loading…'));
  fill(view, section('Pipelines', h('div', {class: 'toolbar'}, filterText, filterHealth), message, body));

  let data = null;
  const render = () => {
    if (!data) return;
    const text = filterText.value.trim().toLowerCase();
    const health = filterHealth.value;
    const rows = data.filter(p => (health === 'all' || p.status.health === health) &&
      (!text || p.name.toLowerCase().includes(text) || p.jobs.some(j => j.target.toLowerCase().includes(text))));
    if (rows.length === 0) {
      fill(body, h('p', {class: 'notice'}, data.length ? 'No pipeline matches the filter.' : 'This project has no pipelines.'));
      return;
    }
    fill(body, dataTable([
      {title: 'Pipeline', cell: p => [link(`#/pipelines/${part(p.name)}`, p.name),
        p.description ? h('div', {class: 'muted'}, p.description) : null]},
      {title: 'Health', cell: p => badge(p.status.health)},
      {title: 'Triggers', cell: p => p.status.triggers.length ? p.status.triggers.map(t => h('div', null, t.describe))
        : h('span', {class: 'muted'}, 'on demand')},
      {title: 'Next fire', cell: p => fmt.time(p.status.next_fire)},
      {title: 'Last run', cell: p => p.status.last_run
        ? [badge(p.status.last_run.status), ' ', link(`#/runs/${part(p.status.last_run.id)}`, fmt.time(p.status.last_run.started_at))]
        : h('span', {class: 'muted'}, 'never')},
      {title: 'Tables', cell: p => p.jobs.map(j => h('div', null, link(`#/tables/${part(j.target)}`, j.target)))},
      {title: '', cell: p => {
        const button = h('button', {type: 'button', class: 'primary run-button', dataset: {pipeline: p.name},
          disabled: !p.status.accepts_api,
          title: p.status.accepts_api ? 'Queue a run now' : 'Its triggers do not allow starting it over the API (add webhook: true or on_demand: true)'},
          'Run');
        button.addEventListener('click', () => startRun(p.name, message, button));
        return button;
      }},
    ], rows, {id: 'pipelines-table'}));
  };
  filterText.addEventListener('input', render);
  filterHealth.addEventListener('change', render);

  return poll(async () => {
    try {
      const [pipelines, status] = await Promise.all([api('/pipelines'), api('/status')]);
      const byName = Object.fromEntries(status.pipelines.map(s => [s.name, s]));
      data = pipelines.pipelines.map(p => ({...p, status: byName[p.name]}));
      render();
    } catch (error) {
      fill(body, errorBox(error));
      return false;
    }
  }, 5000);
}
