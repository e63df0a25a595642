// Starts Swagger UI on /docs. An external file because the CSP allows no inline script.
const root = document.getElementById("swagger-ui");
window.SwaggerUIBundle({ url: root.dataset.spec, domNode: root, deepLinking: true });
