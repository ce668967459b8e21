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

/* Tenders: bid attachments are read into hidden inputs (name + base64) so the form stays urlencoded; the
   bid waits for files still being read; a busy text shows while a form submits. */
(function () {
  "use strict";

  var input = document.querySelector('input[type="file"][data-attachments]');
  if (input && input.form) {
    var form = input.form;
    var box = form.querySelector("[data-attachment-fields]");
    var list = box ? box.querySelector("[data-attachment-list]") : null;
    var error = form.querySelector("[data-attachment-error]");
    var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10) || 131072;
    var maxFiles = parseInt(input.getAttribute("data-max-files"), 10) || 5;
    var pending = 0;
    var resubmit = false;

    var fail = function (text) {
      if (!error) return;
      error.textContent = text;
      error.hidden = false;
    };
    var clear = function () {
      var old = box.querySelectorAll('input[name="attachment_name"], input[name="attachment_b64"], p.hint');
      for (var i = 0; i < old.length; i++) old[i].parentNode.removeChild(old[i]);
      if (list) list.textContent = "";
      if (error) { error.hidden = true; error.textContent = ""; }
    };
    var hidden = function (name) {
      var h = document.createElement("input");
      h.type = "hidden";
      h.name = name;
      box.insertBefore(h, list);
      return h;
    };
    var done = function () {
      pending -= 1;
      if (pending === 0 && resubmit) {
        resubmit = false;
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
    };

    input.addEventListener("change", function () {
      clear();
      var files = Array.prototype.slice.call(input.files || []);
      if (files.length > maxFiles) {
        fail((input.getAttribute("data-msg-count") || "max {n}").replace("{n}", maxFiles));
        input.value = "";
        return;
      }
      files.forEach(function (f) {
        if (f.size > maxBytes) {
          fail((input.getAttribute("data-msg-size") || "{name} > {kib} KiB")
            .replace("{name}", f.name).replace("{kib}", Math.round(maxBytes / 1024)));
          return;
        }
        // Slots in the chosen order; each body is filled in when its file has been read.
        var name = hidden("attachment_name");
        var body = hidden("attachment_b64");
        name.value = f.name;
        if (list) {
          var li = document.createElement("li");
          li.textContent = f.name;
          list.appendChild(li);
        }
        pending += 1;
        var reader = new FileReader();
        reader.onload = function () {
          var s = String(reader.result || "");
          var comma = s.indexOf(",");
          body.value = comma >= 0 ? s.slice(comma + 1) : "";
          done();
        };
        reader.onerror = function () {
          fail(f.name);
          done();
        };
        reader.readAsDataURL(f);
      });
    });

    // Capture phase on the form: runs before the page-wide submit handler, which then never sees it.
    form.addEventListener("submit", function (event) {
      if (pending > 0) {
        event.preventDefault();
        event.stopPropagation();
        resubmit = true;
      }
    }, true);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
    var busy = form.querySelectorAll("[data-busy-text]");
    if (!busy.length) return;
    window.setTimeout(function () {
      for (var i = 0; i < busy.length; i++) busy[i].hidden = false;
    }, 0);
  });

  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    var busy = document.querySelectorAll("[data-busy-text]");
    for (var i = 0; i < busy.length; i++) busy[i].hidden = true;
  });
})();
