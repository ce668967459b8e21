/* Sanshe 三社 — progressive enhancements only. Loaded with `defer`; no inline handlers (CSP). */
(function () {
  "use strict";

  // Lets the stylesheet know the nav toggle will work (without JS the mobile nav stays open).
  document.documentElement.classList.add("js");

  // (a) Mobile navigation toggle.
  var toggle = document.querySelector("button.nav-toggle");
  var nav = document.querySelector("nav.main");
  if (toggle && nav) {
    toggle.setAttribute("aria-expanded", "false");
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // (b) + (c) Confirmation and progress feedback on submit.
  // A single delegated listener so the confirm check runs before the progress state is shown.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;

    if (form.hasAttribute("data-confirm")) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        return;
      }
    }

    if (event.defaultPrevented) return;
    if (!(form.matches("form.stack") || form.hasAttribute("data-progress"))) return;

    // Disable after the current tick so the clicked button's name/value is still submitted.
    window.setTimeout(function () {
      var buttons = form.querySelectorAll('button[type="submit"], button:not([type]), input[type="submit"]');
      for (var i = 0; i < buttons.length; i++) {
        if (buttons[i].disabled) continue;
        buttons[i].disabled = true;
        buttons[i].setAttribute("data-js-disabled", "");
      }
      var progress = form.querySelector("div.progress");
      if (progress) progress.hidden = false;
    }, 0);
  });

  // Re-enable buttons if the page is restored from the back/forward cache.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    var forms = document.querySelectorAll("form.stack, form[data-progress]");
    for (var i = 0; i < forms.length; i++) {
      var buttons = forms[i].querySelectorAll("[data-js-disabled]");
      for (var j = 0; j < buttons.length; j++) {
        buttons[j].disabled = false;
        buttons[j].removeAttribute("data-js-disabled");
      }
      var progress = forms[i].querySelector("div.progress");
      if (progress) progress.hidden = true;
    }
  });
})();
