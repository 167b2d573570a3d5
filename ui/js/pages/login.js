// The login gate: asks for the API token and checks it before anything about the project is shown.
import {h, fill} from '../dom.js';
import {api, setToken} from '../api.js';

export function loginPage(view, next) {
  const input = h('input', {type: 'password', id: 'token', name: 'token', autocomplete: 'off', required: true,
    placeholder: 'API token', 'aria-label': 'API token'});
  const message = h('p', {id: 'login-error', class: 'error', hidden: true});
  const form = h('form', {id: 'login-form', class: 'login'},
    h('h1', null, 'Sign in to sluice'),
    h('p', {class: 'muted'}, 'Enter the API token: server.token of sluice.yaml, or the contents of ',
      h('code', null, '.sluice/api_token'), ' that sluice serve generated. It is kept for this tab only.'),
    input, message,
    h('button', {type: 'submit', class: 'primary', id: 'login-button'}, 'Sign in'));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    message.hidden = true;
    try {
      await api('/pipelines', {tokenOverride: value});  // checks the token
    } catch (error) {
      message.textContent = error.status === 401 ? 'That token is not accepted by this server.' : error.message;
      message.hidden = false;
      return;
    }
    setToken(value);
    const target = `#${next.startsWith('/') && next !== '/login' ? next : '/pipelines'}`;
    if (location.hash === target) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = target;
  });
  fill(view, form);
  input.focus();
}
