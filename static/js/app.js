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

// 3. "Select all" ticks or clears every order checkbox of its form on the
//    page (data-select-all names the form), and shows "some" as mixed.
document.addEventListener("change", function (evt) {
  var el = evt.target;
  var formID = el.getAttribute("data-select-all");
  if (formID) {
    document.querySelectorAll('input[type="checkbox"][form="' + formID + '"]').forEach(function (box) {
      box.checked = el.checked;
    });
    return;
  }
  var all = el.form && document.querySelector('[data-select-all="' + el.form.id + '"]');
  if (all && el.type === "checkbox") {
    var boxes = document.querySelectorAll('input[type="checkbox"][form="' + el.form.id + '"]');
    var ticked = Array.prototype.filter.call(boxes, function (box) { return box.checked; }).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
});
