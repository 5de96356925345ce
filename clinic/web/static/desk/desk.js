// Front-desk behaviour: no framework, no CDN. Each part is optional: the pages
// work without JavaScript, this only saves clicks and keeps them current.
(function () {
  "use strict";

  // A form marked data-once cannot be sent twice by a double click; the server
  // also refuses a repeat (one-time submission key).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  });

  document.addEventListener("click", function (event) {
    if (event.target.matches("[data-print]")) window.print();
    // A link in the error summary takes the focus to its field, not only the scroll.
    var link = event.target.closest(".error-summary a[href^='#field-']");
    if (link) {
      var field = document.querySelector(link.getAttribute("href"));
      var input = field && field.querySelector("input:not([type=hidden]), select, textarea");
      if (input) { event.preventDefault(); input.focus(); field.scrollIntoView({ block: "center" }); }
    }
  });

  // After a failed submit, the focus starts on the summary of what is wrong (not on <body>).
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // The board redraws itself when any case changes (a new intake from another desk, a draft,
  // a decision): every 3 seconds it asks one cheap question, and once a minute it redraws anyway
  // (for the overdue marks). Its requests are background polls, so they do not keep a user
  // signed in.
  var board = document.getElementById("board");
  if (board) {
    var background = { credentials: "same-origin", headers: { "X-Background-Poll": "1" } };
    var lastDrawn = Date.now();
    var redraw = function () {
      return fetch(board.dataset.fragmentUrl, background)
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html) { board.innerHTML = html; lastDrawn = Date.now(); } });
    };
    var check = function () {
      var inner = board.querySelector(".board");
      var since = inner ? inner.dataset.since : "";
      var url = inner ? inner.dataset.changesUrl : null;
      if (!url) return;
      fetch(url + "?since=" + encodeURIComponent(since), background)
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if ((data && data.changed) || Date.now() - lastDrawn > 60000) return redraw();
        })
        .finally(function () { setTimeout(check, 3000); });
    };
    setTimeout(check, 3000);
  }

  // A case being drafted reloads itself when its status moves on, unless the
  // user is typing in a form on it.
  var panel = document.querySelector("[data-poll-url]");
  if (panel) {
    var poll = function () {
      fetch(panel.dataset.pollUrl, { credentials: "same-origin", headers: { "X-Background-Poll": "1" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          document.getElementById("case-status").textContent = data.label;
          var typing = Array.from(document.querySelectorAll("textarea, input[type=text]"))
            .some(function (el) { return el.value; });
          if (data.status !== panel.dataset.status && !typing) location.reload();
        })
        .finally(function () { setTimeout(poll, 1500); });
    };
    setTimeout(poll, 1500);
  }

  // Condition search over the ICD-10-CM code set (the clinic's conditions first), as the user types:
  // the main condition code and each additional condition's code, each with its own list and line.
  var urlNode = document.getElementById("conditions-url");
  function codeSearch(code, list, match) {
    if (!code || !list || !match || !urlNode) return;
    var url = JSON.parse(urlNode.textContent);
    var timer = null;
    code.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = code.value.trim();
        if (q.length < 2) { list.innerHTML = ""; match.textContent = ""; return; }
        fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (entries) {
            list.innerHTML = "";
            function describe(e) {
              return e.code + " " + e.descriptor + (e.category ? " (" + e.category + ")" : " (not in the clinic's vocabulary)");
            }
            entries.forEach(function (e) {
              var option = document.createElement("option");
              option.value = e.code;
              option.label = describe(e);
              option.textContent = option.label;
              list.appendChild(option);
            });
            var exact = entries.find(function (e) { return e.code === q.toUpperCase(); });
            match.textContent = exact ? describe(exact)
              : entries.length ? entries.length + " matching codes; pick one from the list." : "No ICD-10-CM code matches.";
          });
      }, 200);
    });
  }
  codeSearch(document.getElementById("id_condition_code"), document.getElementById("condition-options"),
    document.getElementById("condition-match"));
  document.querySelectorAll("input[data-code-search]").forEach(function (input) {
    var n = input.dataset.codeSearch;
    codeSearch(input, document.getElementById("condition-options-" + n), document.getElementById("condition-match-" + n));
  });

  // Additional conditions: the filled rows and one empty row show; "Add another condition" shows
  // the next (without JavaScript all five rows show).
  document.querySelectorAll("[data-conditions]").forEach(function (box) {
    var rows = Array.from(box.querySelectorAll("[data-condition-row]"));
    var shown = rows.filter(function (r) { return r.hasAttribute("data-filled"); }).length + 1;
    rows.forEach(function (r, i) { r.hidden = i >= shown; });
    if (shown >= rows.length) return;
    var add = document.createElement("button");
    add.type = "button";
    add.textContent = "Add another condition";
    add.addEventListener("click", function () {
      var next = rows.find(function (r) { return r.hidden; });
      if (next) { next.hidden = false; next.querySelector("input").focus(); }
      if (!rows.some(function (r) { return r.hidden; })) add.remove();
    });
    box.appendChild(add);
  });
})();
