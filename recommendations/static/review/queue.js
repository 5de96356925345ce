// The review queue keeps itself current, as the desk board does: every few seconds it asks one
// cheap question ("has the queue changed since this page was drawn?") and reloads when it has,
// and once a minute anyway (waiting times, overdue marks). It never reloads under a specialist who
// is typing a search. Its requests are background polls: they do not keep anyone signed in, and a
// session that has ended shows the sign-in page instead of patients' names.
(function () {
  "use strict";
  var live = document.getElementById("queue-live");
  if (!live) return;
  var since = live.dataset.since;
  var drawn = Date.now();
  var background = { credentials: "same-origin", headers: { "X-Background-Poll": "1" } };

  function typing() {
    var box = document.getElementById("searchbar");
    var current = new URLSearchParams(location.search).get("q") || "";
    return box && (document.activeElement === box || box.value !== current);
  }

  function check() {
    if (document.hidden) { setTimeout(check, 5000); return; }
    fetch(live.dataset.changesUrl + "?since=" + encodeURIComponent(since), background)
      .then(function (r) {
        if (r.redirected) { location.reload(); return null; }  // signed out: show the sign-in
        return r.ok ? r.json() : null;
      })
      .then(function (data) {
        var due = (data && data.changed) || Date.now() - drawn > 60000;
        if (due && !typing()) { location.reload(); return; }
        setTimeout(check, 5000);
      })
      .catch(function () { setTimeout(check, 5000); });
  }
  setTimeout(check, 5000);
})();
