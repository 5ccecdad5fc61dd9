// Cancel Desk's only script beside htmx: sends the CSRF token with every
// htmx request, from the page's <meta name="csrf-token">.
document.addEventListener("htmx:configRequest", function (evt) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    evt.detail.headers["X-CSRF-Token"] = meta.content;
  }
});
