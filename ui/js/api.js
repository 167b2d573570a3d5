// The REST API of sluice serve (docs/api.md), called with the token the user entered. The token
// lives in this tab's sessionStorage only and goes out as a bearer header: no cookie, so another
// site cannot make the browser send it.

const TOKEN_KEY = 'sluice.token';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

/** Forgets the token and whatever else this tab kept (the query console's last SQL). */
export function clearToken() {
  sessionStorage.clear();
}

/** Calls the API; resolves to the parsed JSON answer, or rejects with an ApiError naming what failed. */
export async function api(path, {method = 'GET', body, tokenOverride} = {}) {
  const headers = {Authorization: `Bearer ${tokenOverride ?? token()}`};
  const options = {method, headers, credentials: 'omit', cache: 'no-store'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, options);
  } catch (error) {
    throw new ApiError(0, `cannot reach sluice serve (${error.message}); is it still running?`);
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    throw new ApiError(response.status, `the server answered ${response.status} without JSON`);
  }
  if (!response.ok) {
    const error = new ApiError(response.status, answer?.error || `the server answered ${response.status}`);
    if (response.status === 401 && tokenOverride === undefined) {
      clearToken();
      window.dispatchEvent(new CustomEvent('sluice:unauthorized'));
    }
    throw error;
  }
  return answer;
}

/** Encodes one part of a route or API path. */
export const part = encodeURIComponent;
