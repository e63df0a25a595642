// Browser notifications on and off (Web Push, RFC 8030; the portal's VAPID key, RFC 8292): the
// subscription goes to POST /settings/push with the page's CSRF token, and is removed on "off".
const box = document.getElementById('push');
const status = document.getElementById('push-status');
const texts = document.getElementById('push-texts');

/** @param {string} key */
function say(key) {
  const node = texts instanceof HTMLTemplateElement ? texts.content.querySelector(`[data-key="${key}"]`) : null;
  if (status) status.textContent = node?.textContent ?? '';
}

/** @param {string} base64url @returns {Uint8Array} */
function bytes(base64url) {
  const padded = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/** @param {string} path @param {unknown} body */
async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': box?.dataset.csrf ?? '' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(String(response.status));
}

async function turnOn() {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) return say('unsupported');
  try {
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') return say('denied');
    const registration = await navigator.serviceWorker.register('/sw.js');
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: bytes(box?.dataset.vapidKey ?? ''),
    });
    await post('/settings/push', subscription.toJSON());
    say('on');
  } catch {
    say('failed');
  }
}

async function turnOff() {
  try {
    const registration = await navigator.serviceWorker?.getRegistration('/sw.js');
    const subscription = await registration?.pushManager.getSubscription();
    if (subscription) {
      await post('/settings/push/remove', { endpoint: subscription.endpoint });
      await subscription.unsubscribe();
    }
    say('off');
  } catch {
    say('failed');
  }
}

document.getElementById('push-on')?.addEventListener('click', () => void turnOn());
document.getElementById('push-off')?.addEventListener('click', () => void turnOff());
