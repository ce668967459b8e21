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
    if (form.hasAttribute("data-upload") && window.FormData && window.XMLHttpRequest) {
      event.preventDefault();
      upload(form);
      return;
    }
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

  // (d) An upload form sent with a progress bar. The server answers as to a plain post (the page after a
  // redirect, or the page with the form's errors), which then replaces this one.
  function upload(form) {
    var box = form.querySelector(".upload-progress");
    var bar = form.querySelector("progress");
    var pct = form.querySelector(".upload-percent");
    var buttons = form.querySelectorAll('button[type="submit"]');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    if (box) box.hidden = false;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var p = Math.floor((e.loaded * 100) / e.total);
      if (bar) bar.value = p;
      if (pct) pct.textContent = p + "%";
    });
    xhr.addEventListener("load", function () {
      var url = xhr.responseURL || form.action;
      document.open();
      document.write(xhr.responseText);
      document.close();
      if (url !== window.location.href) window.history.replaceState(null, "", url);
    });
    xhr.addEventListener("error", function () {
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = false;
      if (box) box.hidden = true;
      window.alert(form.dataset.failed || "Upload failed");
    });
    xhr.send(new FormData(form));
  }

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

/* A busy text shows while a form submits. */
(function () {
  "use strict";

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

  // (g) A print button (a bid receipt): the page's own print layout (app.css, @media print).
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("[data-print]") : null;
    if (b) window.print();
  });

  // (f) A report is drawn on the server: fetch it with progress shown, then offer it as a download. Without
  // JS the link downloads the PDF directly.
  var gen = document.querySelector("[data-pdf-generate]");
  var genBox = document.getElementById("report-generate");
  if (gen && genBox && window.fetch && window.URL && URL.createObjectURL) {
    gen.addEventListener("click", function (event) {
      event.preventDefault();
      if (gen.hasAttribute("aria-busy")) return;
      var bar = document.getElementById("report-progress");
      var status = document.getElementById("report-status");
      var link = document.getElementById("report-download");
      var zh = document.documentElement.lang !== "en";
      var started = Date.now();
      var seconds = function () {
        return ((Date.now() - started) / 1000).toFixed(1) + (zh ? " 秒" : " s");
      };
      var busy = function () {
        status.textContent = genBox.getAttribute("data-busy") + " " + seconds();
      };
      gen.setAttribute("aria-busy", "true");
      bar.hidden = false;
      link.hidden = true;
      busy();
      var timer = setInterval(busy, 200);
      var done = function () {
        clearInterval(timer);
        bar.hidden = true;
        gen.removeAttribute("aria-busy");
      };
      fetch(gen.href, { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) {
            return r.json().catch(function () { return {}; }).then(function (p) {
              var m = p.message ? (zh ? p.message.zh : p.message.en) : "";
              throw new Error(m || p.detail || String(r.status));
            });
          }
          var name = "report.pdf";
          var m = /filename\*=UTF-8''([^;]+)/.exec(r.headers.get("Content-Disposition") || "");
          if (m) {
            try { name = decodeURIComponent(m[1]); } catch (e) { /* keep the plain name */ }
          }
          return r.blob().then(function (blob) { return { blob: blob, name: name }; });
        })
        .then(function (got) {
          done();
          if (link.href.indexOf("blob:") === 0) URL.revokeObjectURL(link.href);
          link.href = URL.createObjectURL(got.blob);
          link.download = got.name;
          link.hidden = false;
          status.textContent = genBox.getAttribute("data-done") + " (" +
            Math.max(1, Math.round(got.blob.size / 1024)) + " KB, " + seconds() + ")";
          link.click();
        })
        .catch(function (e) {
          done();
          status.textContent = genBox.getAttribute("data-failed") + (zh ? "：" : ": ") + e.message;
        });
    });
  }
})();
