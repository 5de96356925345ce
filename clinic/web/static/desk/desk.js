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

  // Condition search over the ICD-10-CM code set (the clinic's conditions first), as the user types
  // words of any length: the matching codes open in a list under the box (arrow keys, Enter or a
  // click pick one), and the box then holds the code, which is what the form sends. The line under
  // the box names the code typed or picked. Each code box (main, additional, the answer's) has its own.
  var urlNode = document.getElementById("conditions-url");
  function describe(e) {
    return e.code + " " + e.descriptor + (e.category ? " (" + e.category + ")" : " (not in the clinic's vocabulary)");
  }
  function sameCode(a, b) { return a.replace(".", "").toUpperCase() === b.replace(".", "").toUpperCase(); }
  function codeSearch(input) {
    var list = document.getElementById(input.id + "_options");
    var field = input.closest(".field");
    var match = field && field.querySelector(".code-match");
    if (!list || !match || !urlNode) return;
    var url = JSON.parse(urlNode.textContent);
    var timer = null, asked = 0, entries = [], active = -1;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    function close() {
      list.hidden = true; active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function open() {
      if (!entries.length) return;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      }
    }
    function choose(e) {
      input.value = e.code;
      match.textContent = describe(e);
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function draw() {
      list.innerHTML = "";
      entries.forEach(function (e, i) {
        var option = document.createElement("li");
        option.id = list.id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        var code = document.createElement("span");
        code.className = "code";
        code.textContent = e.code;
        var words = document.createElement("span");
        words.textContent = e.descriptor + " ";
        var category = document.createElement("span");
        category.className = "cat";
        category.textContent = e.category ? "(" + e.category + ")" : "(not in the clinic's vocabulary)";
        option.append(code, words, category);
        // mousedown, not click: the box keeps the focus, so its blur does not close the list first.
        option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(e); });
        list.appendChild(option);
      });
    }
    function search(offer) {
      var q = input.value.trim();
      if (q.length < 2) { entries = []; list.innerHTML = ""; close(); match.textContent = ""; return; }
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (found) {
          if (mine !== asked) return; // a newer search is on its way
          entries = found;
          draw();
          var exact = found.find(function (e) { return sameCode(e.code, q); });
          if (exact) { match.textContent = describe(exact); close(); return; }
          match.textContent = found.length
            ? found.length + (found.length === 1 ? " matching code" : " matching codes") + ": pick one from the list."
            : "No ICD-10-CM code matches “" + q + "”: try other words, or the code itself.";
          if (found.length && offer) open(); else close();
        });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { search(true); }, 200);
    });
    // A page drawn again (an error elsewhere, the answer form's recorded code) names its code at once.
    if (input.value.trim()) search(false);
    input.addEventListener("keydown", function (event) {
      var n = entries.length;
      if (event.key === "ArrowDown" && n) {
        event.preventDefault();
        if (list.hidden) { open(); highlight(0); } else { highlight(Math.min(active + 1, n - 1)); }
      } else if (event.key === "ArrowUp" && !list.hidden) {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault(); // picks the code; it does not send the form
        choose(entries[active]);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }
  document.querySelectorAll("input[data-code-search]").forEach(codeSearch);

  // A limited text counts its characters as the server does (a line break is one, an emoji one)
  // and says how far over the limit it is; nothing is ever cut. Screen readers hear the count with
  // the box, and are told once when the text goes over the limit or back under it.
  function chars(text) { return Array.from(text).length; }
  function number(n) { return n.toLocaleString("en-US"); }
  document.querySelectorAll("[data-limit]").forEach(function (box) {
    var limit = parseInt(box.dataset.limit, 10);
    if (!box.id) return;
    var counter = document.getElementById(box.id + "_counter");
    if (!counter) {
      counter = document.createElement("p");
      counter.className = "counter";
      counter.id = box.id + "_counter";
      box.insertAdjacentElement("afterend", counter);
    }
    counter.hidden = false;
    var said = document.createElement("span");
    said.className = "visually-hidden";
    said.setAttribute("aria-live", "polite");
    var shown = document.createElement("span");
    shown.setAttribute("aria-hidden", "true");
    counter.textContent = "";
    counter.append(shown, said);
    var describedBy = (box.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    describedBy.push(counter.id);
    box.setAttribute("aria-describedby", describedBy.join(" "));
    var wasOver = false;
    function update() {
      var n = chars(box.value), over = n - limit;
      shown.textContent = over > 0
        ? number(over) + (over === 1 ? " character" : " characters") + " over the limit of " + number(limit) + ": shorten the text."
        : number(n) + " of " + number(limit) + " characters";
      counter.classList.toggle("is-over", over > 0);
      if ((over > 0) !== wasOver) {
        said.textContent = over > 0 ? "Over the limit of " + number(limit) + " characters." : "Within the limit again.";
        wasOver = over > 0;
      }
    }
    box.addEventListener("input", update);
    update();
  });

  // A field that a choice makes required ("Consent form version" once consent was obtained) shows
  // its * while the choice holds; its label says so all the time.
  document.querySelectorAll("[data-required-when]").forEach(function (star) {
    var rule = star.dataset.requiredWhen.split("=");
    var form = star.closest("form");
    var field = star.closest(".field");
    if (!form || !field) return;
    var controls = Array.from(form.querySelectorAll("[name='" + rule[0] + "']"));
    var boxes = field.querySelectorAll("input[type=text], input:not([type]), textarea");
    function update() {
      var on = controls.some(function (c) {
        return (c.type === "radio" || c.type === "checkbox") ? c.checked && c.value === rule[1] : c.value === rule[1];
      });
      star.hidden = !on;
      boxes.forEach(function (b) { if (on) b.setAttribute("aria-required", "true"); else b.removeAttribute("aria-required"); });
    }
    controls.forEach(function (c) { c.addEventListener("change", update); });
    update();
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
