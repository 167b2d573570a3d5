// One table: figures, schema versions and what changed, partitions, files, commits (which run wrote
// each), a preview of rows and the runs that wrote it.
import {h, fill, link, dataTable} from '../dom.js';
import {api, part} from '../api.js';
import {load, figure, errorBox} from '../page.js';
import {resultGrid} from '../results.js';
import {runsTable} from './runs.js';
import * as fmt from '../format.js';

const PREVIEW_ROWS = 20;

export function tablePage(view, [name]) {
  load(view, `Table ${name}`, async () => {
    const [t, runs] = await Promise.all([api(`/tables/${part(name)}`), api(`/runs?table=${part(name)}&limit=20`)]);
    const preview = h('div', {id: 'table-preview'}, h('p', {class: 'notice'}, 'Loading…'));
    // Table names are zone.name of letters, digits and '_' (the catalog refuses others): safe to quote.
    const [zone, table] = t.name.split('.');
    api('/query', {method: 'POST', body: {sql: `SELECT * FROM ${zone}.${table} LIMIT ${PREVIEW_ROWS}`, max_rows: PREVIEW_ROWS}})
      .then(answer => fill(preview, resultGrid(answer, {id: 'preview-table'})))
      .catch(error => fill(preview, errorBox(error)));
    const schemaChanges = t.versions.filter(v => v.schema_change);
    return [
      h('div', {class: 'figures'},
        figure('Rows', fmt.count(t.rows), {id: 'table-rows'}),
        figure('Files', fmt.count(t.files), {id: 'table-files'}),
        figure('Size', fmt.bytes(t.bytes)),
        figure('Version', fmt.count(t.version)),
        figure('Last commit', fmt.time(t.updated_at))),
      h('div', {class: 'toolbar'},
        link(`#/query?sql=${part(`SELECT * FROM ${t.name} LIMIT 100`)}`, 'Query this table'),
        link(`#/lineage?focus=${part(`table:${t.name}`)}`, 'Lineage'),
        link(`#/runs?table=${part(t.name)}`, 'All runs writing it')),
      h('h2', null, 'Schema'),
      dataTable([
        {title: 'Column', cell: c => c.name},
        {title: 'Type', cell: c => h('code', null, c.type)},
        {title: 'Nullable', cell: c => (c.nullable ? 'yes' : 'no')},
      ], t.schema, {id: 'schema-table'}),
      h('h2', null, 'Schema changes'),
      schemaChanges.length ? h('ul', {id: 'schema-changes'}, schemaChanges.map(v =>
        h('li', null, `version ${v.version} (${fmt.time(v.committed_at)}): ${v.schema_change}`)))
        : h('p', {class: 'muted'}, 'The schema has not changed since the table was created.'),
      h('h2', null, 'Preview'),
      preview,
      h('h2', null, 'Commits'),
      dataTable([
        {title: 'Version', class: 'num', cell: v => v.version},
        {title: 'Committed', cell: v => fmt.time(v.committed_at)},
        {title: 'Operation', cell: v => v.operation},
        {title: 'Run', cell: v => v.run_id ? link(`#/runs/${part(v.run_id)}`, h('span', {class: 'mono'}, v.run_id)) : '–'},
        {title: 'Pipeline / job', cell: v => v.pipeline ? `${v.pipeline} / ${v.job}` : '–'},
        {title: 'Rows +', class: 'num', cell: v => fmt.count(v.rows_added)},
        {title: 'Rows −', class: 'num', cell: v => fmt.count(v.rows_removed)},
        {title: 'Files +/−', class: 'num', cell: v => `${v.files_added} / ${v.files_removed}`},
      ], t.versions, {id: 'commits-table'}),
      h('h2', null, 'Partitions'),
      t.partition_columns.length ? dataTable([
        {title: 'Partition', cell: p => p.partition || '(none)'},
        {title: 'Files', class: 'num', cell: p => fmt.count(p.files)},
        {title: 'Rows', class: 'num', cell: p => fmt.count(p.rows)},
        {title: 'Size', class: 'num', cell: p => fmt.bytes(p.bytes)},
      ], t.partitions, {id: 'partitions-table'}) : h('p', {class: 'muted'}, 'Not partitioned.'),
      h('h2', null, 'Files'),
      dataTable([
        {title: 'Path', cell: f => h('span', {class: 'mono'}, f.path)},
        {title: 'Rows', class: 'num', cell: f => fmt.count(f.rows)},
        {title: 'Size', class: 'num', cell: f => fmt.bytes(f.bytes)},
        {title: 'Added in', class: 'num', cell: f => f.version_added},
      ], t.file_list, {id: 'files-table'}),
      t.file_list_truncated ? h('p', {class: 'muted'}, `The first ${t.file_list.length} files are listed.`) : null,
      h('h2', null, 'Runs'),
      runsTable(runs.runs),
    ];
  });
}
