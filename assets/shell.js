// The frame's behaviour in the browser (pages/_shell.py draws it):
// - the phone menu: the header's toggler opens the sidebar as a drawer; Escape, the backdrop,
//   the toggler again or following a link close it; focus goes to the first link on opening
//   and back to the toggler on closing, and the page behind is inert while it is open;
// - dcc.Dropdown (Dash 4) draws an aria-hidden input that takes the Tab stop and hands focus
//   to its button: the button becomes the Tab stop itself and the input leaves the order, and
//   a <label for="ID"> of a dropdown becomes part of its button's accessible name;
// - dcc.DatePickerRange / DatePickerSingle (Dash 4) put popup ARIA on a plain <div> and an
//   aria-label on an <a> without href: the wrapper becomes a labelled group, and the clear
//   control a real button for the keyboard (Enter and Space press it).
// Everything is delegated from the document, since Dash redraws the elements.
(function () {
  "use strict";
  const OPEN = "shell-menu-open";
  const TOGGLE = "shell-menu-toggle";
  const phone = () => window.matchMedia("(max-width: 767.98px)").matches;

  function setMenu(open, returnFocus) {
    const toggle = document.getElementById(TOGGLE);
    const sidebar = document.getElementById("sidebar");
    const main = document.getElementById("page-body");
    document.body.classList.toggle(OPEN, open);
    if (toggle) { toggle.setAttribute("aria-expanded", open ? "true" : "false"); }
    if (main) { main.inert = open && phone(); }
    if (open && sidebar) {
      const first = sidebar.querySelector("a.nav-link.active") || sidebar.querySelector("a");
      if (first) { window.setTimeout(() => first.focus(), 30); }
    } else if (returnFocus && toggle) {
      toggle.focus();
    }
  }

  const isOpen = () => document.body.classList.contains(OPEN);

  document.addEventListener("click", function (event) {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    if (target.closest("#" + TOGGLE)) { setMenu(!isOpen(), isOpen()); return; }
    if (!isOpen()) { return; }
    if (target.closest(".shell-backdrop")) { setMenu(false, true); return; }
    if (target.closest("#sidebar a")) { setMenu(false, false); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) { setMenu(false, true); }
  });
  window.addEventListener("resize", function () {
    if (isOpen() && !phone()) { setMenu(false, false); }
  });
  window.addEventListener("popstate", function () { if (isOpen()) { setMenu(false, false); } });

  // --- dropdowns -----------------------------------------------------------------------
  function fixDropdown(proxy) {
    if (proxy.tabIndex !== -1) { proxy.tabIndex = -1; }
    const button = proxy.nextElementSibling;
    if (!(button instanceof HTMLButtonElement)) { return; }
    if (!button.disabled && button.tabIndex !== 0) { button.tabIndex = 0; }
    if (button.id) {
      const label = document.querySelector('label[for="' + CSS.escape(button.id) + '"]');
      if (label) {
        if (!label.id) { label.id = button.id + "-label"; }
        const named = button.getAttribute("aria-labelledby") || "";
        if (!named.split(" ").includes(label.id)) {
          button.setAttribute("aria-labelledby", (label.id + " " + named).trim());
        }
      }
    }
  }
  // --- date pickers ----------------------------------------------------------------------
  function fixDatePicker(wrapper) {
    if (wrapper.getAttribute("role") !== "group") { wrapper.setAttribute("role", "group"); }
    ["aria-haspopup", "aria-expanded", "aria-disabled"].forEach(function (name) {
      if (wrapper.hasAttribute(name)) { wrapper.removeAttribute(name); }
    });
  }
  function fixClear(clear) {
    if (clear.getAttribute("role") !== "button") { clear.setAttribute("role", "button"); }
    if (clear.getAttribute("tabindex") !== "0") { clear.setAttribute("tabindex", "0"); }
  }
  document.addEventListener("keydown", function (event) {
    const target = event.target instanceof Element ? event.target : null;
    if (target && target.matches(".dash-datepicker-clear") &&
        (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      target.click();
    }
  });

  function fixAll(root) {
    root.querySelectorAll(".dash-dropdown-focus-target").forEach(fixDropdown);
    root.querySelectorAll(".dash-datepicker-input-wrapper").forEach(fixDatePicker);
    root.querySelectorAll(".dash-datepicker-clear").forEach(fixClear);
  }

  let queued = false;
  const observer = new MutationObserver(function (mutations) {
    for (const m of mutations) {
      const list = m.type === "attributes" && m.target.classList;
      if (list && list.contains("dash-dropdown-focus-target")) { fixDropdown(m.target); }
      if (list && list.contains("dash-datepicker-input-wrapper")) { fixDatePicker(m.target); }
    }
    if (!queued) {
      queued = true;
      window.requestAnimationFrame(function () {
        queued = false;
        fixAll(document);
      });
    }
  });
  function start() {
    observer.observe(document.body, {
      subtree: true, childList: true,
      attributes: true, attributeFilter: ["tabindex", "aria-expanded", "aria-haspopup", "role"],
    });
    fixAll(document);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
