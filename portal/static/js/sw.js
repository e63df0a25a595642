// The portal's service worker (issue #12): shows a Web Push message (decrypted by the browser,
// RFC 8291) and opens the portal page it names when clicked. It caches nothing.
self.addEventListener('push', (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = {};
  }
  const title = typeof message.title === 'string' && message.title ? message.title : 'card.coop';
  event.waitUntil(self.registration.showNotification(title, {
    body: typeof message.body === 'string' ? message.body : '',
    data: { url: typeof message.url === 'string' && message.url.startsWith('/') ? message.url : '/notifications' },
    tag: typeof message.kind === 'string' ? message.kind : 'card.coop',
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow(event.notification.data?.url ?? '/notifications'));
});
