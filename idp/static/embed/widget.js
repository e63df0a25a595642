/*!
 * card.coop embed script: the iframe way for a cooperative's page to ask a member for access
 * (DESIGN.md §2 "iframe method"). A classic script, no dependencies, no globals but CardCoop.
 *
 *   <script src="https://id.card.coop/widget.js"></script>
 *   <div id="cardcoop"></div>
 *   <script src="/my-page.js"></script>            (your own file: the idp's pages keep a strict CSP)
 *
 *   // my-page.js: state and the PKCE challenge come from YOUR server, which keeps the
 *   // code_verifier and exchanges the ticket (POST /access/exchange-ticket or /oauth/token).
 *   const frame = CardCoop.open({
 *     clientId: 'voskhod',                 // your coopname
 *     scope: 'openid share',               // openid email cardcoop:card cardcoop:memberships share account
 *     state: stateFromServer,              // required: the answer is matched on it
 *     codeChallenge: challengeFromServer,  // base64url(SHA-256(code_verifier)), method S256
 *     nonce: nonceFromServer,              // optional (goes into the id_token)
 *     fields: ['last_name', 'first_name'], // optional: the card fields you ask for with `share`
 *     container: '#cardcoop',              // an element or a selector
 *     onTicket({ ticket, state }) { ... send the ticket to your server ... },
 *     onError({ error, reason, state }) { ... see below ... },
 *     maxHeight: 2000,                     // optional: the frame's tallest height in px
 *   });
 *   frame.close();                         // removes the iframe (and stops listening)
 *
 * onError gets `error`:
 * - 'access_denied' with `reason` 'refused' (the member said no) or 'not_a_member' (the member
 *   is not a member of your cooperative yet: offer joining, scope `account`);
 * - 'frame_refused': idp did not open in the frame (this page's origin is not registered for
 *   the client, an unknown client or a malformed request, or idp could not be reached), so the
 *   frame is empty: show your own message or fall back to the redirect method;
 * - another OAuth error code when idp reports one.
 *
 * The frame is as tall as its content: the consent page reports its height and the frame
 * follows it (between 120 px and maxHeight), so it never scrolls inside. Its width is the
 * container's (100%); the page fits from 320 px on. Style it with the class `cardcoop-frame`.
 *
 * The idp origin is the origin this script was loaded from. The iframe opens
 * `<idp>/oauth/authorize?response_type=code&client_id&scope&state&code_challenge
 * &code_challenge_method=S256&origin=<this page's origin>[&nonce][&fields]` (no redirect_uri: that
 * is what selects the iframe mode). This page's origin must be registered for the cooperative
 * (`flask --app wsgi:idp clients create ... --iframe-origin`), or idp refuses to be framed.
 * The answer comes back by postMessage; a message counts only if it comes from the idp origin,
 * from this very iframe, and carries the state given here. The member logs in inside the iframe; nothing depends on third-party cookies.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  if (!script || !script.src) {
    throw new Error('card.coop widget.js must be loaded with <script src> (not as a module, not inlined)');
  }
  var IDP_ORIGIN = new URL(script.src).origin;
  var MIN_HEIGHT = 120;
  var DEFAULT_MAX_HEIGHT = 4000;
  // After the frame's load event, how long its page has to say it is there (cardcoop:ready).
  // The page posts it while loading, before that event, so this only absorbs scheduling.
  var READY_GRACE_MS = 1500;

  function requireString(opts, name) {
    var value = opts[name];
    if (typeof value !== 'string' || !value) throw new TypeError('CardCoop.open: ' + name + ' is required');
    return value;
  }

  function resolveContainer(container) {
    var el = typeof container === 'string' ? document.querySelector(container) : container;
    if (!el || typeof el.appendChild !== 'function') throw new TypeError('CardCoop.open: container not found');
    return el;
  }

  function authorizeUrl(opts) {
    var url = new URL('/oauth/authorize', IDP_ORIGIN);
    var q = url.searchParams;
    q.set('response_type', 'code');
    q.set('client_id', requireString(opts, 'clientId'));
    q.set('scope', requireString(opts, 'scope'));
    q.set('state', requireString(opts, 'state'));
    q.set('code_challenge', requireString(opts, 'codeChallenge'));
    q.set('code_challenge_method', 'S256');
    q.set('origin', window.location.origin);
    if (opts.nonce) q.set('nonce', String(opts.nonce));
    if (opts.fields) q.set('fields', Array.isArray(opts.fields) ? opts.fields.join(' ') : String(opts.fields));
    return url.href;
  }

  function open(opts) {
    if (!opts || typeof opts !== 'object') throw new TypeError('CardCoop.open: options required');
    if (typeof opts.onTicket !== 'function') throw new TypeError('CardCoop.open: onTicket is required');
    var src = authorizeUrl(opts);
    var state = opts.state;
    var onError = typeof opts.onError === 'function' ? opts.onError : function () {};
    var host = resolveContainer(opts.container);
    var maxHeight = typeof opts.maxHeight === 'number' && opts.maxHeight >= MIN_HEIGHT
      ? opts.maxHeight : DEFAULT_MAX_HEIGHT;

    var iframe = document.createElement('iframe');
    iframe.src = src;
    iframe.title = opts.title || 'card.coop';
    iframe.className = 'cardcoop-frame';
    iframe.width = '100%';
    iframe.height = '640';
    // The frame is the idp's own origin: it needs scripts and that origin (its API, WebCrypto in a
    // secure context) and forms (the login form's submit event). No popups, no top navigation.
    iframe.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms');
    iframe.setAttribute('referrerpolicy', 'origin');
    iframe.style.border = '0';
    iframe.style.display = 'block';
    iframe.style.width = '100%';

    var done = false;
    var ready = false;
    var readyTimer = null;
    function onMessage(event) {
      if (done || event.origin !== IDP_ORIGIN || event.source !== iframe.contentWindow) return;
      var data = event.data;
      if (!data || typeof data !== 'object' || data.state !== state) return;
      if (data.type === 'cardcoop:ready') {
        ready = true;
      } else if (data.type === 'cardcoop:resize') {
        var height = data.height;
        if (typeof height === 'number' && isFinite(height)) {
          iframe.style.height = Math.round(Math.min(Math.max(height, MIN_HEIGHT), maxHeight)) + 'px';
        }
      } else if (data.type === 'cardcoop:ticket' && typeof data.ticket === 'string') {
        finish();
        opts.onTicket({ ticket: data.ticket, state: data.state });
      } else if (data.type === 'cardcoop:error' && typeof data.error === 'string') {
        finish();
        var result = { error: data.error, state: data.state };
        if (typeof data.reason === 'string') result.reason = data.reason;
        onError(result);
      }
    }
    // A refused frame (CSP frame-ancestors) still fires `load`, with nothing of idp in it.
    function onLoad() {
      if (done || ready) return;
      clearTimeout(readyTimer);
      readyTimer = setTimeout(function () {
        if (done || ready) return;
        finish();
        onError({ error: 'frame_refused', state: state });
      }, READY_GRACE_MS);
    }
    function finish() {
      done = true;
      clearTimeout(readyTimer);
      window.removeEventListener('message', onMessage);
      iframe.removeEventListener('load', onLoad);
    }

    window.addEventListener('message', onMessage);
    iframe.addEventListener('load', onLoad);
    host.appendChild(iframe);
    return {
      iframe: iframe,
      close: function () {
        finish();
        if (iframe.parentNode) iframe.parentNode.removeChild(iframe);
      },
    };
  }

  window.CardCoop = Object.freeze({ open: open, idpOrigin: IDP_ORIGIN, version: 1 });
})();
