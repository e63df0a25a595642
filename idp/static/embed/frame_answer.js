// Single sign-on in the iframe method (idp/oauth/sso.py): idp answered at once, without the
// member's page. The answer goes to the exact origin the server validated for this client,
// never "*", and this page listens to no messages.
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.parent === window) return;
  window.parent.postMessage(JSON.parse(script.getAttribute('data-message')), script.getAttribute('data-origin'));
}());
