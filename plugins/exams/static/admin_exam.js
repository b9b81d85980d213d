// Placeholder until this page is built: points the examiner at the API, which already does it.

import { setStatus } from "../accounts/ui.js";

setStatus(
  document.getElementById("page-status"),
  "This page is not built yet. Use the API documentation (/docs) for this task meanwhile.",
  "info",
);
