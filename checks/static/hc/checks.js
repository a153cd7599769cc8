// Checks pages: copy buttons, live list refresh, schedule editor preview.
// Everything here is an enhancement: the pages work without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Copy buttons: copy the text of the element named by data-copy.
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.querySelector(button.dataset.copy);
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });

  // Filters: apply on change, keep the Apply button for keyboard users.
  var filters = document.getElementById("check-filters");
  if (filters) {
    filters.querySelectorAll("select, input[type=checkbox]").forEach(function (el) {
      el.addEventListener("change", function () { filters.submit(); });
    });
  }

  // Checks list: poll the status endpoint and update rows in place.
  var table = document.getElementById("checks-table");
  if (table) {
    var url = table.dataset.statusUrl;
    var refresh = function () {
      if (document.hidden) return;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          data.checks.forEach(function (c) {
            var row = table.querySelector('tr[data-code="' + c.code + '"]');
            if (!row) return;
            row.className = "row-" + c.status;
            var icon = row.querySelector(".st-icon");
            icon.className = "st-icon st-" + c.status;
            icon.title = c.status_label;
            icon.querySelector(".visually-hidden").textContent = c.status_label;
            var sm = row.querySelector(".sm-only");
            if (sm) sm.textContent = c.status_label;
            var last = row.querySelector(".last-ping time");
            if (last) last.textContent = c.last_ping;
            else row.querySelector(".last-ping").textContent = c.last_ping;
            var due = row.querySelector(".next-due");
            due.textContent = c.next_due || "—";
          });
          Object.keys(data.tags).forEach(function (tag) {
            document.querySelectorAll('.filters .tag').forEach(function (el) {
              if (el.dataset.tag === tag) el.className = "tag tag-" + data.tags[tag];
            });
          });
          table.dataset.refreshed = String(Date.now());
        })
        .catch(function () { /* offline: try again next tick */ });
    };
    setInterval(refresh, 10000);
    document.addEventListener("visibilitychange", refresh);
  }

  // Schedule editor: show the fields of the chosen kind; preview expressions.
  var form = document.getElementById("schedule-form");
  if (form) {
    var simple = form.querySelector(".kind-simple");
    var sched = form.querySelector(".kind-schedule");
    var preview = document.getElementById("schedule-preview");
    var expr = form.querySelector("[name=schedule]");
    var tz = form.querySelector("[name=tz]");
    var showKind = function () {
      var checked = form.querySelector("input[name=kind]:checked");
      var isSimple = !checked || checked.value === "simple";
      simple.classList.toggle("kind-hidden", !isSimple);
      sched.classList.toggle("kind-hidden", isSimple);
      if (!isSimple) updatePreview();
    };
    var timer = null;
    var updatePreview = function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = new URLSearchParams({ schedule: expr.value, tz: tz.value || "UTC" });
        fetch(form.dataset.previewUrl + "?" + q.toString(), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            preview.textContent = "";
            if (data.error) {
              var err = document.createElement("p");
              err.className = "errorlist";
              err.textContent = data.error;
              preview.appendChild(err);
              return;
            }
            var p = document.createElement("p");
            p.textContent = data.description + " — next times:";
            preview.appendChild(p);
            var ul = document.createElement("ul");
            data.next_text.forEach(function (t) {
              var li = document.createElement("li");
              li.textContent = t;
              ul.appendChild(li);
            });
            preview.appendChild(ul);
          })
          .catch(function () {});
      }, 300);
    };
    form.querySelectorAll("input[name=kind]").forEach(function (r) {
      r.addEventListener("change", showKind);
    });
    expr.addEventListener("input", updatePreview);
    tz.addEventListener("change", updatePreview);
    showKind();
  }
})();
