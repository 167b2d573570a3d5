// What every page shares: a titled section, loading and error states, and polling that stops
// when the user leaves the page.
import {h, fill} from './dom.js';

/** A page section: h1 title plus the body nodes. */
export function section(title, ...body) {
  return h('section', {class: 'page'}, h('h1', null, title), ...body);
}

export function errorBox(error) {
  return h('div', {class: 'error', role: 'alert'}, error?.message || String(error));
}

/** Renders `build()` (async, returns nodes) into `view`; an error shows as an error box. */
export async function load(view, title, build) {
  fill(view, section(title, h('p', {class: 'notice'}, 'Loading…')));
  try {
    const nodes = await build();
    fill(view, section(title, nodes));
  } catch (error) {
    fill(view, section(title, errorBox(error)));
  }
}

/** Calls `step()` now and then every `ms` until it returns false or stop() is called; never overlapping. */
export function poll(step, ms) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (stopped) return;
    let again = true;
    try {
      again = (await step()) !== false;
    } catch {
      again = true;  // a failed poll (server busy) is tried again; the page shows the error itself
    }
    if (!stopped && again) timer = setTimeout(tick, ms);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** A labelled figure: a small box with a label over a value. */
export function figure(label, value, attrs = {}) {
  return h('div', {class: 'figure', ...attrs}, h('div', {class: 'label'}, label), h('div', {class: 'value'}, value));
}
