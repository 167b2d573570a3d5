// One pipeline: its job graph (depends_on with conditions), triggers, recent runs and the YAML it runs.
import {h, fill, badge, link, dataTable} from '../dom.js';
import {api, part} from '../api.js';
import {load, figure} from '../page.js';
import {layeredGraph} from '../graph.js';
import {startRun} from './pipelines.js';
import {runsTable} from './runs.js';
import * as fmt from '../format.js';

export function pipelinePage(view, [name]) {
  load(view, `Pipeline ${name}`, async () => {
    const [p, runs] = await Promise.all([api(`/pipelines/${part(name)}`), api(`/runs?pipeline=${part(name)}&limit=20`)]);
    const message = h('div');
    const button = h('button', {type: 'button', class: 'primary', id: 'run-pipeline', disabled: !p.accepts_api}, 'Run');
    button.addEventListener('click', () => startRun(name, message, button));
    const nodes = p.jobs.map(j => ({id: j.name, label: j.name, kind: 'job', sub: `${j.mode} → ${j.target}`}));
    const edges = p.jobs.flatMap(j => j.depends_on.map(d => ({from: d.job, to: j.name,
      label: d.condition === 'success' ? '' : d.condition})));
    return [
      p.description ? h('p', null, p.description) : null,
      h('div', {class: 'toolbar'}, button, badge(p.health),
        link(`#/runs?pipeline=${part(name)}`, 'All runs of this pipeline')),
      message,
      h('div', {class: 'figures'},
        figure('Next fire', fmt.time(p.next_fire)),
        figure('Last run', p.last_run ? badge(p.last_run.status) : 'never'),
        figure('Jobs', fmt.count(p.jobs.length))),
      h('h2', null, 'Jobs'),
      h('div', {class: 'graph', id: 'job-graph'}, layeredGraph(nodes, edges, {label: `jobs of ${name}`})),
      dataTable([
        {title: 'Job', cell: j => j.name},
        {title: 'Mode', cell: j => j.mode},
        {title: 'Depends on', cell: j => j.depends_on.map(d => `${d.job} (${d.condition})`).join(', ') || '–'},
        {title: 'Target', cell: j => link(`#/tables/${part(j.target)}`, j.target)},
        {title: 'Write', cell: j => j.write},
      ], p.jobs, {id: 'jobs-table'}),
      h('h2', null, 'Triggers'),
      p.triggers.length ? h('ul', null, p.triggers.map(t => h('li', null, t.describe)))
        : h('p', {class: 'muted'}, 'No triggers: it runs on demand only (the Run button, the API, sluice run).'),
      h('h2', null, 'Recent runs'),
      runsTable(runs.runs),
      h('h2', null, 'Configuration'),
      h('pre', {id: 'pipeline-yaml'}, p.config_yaml),
    ];
  });
}
