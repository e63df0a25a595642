/* ПК ВОСХОД: the iframe method. Opens id.card.coop's consent page with widget.js
 * (window.CardCoop.open) and posts the ticket (or the error) back to this site's server,
 * which exchanges it. The values come from data- attributes: no inline script (CSP). */
(function () {
  'use strict';

  var box = document.getElementById('cardcoop-frame');
  var form = document.getElementById('cardcoop-complete');
  var status = document.getElementById('widget-status');
  if (!box || !form) {
    return;
  }
  var data = box.dataset;
  var sent = false;

  function complete(values) {
    if (sent) {
      return;
    }
    sent = true;
    form.elements.namedItem('ticket').value = values.ticket || '';
    form.elements.namedItem('error').value = values.error || '';
    // Why there is no ticket: 'refused' or 'not_a_member' (with error=access_denied).
    form.elements.namedItem('cardcoop_reason').value = values.reason || '';
    // The state the widget reports; the server checks it against this browser's session.
    form.elements.namedItem('state').value = values.state || data.state;
    form.submit();
  }

  function say(text) {
    if (status) {
      status.textContent = text;
      status.hidden = false;
    }
  }

  if (!window.CardCoop || typeof window.CardCoop.open !== 'function') {
    say('Не удалось загрузить виджет id.card.coop (widget.js). Could not load widget.js.');
    return;
  }

  var options = {
    clientId: data.clientId,
    scope: data.scope,
    state: data.state,
    codeChallenge: data.codeChallenge,
    container: '#cardcoop-frame',
    onTicket: function (result) {
      say('Получаем данные… Fetching the data…');
      complete({ ticket: result && result.ticket, state: result && result.state });
    },
    // 'access_denied' (reason 'refused' or 'not_a_member'), 'frame_refused' (the frame did
    // not open: this site's origin is not registered, or id.card.coop is unreachable), or
    // another OAuth error: the server shows the page for each.
    onError: function (result) {
      complete({ error: (result && result.error) || 'unknown_error',
                 reason: result && result.reason,
                 state: result && result.state });
    }
  };
  if (data.nonce) {
    options.nonce = data.nonce;
  }
  if (data.fields) {
    options.fields = data.fields;
  }
  window.CardCoop.open(options);
  if (status) {
    status.hidden = true;
  }
}());
