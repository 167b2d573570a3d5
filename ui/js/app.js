// The web UI of sluice serve: a hash router over pages, the login gate and the theme switch.
// Nothing about the project is fetched until a token is entered.
import {h, fill} from './dom.js';
import {token, clearToken} from './api.js';
import {loginPage} from './pages/login.js';
import {pipelinesPage} from './pages/pipelines.js';
import {pipelinePage} from './pages/pipeline.js';
import {runsPage} from './pages/runs.js';
import {runPage} from './pages/run.js';
import {tablesPage} from './pages/tables.js';
import {tablePage} from './pages/table.js';
import {lineagePage} from './pages/lineage.js';
import {queryPage} from './pages/query.js';

// [pattern, page, nav section]; a page is (view, params, query) => optional cleanup function.
const ROUTES = [
  [/^\/pipelines$/, pipelinesPage, 'pipelines'],
  [/^\/pipelines\/([^/]+)$/, pipelinePage, 'pipelines'],
  [/^\/runs$/, runsPage, 'runs'],
  [/^\/runs\/([^/]+)$/, runPage, 'runs'],
  [/^\/tables$/, tablesPage, 'tables'],
  [/^\/tables\/([^/]+)$/, tablePage, 'tables'],
  [/^\/lineage$/, lineagePage, 'lineage'],
  [/^\/query$/, queryPage, 'query'],
];

const view = document.getElementById('view');
const nav = document.getElementById('nav');
let cleanup = null;

function parseHash() {
  const hash = location.hash.replace(/^#/, '') || '/pipelines';
  const [path, search] = hash.split('?');
  return {path, query: new URLSearchParams(search || '')};
}

function render() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const {path, query} = parseHash();
  const loggedIn = token() !== '';
  nav.hidden = !loggedIn;
  document.body.dataset.loggedIn = loggedIn ? 'yes' : 'no';
  if (!loggedIn || path === '/login') {
    const next = path === '/login' ? (query.get('next') || '/pipelines') : `${path}${query.toString() ? `?${query}` : ''}`;
    cleanup = loginPage(view, next);
    return;
  }
  for (const [pattern, page, section] of ROUTES) {
    const match = path.match(pattern);
    if (!match) continue;
    for (const a of nav.querySelectorAll('a[data-section]')) {
      a.classList.toggle('active', a.dataset.section === section);
    }
    const params = match.slice(1).map(decodeURIComponent);
    cleanup = page(view, params, query) || null;
    return;
  }
  fill(view, h('section', {class: 'page'}, h('h1', null, 'Not found'),
    h('p', null, 'No page at ', h('code', null, path), '. ', h('a', {href: '#/pipelines'}, 'Go to the pipelines.'))));
}

// Theme: follows the system unless the user picked one (a display preference, not project data).
const THEME_KEY = 'sluice.theme';
function applyTheme() {
  const chosen = localStorage.getItem(THEME_KEY);
  const dark = chosen ? chosen === 'dark' : window.matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  document.getElementById('theme').textContent = dark ? 'Light theme' : 'Dark theme';
}
document.getElementById('theme').addEventListener('click', () => {
  localStorage.setItem(THEME_KEY, document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark');
  applyTheme();
});
window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
applyTheme();

document.getElementById('logout').addEventListener('click', () => {
  clearToken();
  if (location.hash === '#/login') render();
  else location.hash = '#/login';
});
window.addEventListener('sluice:unauthorized', () => render());
window.addEventListener('hashchange', render);
render();
