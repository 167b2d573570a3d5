// The lake's tables by zone, with rows, files, size and last commit.
import {h, link, dataTable} from '../dom.js';
import {api, part} from '../api.js';
import {load} from '../page.js';
import * as fmt from '../format.js';

export function tablesPage(view) {
  load(view, 'Tables', async () => {
    const {tables} = await api('/tables');
    if (tables.length === 0) return h('p', {class: 'notice'}, 'The lake has no tables yet: run a pipeline.');
    const zones = [...new Set(tables.map(t => t.name.split('.')[0]))];
    return zones.map(zone => [
      h('h2', null, `Zone ${zone}`),
      dataTable([
        {title: 'Table', cell: t => link(`#/tables/${part(t.name)}`, t.name)},
        {title: 'Rows', class: 'num', cell: t => fmt.count(t.rows)},
        {title: 'Files', class: 'num', cell: t => fmt.count(t.files)},
        {title: 'Size', class: 'num', cell: t => fmt.bytes(t.bytes)},
        {title: 'Version', class: 'num', cell: t => fmt.count(t.version)},
        {title: 'Columns', class: 'num', cell: t => fmt.count(t.schema.length)},
        {title: 'Last commit', cell: t => fmt.time(t.updated_at)},
      ], tables.filter(t => t.name.startsWith(`${zone}.`)), {class: 'tables-table', dataset: {zone}}),
    ]);
  });
}
