/* CRM pages: board drag and drop, auto-submitting selects, small helpers. No framework:
 * HTMX does the swapping; this file only adds what HTML attributes cannot express. */
(function () {
  "use strict";

  function csrfToken() {
    return document.body.dataset.csrfToken || "";
  }

  /* A flash message like the server's (messages framework), for errors found in the browser. */
  function flash(text, level) {
    let box = document.querySelector("main .messages");
    if (!box) {
      box = document.createElement("div");
      box.className = "messages";
      box.setAttribute("role", "status");
      document.querySelector("main").prepend(box);
    }
    const p = document.createElement("p");
    p.className = "flash flash-" + (level || "error");
    p.textContent = text;
    box.appendChild(p);
    setTimeout(function () { p.remove(); }, 6000);
  }

  /* ---- Board ---------------------------------------------------------------------------- */

  function column(status) {
    return document.querySelector('.board-column[data-status="' + status + '"]');
  }

  function bumpCount(col, delta) {
    const counter = col && col.querySelector(".col-count");
    // A capped count ("10,000+") is not exact: leave it alone rather than show a wrong number.
    if (!counter || counter.dataset.exact !== "1") return;
    const n = Math.max(0, parseInt(counter.dataset.count, 10) + delta);
    counter.dataset.count = String(n);
    counter.textContent = n.toLocaleString("en-US");
  }

  /* Put a card at the top of its status column and keep both columns' counts right. */
  function moveCard(card, status) {
    const from = card.closest(".board-column");
    const to = column(status);
    if (!to || from === to) return;
    to.querySelector(".board-cards").prepend(card);
    card.dataset.status = status;
    bumpCount(from, -1);
    bumpCount(to, +1);
  }

  /* POST the new status (lead_set_status, as the detail page's menu) and swap in the server's card. */
  async function changeStatus(card, status, keepFocus) {
    const previous = card.dataset.status;
    moveCard(card, status); // optimistic: the card moves at once, and moves back on failure
    card.classList.add("saving");
    try {
      const body = new FormData();
      body.append("status", status);
      const response = await fetch(card.dataset.statusUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
      });
      if (!response.ok) throw new Error((await response.text()) || response.statusText);
      const template = document.createElement("template");
      template.innerHTML = (await response.text()).trim();
      const fresh = template.content.firstElementChild;
      card.replaceWith(fresh);
      if (window.htmx) window.htmx.process(fresh);
      if (keepFocus) fresh.focus();
    } catch (err) {
      card.classList.remove("saving");
      moveCard(card, previous);
      flash("Could not move the lead: " + err.message);
    }
  }

  document.addEventListener("dragstart", function (event) {
    const card = event.target.closest && event.target.closest(".lead-card");
    if (!card) return;
    event.dataTransfer.setData("text/plain", card.id);
    event.dataTransfer.effectAllowed = "move";
    card.classList.add("dragging");
  });

  document.addEventListener("dragend", function (event) {
    const card = event.target.closest && event.target.closest(".lead-card");
    if (card) card.classList.remove("dragging");
    document.querySelectorAll(".board-column.drop-target").forEach(function (col) {
      col.classList.remove("drop-target");
    });
  });

  document.addEventListener("dragover", function (event) {
    const col = event.target.closest && event.target.closest(".board-column");
    if (!col) return;
    event.preventDefault(); // allows the drop
    event.dataTransfer.dropEffect = "move";
    col.classList.add("drop-target");
  });

  document.addEventListener("dragleave", function (event) {
    const col = event.target.closest && event.target.closest(".board-column");
    if (col && !col.contains(event.relatedTarget)) col.classList.remove("drop-target");
  });

  document.addEventListener("drop", function (event) {
    const col = event.target.closest && event.target.closest(".board-column");
    if (!col) return;
    event.preventDefault();
    col.classList.remove("drop-target");
    const card = document.getElementById(event.dataTransfer.getData("text/plain"));
    if (card && card.classList.contains("lead-card") && card.dataset.status !== col.dataset.status) {
      changeStatus(card, col.dataset.status);
    }
  });

  /* Keyboard: a focused card moves one column left or right with the arrow keys. */
  document.addEventListener("keydown", function (event) {
    const card = event.target;
    if (!card.classList || !card.classList.contains("lead-card")) return;
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const columns = Array.from(document.querySelectorAll(".board-column"));
    const index = columns.indexOf(card.closest(".board-column")) + (event.key === "ArrowRight" ? 1 : -1);
    if (index < 0 || index >= columns.length) return;
    event.preventDefault();
    changeStatus(card, columns[index].dataset.status, true);
  });

  document.addEventListener("htmx:responseError", function (event) {
    const text = event.detail.xhr && event.detail.xhr.responseText;
    flash(text && text.length < 300 ? text : "The server could not do that. Please try again.");
  });

  /* ---- Forms ---------------------------------------------------------------------------- */

  // The filter form sends only the filters that are set, so the pushed URL stays readable
  // (and is the same query the API takes).
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get" || event.detail.elt.id !== "lead-filters") return;
    const data = event.detail.formData;
    Array.from(data.keys()).forEach(function (key) {
      if (data.getAll(key).every(function (value) { return value === ""; })) data.delete(key);
    });
  });

  // <select data-autosubmit> submits its form on change (the detail page's status menu); the
  // form's button stays for browsers without JavaScript.
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-autosubmit]")) {
      event.target.form.requestSubmit();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.classList.add("js");
  });
})();
