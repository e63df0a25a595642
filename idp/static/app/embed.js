// The card view framed by card.coop's own app (the portal, issue #12): GET /frame/card serves the
// app shell marked <div id="app" data-embed="card" data-embed-parent="<origin>">, framable only
// by the first-party apps' registered origins (CSP frame-ancestors), the parent origin checked
// against them by the server. The personal data is decrypted here, in idp's page, after the
// member unlocks the keys: the embedding app never sees it. Only the card's views are reachable.
import { startFramed } from './frame.js';

const root = document.getElementById('app');
const parentOrigin = root?.dataset.embedParent ?? null;
const EMBED_ROUTES = new Set(['login', 'card', 'card/new', 'card/edit']);

/** Whether this page is the card view framed by card.coop's own app. */
export const embedded = root?.dataset.embed === 'card';

/** @param {string} route @returns {boolean} whether the route may be shown here */
export function allows(route) {
  return !embedded || EMBED_ROUTES.has(route);
}

if (embedded) {
  // app.css: no language switch (the embedding app chose the language) and no links to views
  // this frame does not show.
  document.documentElement.dataset.embed = 'card';
  document.documentElement.dataset.framed = 'true';
  if (parentOrigin && window.parent !== window) startFramed(parentOrigin, { view: 'card' });
}
