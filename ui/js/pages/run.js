// One run: per-job timeline (status, rows, bytes, rate, elapsed) updating live while it runs, check
// results, rejects with a link to the rejects table, the log inline or full screen, and Cancel.
import {h, fill, badge, link, dataTable} from '../dom.js';
import {api, part} from '../api.js';
import {section, errorBox, poll, figure} from '../page.js';
import * as fmt from '../format.js';

const LIVE_POLL_MS = 1000;  // issue 18: updates at most every 2 s

function logLine(text) {
  try {
    const line = JSON.parse(text);
    return h('div', {class: `level-${line.level}`}, `${fmt.time(line.ts)} ${String(line.level).padEnd(5)} ${line.msg}`);
  } catch {
    return h('div', null, text);
  }
}

function jobsTable(jobs) {
  if (jobs.length === 0) return h('p', {class: 'notice'}, 'No job has started yet.');
  return dataTable([
    {title: 'Job', cell: j => [j.job, j.input ? h('div', {class: 'muted'}, j.input) : null]},
    {title: 'Status', cell: j => badge(j.state)},
    {title: 'Table', cell: j => j.table ? link(`#/tables/${part(j.table)}`, j.table) : '–'},
    {title: 'Rows', class: 'num', cell: j => fmt.count(j.rows_written ?? j.rows)},
    {title: 'Bytes', class: 'num', cell: j => fmt.bytes(j.bytes_written ?? j.input_bytes ?? 0)},
    {title: 'Rate', class: 'num', cell: j => fmt.rate(j.rows_written ?? j.rows, j.elapsed_seconds)},
    {title: 'Elapsed', class: 'num', cell: j => fmt.seconds(j.elapsed_seconds)},
    {title: 'Progress', cell: j => j.state === 'running'
      ? (j.percentage === null || j.percentage === undefined ? h('progress', null) : h('progress', {max: 100, value: j.percentage}))
      : (j.message ? h('span', {class: 'muted'}, j.message) : '')},
  ], jobs, {id: 'run-jobs'});
}

function checksTable(jobs) {
  const checks = jobs.flatMap(j => (j.checks || []).map(c => ({...c, job: j.job})));
  if (checks.length === 0) return h('p', {class: 'muted'}, 'No checks ran.');
  return dataTable([
    {title: 'Job', cell: c => c.job},
    {title: 'Check', cell: c => c.check},
    {title: 'Severity', cell: c => c.severity},
    {title: 'Result', cell: c => badge(c.status)},
    {title: 'Failed rows', class: 'num', cell: c => fmt.count(c.failed_rows)},
    {title: 'Detail', cell: c => c.detail},
  ], checks, {id: 'run-checks'});
}

function rejects(jobs) {
  const rejected = jobs.filter(j => (j.rows_rejected || 0) > 0);
  if (rejected.length === 0) return h('p', {class: 'muted', id: 'run-rejects'}, 'No rows were rejected.');
  return h('ul', {id: 'run-rejects'}, rejected.map(j => h('li', null, `${fmt.count(j.rows_rejected)} rows of job ${j.job} set aside in `,
    link(`#/tables/${part(`${j.table}__rejects`)}`, `${j.table}__rejects`))));
}

export function runPage(view, [id]) {
  const head = h('div', {id: 'run-head'}, h('p', {class: 'notice'}, 'Loading…'));
  const message = h('div');
  const cancel = h('button', {type: 'button', class: 'danger', id: 'cancel-run', hidden: true}, 'Cancel');
  const figures = h('div', {class: 'figures'});
  const jobs = h('div', {id: 'run-jobs-panel'});
  const checks = h('div');
  const rejected = h('div');
  const log = h('pre', {class: 'log', id: 'run-log', 'aria-live': 'polite'});
  const follow = h('input', {type: 'checkbox', id: 'log-follow', checked: true});
  const fullscreen = h('button', {type: 'button', id: 'log-fullscreen'}, 'Full screen');
  const logPanel = h('div', {class: 'log-panel'},
    h('div', {class: 'toolbar'}, h('strong', null, 'Log'), h('label', null, follow, ' follow'), fullscreen), log);
  fullscreen.addEventListener('click', () => {
    const on = logPanel.classList.toggle('fullscreen');
    fullscreen.textContent = on ? 'Exit full screen' : 'Full screen';
  });
  fill(view, section(`Run ${id}`, head, h('div', {class: 'toolbar'}, cancel), message, figures,
    h('h2', null, 'Jobs'), jobs, h('h2', null, 'Checks'), checks, h('h2', null, 'Rejects'), rejected, logPanel));

  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      await api(`/runs/${part(id)}/cancel`, {method: 'POST'});
      fill(message, h('p', {class: 'notice', id: 'cancel-requested'}, 'Cancel requested; the run stops at its next safe point.'));
    } catch (error) {
      fill(message, errorBox(error));
      cancel.disabled = false;
    }
  });

  let logOffset = null;
  let finished = false;
  const followLog = async () => {
    const answer = await api(`/runs/${part(id)}/log${logOffset === null ? '' : `?offset=${logOffset}`}`);
    if (answer.text) {
      log.append(...answer.text.split('\n').filter(Boolean).map(logLine));
      if (follow.checked) log.scrollTop = log.scrollHeight;
    }
    logOffset = answer.next_offset;
    return answer;
  };

  const step = async () => {
    let progress;
    try {
      progress = await api(`/runs/${part(id)}/progress`);
    } catch (error) {
      fill(head, errorBox(error));
      return error.status !== 404 && error.status !== 401;
    }
    const active = progress.status === 'running' || progress.status === 'queued' || progress.status === 'claimed';
    fill(head, h('dl', {class: 'facts'},
      h('dt', null, 'Pipeline'), h('dd', null, progress.pipeline ? link(`#/pipelines/${part(progress.pipeline)}`, progress.pipeline) : '–'),
      h('dt', null, 'Status'), h('dd', {id: 'run-status', dataset: {status: progress.status}}, badge(progress.status)),
      h('dt', null, 'Elapsed'), h('dd', null, fmt.seconds(progress.elapsed_seconds)),
      progress.error ? [h('dt', null, 'Error'), h('dd', {class: 'error'}, progress.error)] : null));
    cancel.hidden = !active;
    fill(figures,
      figure('Rows written', fmt.count(progress.rows_written), {id: 'run-rows-written'}),
      figure('Rows rejected', fmt.count(progress.rows_rejected)),
      figure('Bytes written', fmt.bytes(progress.bytes_written)));
    fill(jobs, jobsTable(progress.jobs));
    fill(checks, checksTable(progress.jobs));
    fill(rejected, rejects(progress.jobs));
    if (progress.status !== 'queued') {
      try {
        // Read the log to its end before stopping: the last lines come with the final status.
        let answer = await followLog();
        while (!active && answer.next_offset < answer.size && answer.text) answer = await followLog();
      } catch {
        // the log is optional; the figures above are the run's state
      }
    }
    finished = !active;
    return active;
  };
  const stop = poll(step, LIVE_POLL_MS);
  return () => {
    stop();
    if (!finished) logPanel.classList.remove('fullscreen');
  };
}
