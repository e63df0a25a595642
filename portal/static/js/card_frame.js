// idp's card view in the dashboard's frame (GET /frame/card on id.card.coop, issue #12): the
// frame says how tall its content is ({type: 'cardcoop:resize', height}), and the frame grows to
// it, so nothing scrolls inside on a phone. Messages from anywhere but idp's origin are ignored;
// nothing else is read from them (the personal data never leaves idp's frame).
const frame = /** @type {HTMLIFrameElement | null} */ (document.getElementById('card-frame'));
const idpOrigin = frame?.dataset.idpOrigin ?? '';

window.addEventListener('message', (event) => {
  if (!frame || event.origin !== idpOrigin || event.source !== frame.contentWindow) return;
  const message = event.data;
  if (message && message.type === 'cardcoop:resize' && Number.isFinite(message.height)) {
    frame.style.height = `${Math.min(Math.max(Math.round(message.height), 120), 4000)}px`;
  }
});
