// fetch wrapper for the idp JSON API (docs/api.md): JSON in and out, the Bearer token from the
// in-memory session, one automatic refresh when the access token has expired (by the refresh
// token, or by the browser's session cookie after a reload), and errors that
// carry the server's stable `error` code so views can react to it.
import * as state from './state.js';

const REFRESHABLE = new Set(['invalid_token', 'token_expired']);

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the network failed
   * @param {string} code the server's stable error code (or network_error / bad_response)
   * @param {string} message the server's text (English; views show their own translation)
   * @param {{details?: any, retryAfter?: number | null}} [extra]
   */
  constructor(status, code, message, extra = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = extra.details;
    this.retryAfter = extra.retryAfter ?? null;
  }
}

/** @type {Set<() => void>} */
const lostListeners = new Set();

/** @param {() => void} listener called when the session cannot be refreshed any more */
export function onSessionLost(listener) {
  lostListeners.add(listener);
}

/** @type {Promise<boolean> | null} */
let refreshing = null;

/**
 * @param {'GET' | 'POST' | 'PUT' | 'DELETE'} method
 * @param {string} path
 * @param {{body?: unknown, auth?: boolean, headers?: Record<string, string>}} [opts]
 * @returns {Promise<any>} the parsed JSON body (null for 204)
 */
export async function request(method, path, opts = {}) {
  const auth = opts.auth ?? true;
  const sentWith = auth ? state.accessToken() : null;
  if (auth && !sentWith) throw new ApiError(401, 'not_logged_in', 'not logged in');
  try {
    return await send(method, path, opts.body, sentWith, opts.headers);
  } catch (err) {
    if (!(err instanceof ApiError) || !auth || err.status !== 401 || !REFRESHABLE.has(err.code)) throw err;
    // Another call may already have rotated the pair while this one was in flight.
    const fresh = state.accessToken() !== sentWith || (await refreshOnce());
    const token = state.accessToken();
    if (!fresh || !token) throw err;
    return send(method, path, opts.body, token, opts.headers);
  }
}

export const get = (/** @type {string} */ path, opts = {}) => request('GET', path, opts);
export const post = (/** @type {string} */ path, /** @type {unknown} */ body, opts = {}) =>
  request('POST', path, { ...opts, body });
export const put = (/** @type {string} */ path, /** @type {unknown} */ body, opts = {}) =>
  request('PUT', path, { ...opts, body });
export const del = (/** @type {string} */ path, opts = {}) => request('DELETE', path, opts);

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} body
 * @param {string | null} token
 * @param {Record<string, string>} [extra] more request headers (never Authorization)
 */
async function send(method, path, body, token, extra = {}) {
  /** @type {Record<string, string>} */
  const headers = { ...extra, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // The API is token-based; the one cookie, idp's HttpOnly session cookie, is read only by
      // POST /auth/session, /auth/logout and the authorization endpoint (auth/cookie.py), and
      // login must be able to set it.
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error', // never re-send a hashKey or a token somewhere else
    });
  } catch {
    throw new ApiError(0, 'network_error', 'the server cannot be reached');
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    if (response.ok) throw new ApiError(response.status, 'bad_response', 'the answer is not JSON');
  }
  if (response.ok) return data;
  const retry = Number(response.headers.get('Retry-After'));
  throw new ApiError(
    response.status,
    typeof data?.error === 'string' ? data.error : `http_${response.status}`,
    typeof data?.message === 'string' ? data.message : response.statusText,
    { details: data?.details, retryAfter: Number.isFinite(retry) && retry > 0 ? retry : data?.retry_after ?? null },
  );
}

/** One refresh at a time: parallel 401s wait for the same rotation (the token is single-use). */
function refreshOnce() {
  refreshing ??= refresh().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function refresh() {
  const token = state.refreshToken();
  try {
    // After a reload there is no refresh token in memory: the browser's session cookie is
    // asked for the next access token instead.
    state.setTokens(token
      ? await send('POST', '/auth/refresh-token', { refreshToken: token }, null)
      : { accessToken: (await send('POST', '/auth/session', undefined, null)).accessToken });
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 0) return false; // offline: keep the session
    state.clearSession();
    for (const listener of lostListeners) listener();
    return false;
  }
}
