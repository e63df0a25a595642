// An idp page inside another page's frame: widget.js's consent frame on a cooperative's site
// (authorize.js), or the card view framed by card.coop's own app (embed.js). <html data-framed>
// hides idp's menu (app.css, "framed"); the page tells the embedding page, at its one validated
// origin only, that it has loaded ({type: 'cardcoop:ready'}) and how tall it is
// ({type: 'cardcoop:resize', height}, on every change), so that the frame grows with its content
// and never scrolls inside. `extra` rides on every message (the consent frame's `state`).

/**
 * @param {string} parentOrigin the exact origin the server validated, never "*"
 * @param {Record<string, unknown>} extra
 */
export function startFramed(parentOrigin, extra) {
  document.documentElement.dataset.framed = 'true';
  /** @param {Record<string, unknown>} message */
  const post = (message) => window.parent.postMessage({ ...message, ...extra }, parentOrigin);
  post({ type: 'cardcoop:ready' });
  let last = 0;
  const report = () => {
    // <html> is as tall as its content in the framed layout (app.css), margins included.
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height > 0 && height !== last) {
      last = height;
      post({ type: 'cardcoop:resize', height });
    }
  };
  if (typeof ResizeObserver === 'function') new ResizeObserver(report).observe(document.documentElement);
  report();
}
