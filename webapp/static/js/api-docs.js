// Starts Swagger UI on /docs. Kept out of the page because the CSP forbids inline script.
/* global SwaggerUIBundle */
const root = document.getElementById("swagger-ui");

window.ui = SwaggerUIBundle({
  url: root.dataset.specUrl,
  domNode: root,
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  // Never ask the public validator service about this server's API.
  validatorUrl: null,
  withCredentials: true,
  tryItOutEnabled: false,
  defaultModelsExpandDepth: 0,
});
