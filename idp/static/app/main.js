// The member app of id.card.coop: one document, views switched by the URL hash, so that the
// keys held in memory (state.js) survive navigation and vanish on logout or reload. A reload
// keeps the member signed in (the idp session cookie) but locked: the screens that need the
// keys ask for the password alone first (views/locked.js).
import * as api from './api.js';
import * as state from './state.js';
import * as authorize from './authorize.js';
import * as embed from './embed.js';
import { h, replace } from './dom.js';
import { T, getLang, setLang, t, LANGS, onLangChange } from './i18n.js';
import { alertBox, errorText, focusHeading } from './ui.js';
import loginView from './views/login.js';
import registerView from './views/register.js';
import forgotView from './views/forgot.js';
import cardView from './views/card.js';
import cardNewView from './views/card_new.js';
import cardEditView from './views/card_edit.js';
import accountsView from './views/accounts.js';
import securityView from './views/security.js';
import consentView from './views/consent.js';
import { authorizedView } from './views/answer.js';
import accessView from './views/access.js';
import lockedView from './views/locked.js';

/**
 * @typedef {{go: (route: string) => void, flash: (text: {i18n: () => string}, kind?: string) => void,
 *            logout: (text?: {i18n: () => string}) => Promise<void>}} Ctx
 * @typedef {{view: (ctx: Ctx) => HTMLElement | Promise<HTMLElement>, auth: boolean, any?: boolean, title: string,
 *            keys?: () => boolean}} Route
 * `keys`: whether the view needs the member's keys (default: every signed-in view does).
 */

/** @type {Record<string, Route>} */
const ROUTES = {
  login: { view: loginView, auth: false, title: 'login.title' },
  register: { view: registerView, auth: false, title: 'register.title' },
  forgot: { view: forgotView, auth: false, title: 'forgot.title' },
  card: { view: cardView, auth: true, title: 'card.title' },
  'card/new': { view: cardNewView, auth: true, title: 'card_new.title' },
  'card/edit': { view: cardEditView, auth: true, title: 'card_edit.title' },
  accounts: { view: accountsView, auth: true, title: 'accounts.title' },
  security: { view: securityView, auth: true, title: 'security.title' },
  access: { view: accessView, auth: true, title: 'access.title' },
  // Signing in to a cooperative needs no keys; sharing, joining or a fresh password does.
  consent: { view: consentView, auth: true, title: 'consent.title', keys: () => authorize.needsKeys() },
  // The answer to an authorization request went back: shown logged in or not (a refusal needs no login).
  authorized: { view: authorizedView, auth: false, any: true, title: 'authorized.title' },
};
const NAV = [['card', 'nav.card'], ['accounts', 'nav.accounts'], ['access', 'nav.access'], ['security', 'nav.security']];

/** The navigation: while a cooperative's request waits, its consent screen comes first. */
function nav() {
  return authorize.pending() ? [['consent', 'nav.consent'], ...NAV] : NAV;
}

const app = /** @type {HTMLElement} */ (document.getElementById('app'));
const bar = /** @type {HTMLElement} */ (document.getElementById('app-bar'));
/** @type {Array<{text: {i18n: () => string}, kind: string}>} */
let flashes = [];
let renderId = 0;
let firstRender = true;

/** @type {Ctx} */
const ctx = {
  go(route) {
    const hash = `#/${route}`;
    if (location.hash === hash) void render();
    else location.hash = hash;
  },
  flash(text, kind = 'success') {
    flashes.push({ text, kind });
  },
  async logout(text) {
    const refreshToken = state.refreshToken();
    if (state.accessToken()) {
      try {
        // Ends the idp session and clears its cookie, so a reload does not sign back in.
        await api.post('/auth/logout', refreshToken ? { refreshToken } : {});
      } catch {
        // The session is forgotten here either way; an unreachable server cannot keep it open.
      }
    }
    state.clearSession();
    flashes.push({ text: text ?? T('logout.done'), kind: 'success' });
    ctx.go('login');
  },
};

// A card opened from a cooperative (issue #11): /source/oauth/callback/{coop}/ sends the
// browser to #/enter/<token>. The one-time token waits in this tab's sessionStorage (out of
// the address bar at once) until the member is signed in and has a card; then
// POST /card/entries/<token> links the card and the cooperative is told.
const ENTRY_KEY = 'cardcoop.entry';

/** sessionStorage, or nothing where the browser refuses it (a third-party frame, say). */
function entryStore() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

function takeEntryToken() {
  const found = location.hash.match(/^#\/enter\/([A-Za-z0-9_-]{20,100})$/);
  if (!found) return;
  entryStore()?.setItem(ENTRY_KEY, found[1]);
  history.replaceState(null, '', `${location.pathname}${location.search}#/`);
}

async function linkEntry() {
  const store = entryStore();
  const token = store?.getItem(ENTRY_KEY);
  if (!store || !token || !state.isLoggedIn()) return;
  try {
    const linked = await api.post(`/card/entries/${encodeURIComponent(token)}`, {});
    store.removeItem(ENTRY_KEY);
    flashes.push({ text: T('entry.linked', { coop: linked.coop || linked.coopname }), kind: 'success' });
  } catch (err) {
    if (err instanceof api.ApiError && err.code === 'no_card') return; // once the card is opened
    store.removeItem(ENTRY_KEY);
    flashes.push({ text: err instanceof api.ApiError && err.status === 404 ? T('entry.expired') : errorText(err), kind: 'error' });
  }
}

function currentRoute() {
  return location.hash.replace(/^#\/?/, '').replace(/\/+$/, '');
}

async function render() {
  const id = ++renderId;
  let name = currentRoute();
  if (!name) name = state.isLoggedIn() ? authorize.home() : 'login';
  if (!embed.allows(name)) return ctx.go(state.isLoggedIn() ? 'card' : 'login');
  const route = ROUTES[name];
  if (!route) return ctx.go(state.isLoggedIn() ? authorize.home() : 'login');
  if (route.auth && !state.isLoggedIn()) return ctx.go('login');
  if (!route.auth && !route.any && state.isLoggedIn()) return ctx.go(authorize.home());
  await linkEntry();
  if (id !== renderId) return;
  const locked = route.auth && !state.isUnlocked() && (route.keys ? route.keys() : true);
  renderBar(name);
  document.title = `${t(locked ? 'locked.title' : route.title)} — id.card.coop`;
  app.setAttribute('aria-busy', 'true');
  const shown = flashes;
  flashes = [];
  let content;
  try {
    content = locked ? lockedView(ctx, () => void render()) : await route.view(ctx);
  } catch (err) {
    console.error(err);
    const box = alertBox();
    box.show(T('err.unexpected'));
    content = h('section', { class: 'view' }, h('h1', { class: 'view-title', tabindex: '-1', text: T(route.title) }), box.box);
  }
  if (id !== renderId) return; // a newer navigation won
  const notes = shown.map(({ text, kind }) => h('div', { class: ['alert', `alert-${kind}`], role: 'status', text }));
  if (notes.length) content.querySelector('h1')?.after(...notes);
  replace(app, content);
  app.setAttribute('aria-busy', 'false');
  if (firstRender) firstRender = false;
  else focusHeading(app);
}

/** @param {string} active */
function renderBar(active) {
  const langs = h('div', { class: 'lang', role: 'group', 'aria-label': T('lang.label') },
    LANGS.map((code) => h('button', {
      type: 'button',
      class: 'lang-btn',
      lang: code,
      'aria-pressed': String(getLang() === code),
      text: code === 'ru' ? 'Русский' : 'English',
      onClick: () => setLang(code),
    })));
  if (!state.isLoggedIn()) {
    replace(bar, h('div', { class: 'bar-spacer' }), langs);
    return;
  }
  const links = nav().map(([route, label]) => h('li', {}, h('a', {
    href: `#/${route}`,
    text: T(label),
    'aria-current': active === route || active.startsWith(`${route}/`) ? 'page' : undefined,
  })));
  replace(bar,
    h('nav', { class: 'app-nav', 'aria-label': T('nav.label') }, h('ul', {}, links)),
    h('div', { class: 'bar-end' },
      h('span', { class: 'who', text: state.email() ?? '' }),
      h('button', { type: 'button', class: 'btn btn-small', id: 'logout', text: T('nav.logout'), onClick: () => ctx.logout() }),
      langs));
}

onLangChange(() => {
  for (const btn of bar.querySelectorAll('.lang-btn')) {
    btn.setAttribute('aria-pressed', String(btn.getAttribute('lang') === getLang()));
  }
  const route = ROUTES[currentRoute()];
  if (route) document.title = `${t(route.title)} — id.card.coop`;
});

api.onSessionLost(() => {
  flashes.push({ text: T('session.lost'), kind: 'error' });
  ctx.go('login');
});

/** After a reload: is this browser still signed in? Then the page starts locked. */
async function resumeSession() {
  if (authorize.forcesLogin()) return; // prompt=login: the cooperative asks for a new login
  try {
    const session = await api.post('/auth/session', undefined, { auth: false });
    state.startLockedSession(session);
  } catch {
    // Not signed in (or the server is unreachable): the login screen.
  }
}

document.documentElement.lang = getLang();
takeEntryToken();
window.addEventListener('hashchange', () => void render());
void resumeSession().then(render);
