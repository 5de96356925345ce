// The patient's follow-up page. Without this file each instrument is one short page and every
// "Next" posts it; with it, each answer is saved the moment it is chosen and the page shows one
// question at a time. No framework, no CDN, no inline script (CSP: script-src 'self').
(function () {
  "use strict";

  // A form marked data-once is sent once, whatever the double taps; the server refuses a repeat.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
  });

  // Links in the error summary take the focus to the question, not only the scroll.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (!link) return;
    var target = document.querySelector(link.getAttribute("href"));
    if (target) { event.preventDefault(); showQuestion(target, true); }
  });

  var form = document.querySelector("form[data-steps]");
  var summary = document.getElementById("error-summary");
  var showQuestion = function (target, focus) { if (focus) target.focus(); };
  if (!form) { if (summary) summary.focus(); return; }

  document.documentElement.classList.add("js");
  var questions = Array.prototype.slice.call(form.querySelectorAll("fieldset.q"));
  var status = document.getElementById("save-status");
  var progress = document.getElementById("progress-text");
  var bar = document.querySelector("[data-bar]");
  var next = form.querySelector("[data-next]");
  var back = form.querySelector("[data-back]");
  var total = parseInt(progress.dataset.total, 10);
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var current = 0;

  // --- Saved as it goes ------------------------------------------------------------------------
  var say = function (text, problem) {
    status.textContent = "";
    status.classList.toggle("is-problem", !!problem);
    // A fresh text node each time, so that a screen reader announces a second "Saved" too.
    window.setTimeout(function () { status.textContent = text; }, 50);
  };
  var save = function (input) {
    var q = input.closest("fieldset.q");
    if (!q || !q.dataset.linkId) return;
    var body = new FormData();
    body.append("csrfmiddlewaretoken", csrf);
    body.append("instrument", q.dataset.instrument);
    body.append("link_id", q.dataset.linkId);
    body.append("value", input.value);
    fetch(form.dataset.saveUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (result.ok) {
        q.classList.add("is-answered");
        say("Saved: your answer to question " + q.dataset.number + ".");
      } else if (result.data.refused) {
        window.location.reload();  // the link was used or expired meanwhile: its page says so
      } else {
        say(result.data.message || "That answer was not saved. Please choose it again.", true);
      }
    }).catch(function () {
      say("Not saved yet (no connection?). Your answers on this page are sent when you press Next.", true);
    });
  };
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type === "radio" || input.type === "number") {
      clearError(input.closest("fieldset.q"));
      if (input.name === "unexpected") { toggleMore(); return; }
      save(input);
    }
  });

  // --- The text box opens on "yes" ---------------------------------------------------------------
  var more = form.querySelector("[data-when-yes]");
  var toggleMore = function () {
    if (!more) return;
    var yes = form.querySelector("input[name=unexpected][value=yes]");
    more.hidden = !yes.checked;
  };
  toggleMore();

  // --- One question per screen -------------------------------------------------------------------
  var answered = function (q) {
    var number = q.querySelector("input.number");
    if (number) return number.value !== "";
    return !!q.querySelector("input[type=radio]:checked");
  };
  var errorOf = function (q) { return document.getElementById(q.id + "-error"); };
  var clearError = function (q) {
    var error = q && errorOf(q);
    if (error && !error.hidden) { error.hidden = true; q.classList.remove("has-error"); }
  };
  var complain = function (q) {
    var error = errorOf(q);
    error.textContent = "Choose an answer to go on.";
    error.hidden = false;
    q.classList.add("has-error");
    var described = (q.getAttribute("aria-describedby") || "").split(" ");
    if (described.indexOf(error.id) < 0) q.setAttribute("aria-describedby", described.concat(error.id).join(" ").trim());
    var first = q.querySelector("input");
    if (first) first.focus();
  };
  var show = function (index, focus) {
    current = Math.max(0, Math.min(index, questions.length - 1));
    questions.forEach(function (q, i) { q.classList.toggle("is-off", i !== current); });
    var q = questions[current];
    var number = parseInt(q.dataset.number, 10);
    progress.textContent = "Question " + number + " of " + total;
    if (bar) bar.style.width = Math.round(((number - 1) / total) * 100) + "%";
    var lastOnPage = current === questions.length - 1;
    next.textContent = lastOnPage ? next.dataset.lastLabel : "Next";
    // On the first page, "Back" steps between its questions only.
    if (back) back.hidden = current === 0 && back.hasAttribute("data-first-page");
    if (focus) { q.focus(); q.scrollIntoView({ block: "start" }); }
  };
  showQuestion = function (target, focus) {
    var index = questions.indexOf(target.closest ? target.closest("fieldset.q") : target);
    if (index >= 0) show(index, focus);
  };

  next.addEventListener("click", function (event) {
    var q = questions[current];
    if (!answered(q)) { event.preventDefault(); complain(q); return; }
    if (current < questions.length - 1) { event.preventDefault(); show(current + 1, true); }
    // The last question on this page: the form is posted (its answers saved again) as without script.
  });
  if (back) {
    back.addEventListener("click", function (event) {
      if (current > 0) { event.preventDefault(); show(current - 1, true); }
    });
  }

  // Where to start: the question the address names (#q-3, from "Back" or a "Change" link), the
  // one with an error, else the first unanswered one on this page.
  var start = questions.findIndex(function (q) { return "#" + q.id === window.location.hash; });
  if (start < 0) start = questions.findIndex(function (q) { return q.classList.contains("has-error"); });
  if (start < 0) start = questions.findIndex(function (q) { return !answered(q); });
  show(start < 0 ? 0 : start, !!window.location.hash);
  if (summary) summary.focus();
})();
