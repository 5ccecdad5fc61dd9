// Cancel Desk's only script beside htmx.
document.documentElement.classList.add("js");
// 1. Sends the CSRF token with every htmx request, from <meta name="csrf-token">.
document.addEventListener("htmx:configRequest", function (evt) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    evt.detail.headers["X-CSRF-Token"] = meta.content;
  }
});

// 2. Opens a <dialog> as a modal once htmx has loaded its content, and
//    closes it from its "keep" link; Escape closes it natively.
document.addEventListener("htmx:afterSwap", function (evt) {
  var target = evt.detail.target;
  if (target && target.tagName === "DIALOG" && !target.open) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) { d.open = false; });
    target.showModal();
  }
});
document.addEventListener("click", function (evt) {
  var link = evt.target.closest("[data-close-dialog]");
  var dialog = link && link.closest("dialog");
  if (dialog) {
    evt.preventDefault();
    dialog.close();
  }
});
