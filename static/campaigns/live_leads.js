/* Lead Ads leads arriving live on the leads list and board (issue: "live arrival").
 * Polls /campaigns/live/leads every 10 s (one indexed query); when Facebook leads arrived,
 * shows a flash naming them and re-fetches the list or board through HTMX (the view answers
 * HX-Request with the same partial its own filters swap), keeping the current filters. */
(function () {
  "use strict";
  const box = document.getElementById("meta-live-leads");
  if (!box) return;
  let since = box.dataset.since;
  const INTERVAL = 10000;

  function flash(leads) {
    let messages = document.querySelector("main .messages");
    if (!messages) {
      messages = document.createElement("div");
      messages.className = "messages";
      messages.setAttribute("role", "status");
      document.querySelector("main").prepend(messages);
    }
    const p = document.createElement("p");
    p.className = "flash flash-info";
    p.append("New Facebook lead" + (leads.length > 1 ? "s" : "") + ": ");
    leads.forEach(function (lead, i) {
      const a = document.createElement("a");
      a.href = lead.url;
      a.textContent = lead.name;
      if (i) p.append(", ");
      p.append(a);
    });
    messages.appendChild(p);
    setTimeout(function () { p.remove(); }, 15000);
  }

  function refresh() {
    const target = document.querySelector(box.dataset.target);
    if (!target || !window.htmx) return;
    // Not while the user drags a card or types in a form inside the region.
    if (target.contains(document.activeElement) && document.activeElement.matches("input, select, textarea")) return;
    window.htmx.ajax("GET", window.location.pathname + window.location.search, {target: target, swap: "innerHTML"});
  }

  function poll() {
    if (document.hidden) return;
    fetch(box.dataset.url + "?since=" + encodeURIComponent(since), {headers: {"Accept": "application/json"},
                                                                     credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        since = data.cursor;
        if (data.leads.length) {
          flash(data.leads);
          refresh();
        }
      })
      .catch(function () { /* offline for a moment: the next poll catches up */ });
  }

  setInterval(poll, INTERVAL);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
})();
