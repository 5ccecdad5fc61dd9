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
//    closes it from its "keep" link; Escape closes it natively. While it
//    is open, Tab and Shift+Tab go round inside it; once closed, focus
//    returns to what opened it (or, when that was in a menu now folded,
//    to the menu's button).
var dialogOpener = new WeakMap();
document.addEventListener("htmx:beforeRequest", function (evt) {
  var target = evt.detail.target;
  if (target && target.tagName === "DIALOG" && !target.open) {
    dialogOpener.set(target, evt.detail.elt);
  }
});
document.addEventListener("htmx:afterSwap", function (evt) {
  var target = evt.detail.target;
  if (target && target.tagName === "DIALOG" && !target.open) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) { d.open = false; });
    target.showModal();
    // Folding the menu can take focus away from the item that opened the
    // dialog once the page is next drawn: make sure it is inside then.
    requestAnimationFrame(function () {
      if (target.open && !target.contains(document.activeElement)) {
        (focusables(target)[0] || target).focus();
      }
    });
  }
});
document.addEventListener("close", function (evt) {
  var opener = evt.target.tagName === "DIALOG" && dialogOpener.get(evt.target);
  if (!opener || !opener.isConnected) {
    return;
  }
  var menu = opener.closest("details");
  if (menu && !menu.open) {
    opener = menu.querySelector("summary");
  }
  opener.focus();
}, true);
function focusables(root) {
  return Array.prototype.filter.call(root.querySelectorAll(
    'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])'
  ), function (el) {
    if (el.getClientRects().length === 0) {
      return false; // not rendered
    }
    // Of a group of radio buttons, Tab stops at the checked one only.
    if (el.type === "radio" && el.name) {
      var checked = root.querySelector('input[type="radio"][name="' + CSS.escape(el.name) + '"]:checked');
      return checked ? el === checked : el === root.querySelector('input[type="radio"][name="' + CSS.escape(el.name) + '"]');
    }
    return true;
  });
}
document.addEventListener("keydown", function (evt) {
  if (evt.key !== "Tab") {
    return;
  }
  var dialog = document.querySelector("dialog[open]");
  if (!dialog) {
    return;
  }
  var items = focusables(dialog);
  if (items.length === 0) {
    evt.preventDefault();
    return;
  }
  var first = items[0], last = items[items.length - 1];
  var active = document.activeElement;
  if (!dialog.contains(active)) {
    evt.preventDefault();
    (evt.shiftKey ? last : first).focus();
  } else if (evt.shiftKey && active === first) {
    evt.preventDefault();
    last.focus();
  } else if (!evt.shiftKey && active === last) {
    evt.preventDefault();
    first.focus();
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

// 3. The menu button folds the navigation on a phone: it says whether the
//    menu is open (aria-expanded); Escape closes it and returns to the
//    button.
function setNav(toggle, open) {
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
  toggle.closest(".sidebar").classList.toggle("nav-open", open);
}
document.addEventListener("click", function (evt) {
  var toggle = evt.target.closest(".nav-toggle");
  if (toggle) {
    setNav(toggle, toggle.getAttribute("aria-expanded") !== "true");
  }
});
document.addEventListener("keydown", function (evt) {
  var sidebar = evt.key === "Escape" && document.activeElement && document.activeElement.closest(".sidebar.nav-open");
  var toggle = sidebar && sidebar.querySelector(".nav-toggle");
  if (toggle) {
    setNav(toggle, false);
    toggle.focus();
  }
});

// 4. "Select all" ticks or clears every order checkbox of its form on the
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
