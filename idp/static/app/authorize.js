// A cooperative's authorization request (OAuth 2.0 authorization code + PKCE, RFC 6749 §4.1,
// RFC 7636) held by this page: GET /oauth/authorize (alias /application/o/authorize/) serves the
// app shell with the request in the query, and the server has already checked the client and its
// redirect_uri / iframe origin. The request lives in this module's memory; after login (or
// registration and issuing the card) the app goes to the consent view instead of the card.
//
// The answer goes back in one of two ways (DESIGN.md §2):
// - redirect mode: location.assign(redirect_to), the redirect_uri with code/error, state and iss;
// - iframe mode (no redirect_uri, `origin` given): window.parent.postMessage to the exact origin
//   the server validated, never "*". The page listens to no `message` events at all, so nothing
//   another window posts to it is ever acted on.
//
// Framed (the iframe mode inside widget.js's frame): <html data-framed> hides idp's menu
// (app.css, "framed"), and the page tells the embedding page, at that same origin only, that it
// has loaded ({type: 'cardcoop:ready', state}: without it widget.js reports `frame_refused`) and
// how tall it is ({type: 'cardcoop:resize', height, state}, on every change), so that the frame
// grows with its content and never scrolls inside.
import * as api from './api.js';
import { startFramed } from './frame.js';

const AUTHORIZE_PATHS = new Set(['/oauth/authorize', '/application/o/authorize']);
// The parameters the /access/* bodies take (docs/api.md); others in the query (ui_locales,
// login_hint, ...) are ignored, as RFC 6749 §3.1 asks of unrecognized request parameters.
const PARAMS = new Set(['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge',
  'code_challenge_method', 'nonce', 'fields', 'origin', 'prompt', 'max_age']);
// The sign-in scopes (idp/oauth/sso.py): consenting to them needs no keys.
// cardcoop:member is the member's API for card.coop's own apps (idp/oauth/first_party.py).
const SIGN_IN_SCOPES = new Set(['openid', 'profile', 'email', 'cardcoop:card', 'cardcoop:memberships',
  'cardcoop:member']);
const SAFE_SCHEMES = new Set(['http:', 'https:']);

/** @typedef {Readonly<Record<string, string>>} AuthRequest */
/** @typedef {'refused' | 'not_a_member'} RefusalReason */
/**
 * @typedef {{kind: 'shared' | 'denied', mode: 'redirect' | 'iframe', redirectTo: string | null,
 *            delivered: boolean, reason?: RefusalReason}} Outcome
 */

/** @returns {AuthRequest | null} the request's parameters from the query, the first value of each */
function readRequest() {
  const path = location.pathname.replace(/\/+$/, '');
  if (!AUTHORIZE_PATHS.has(path)) return null;
  /** @type {Record<string, string>} */
  const params = {};
  for (const [key, value] of new URLSearchParams(location.search)) {
    if (PARAMS.has(key) && !(key in params)) params[key] = value;
  }
  return params.client_id ? Object.freeze(params) : null;
}

const request = readRequest();
/** @type {Outcome | null} */
let outcome = null;
// The embedding page's origin when this page is widget.js's frame. The server served the page
// (and let it be framed, CSP frame-ancestors) only after checking this origin against the
// client's registered ones; a refused origin never gets here.
const frameOrigin = request && !request.redirect_uri && window.parent !== window
  ? originOf(request.origin) : null;

/** Whether this page is the iframe method's frame. */
export function framed() {
  return frameOrigin !== null;
}

if (frameOrigin) startFramed(frameOrigin, { state: request?.state ?? null });

/** The authorization request still waiting for the member's answer, or null. */
export function pending() {
  return outcome ? null : request;
}

/** How the request ended in this page (after share or refusal), or null. */
export function finished() {
  return outcome;
}

/** Where the member goes after logging in, registering or issuing the card. */
export function home() {
  return pending() ? 'consent' : 'card';
}

/** @returns {Set<string>} the request's OpenID Connect prompt values */
function prompts() {
  return new Set((pending()?.prompt ?? '').split(' ').filter(Boolean));
}

/** prompt=login / select_account: the cooperative wants the member to log in anew. */
export function forcesLogin() {
  const wanted = prompts();
  return wanted.has('login') || wanted.has('select_account');
}

/**
 * Whether answering the waiting request needs the member's keys: sharing data or joining
 * (the share is encrypted here), or a fresh password proof (max_age, prompt=login).
 */
export function needsKeys() {
  const req = pending();
  if (!req) return true;
  const scopes = (req.scope ?? '').split(' ').filter(Boolean);
  return req.max_age !== undefined || forcesLogin() || !scopes.every((scope) => SIGN_IN_SCOPES.has(scope));
}

/** Whether the request comes from card.coop's own app (portal, business): the server marks the
 * page so; such an app needs no consent, only a signed-in member with a card. */
export function firstParty() {
  return Boolean(pending()) && document.getElementById('app')?.dataset.firstParty === 'true';
}

/**
 * Ask the authorization endpoint again now that the member is signed in: for a first-party app
 * it answers at once. prompt and max_age are dropped: the login just made satisfied them.
 */
export function continueFirstParty() {
  const url = new URL(location.href);
  url.searchParams.delete('prompt');
  url.searchParams.delete('max_age');
  url.hash = '';
  location.replace(url.toString());
}

/** The requesting cooperative's name (ВОСХОД), put in the page by the server; null if unknown. */
export function coopName() {
  return pending() ? document.getElementById('app')?.dataset.coopName ?? null : null;
}

/** The mode the request itself asks for: iframe when it names no redirect_uri. */
export function requestMode() {
  return request?.redirect_uri ? 'redirect' : 'iframe';
}

/**
 * The body of /access/prepare-share-data and /access/share-data: the request's parameters as
 * strings, and coopname = client_id (a `coopname` in the query cannot override it).
 * @param {Record<string, unknown>} [extra]
 */
export function requestBody(extra = {}) {
  const req = /** @type {AuthRequest} */ (request);
  return { ...req, coopname: req.client_id, ...extra };
}

/**
 * POST /access/deny (no login needed), then send the refusal back to the cooperative, with why:
 * the member refused, or is not a member of the cooperative yet (docs/api.md).
 * @param {RefusalReason} [reason]
 */
export async function deny(reason = 'refused') {
  if (!pending()) throw new Error('no pending authorization request');
  const answer = await api.post('/access/deny', requestBody({ reason }), { auth: false });
  const result = deliver('denied', answer,
    (state) => ({ type: 'cardcoop:error', error: 'access_denied', reason, state }));
  result.reason = reason;
  return result;
}

/**
 * After POST /access/share-data: send the ticket back to the cooperative.
 * @param {any} answer {ticket, state, mode, redirect_to, origin}
 */
export function shared(answer) {
  if (typeof answer?.ticket !== 'string' || !answer.ticket) throw new Error('the answer has no ticket');
  return deliver('shared', answer, (state) => ({ type: 'cardcoop:ticket', ticket: answer.ticket, state }));
}

/**
 * @param {'shared' | 'denied'} kind
 * @param {any} answer the server's {state, mode, redirect_to, origin}
 * @param {(state: string | null) => Record<string, unknown>} message the postMessage payload
 * @returns {Outcome}
 */
function deliver(kind, answer, message) {
  const req = /** @type {AuthRequest} */ (request);
  const state = typeof answer?.state === 'string' ? answer.state : req.state ?? null;
  if (answer?.mode !== requestMode()) throw new Error('the server answered for another mode');
  if (answer.mode === 'redirect') {
    const target = safeUrl(answer.redirect_to);
    outcome = { kind, mode: 'redirect', redirectTo: target, delivered: true };
    location.assign(target);
    return outcome;
  }
  const origin = exactOrigin(answer.origin);
  // The server validated it against the client's registered origins; it must also be the one
  // this page was opened for.
  if (origin !== originOf(req.origin)) throw new Error('the server answered for another origin');
  const framed = window.parent !== window;
  if (framed) window.parent.postMessage(message(state), origin);
  outcome = { kind, mode: 'iframe', redirectTo: null, delivered: framed };
  return outcome;
}

/** @param {unknown} value an absolute http(s) URL */
function safeUrl(value) {
  if (typeof value !== 'string') throw new Error('redirect_to missing');
  const url = new URL(value);
  if (!SAFE_SCHEMES.has(url.protocol)) throw new Error('redirect_to must be http(s)');
  return url.href;
}

/** @param {string | undefined} value */
function originOf(value) {
  try {
    return new URL(value ?? '').origin;
  } catch {
    return null;
  }
}

/** @param {unknown} value a serialized origin (scheme://host[:port]), nothing more */
function exactOrigin(value) {
  if (typeof value !== 'string' || !value) throw new Error('origin missing');
  const url = new URL(value);
  if (!SAFE_SCHEMES.has(url.protocol) || url.origin !== value) throw new Error('not an origin');
  return value;
}
