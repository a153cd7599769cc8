// hcserver dashboard: progressive enhancements only; every page works without it.
(function () {
  "use strict";

  // Sign-up: send the browser's time zone with the form.
  document.querySelectorAll("form[data-browser-tz] input[name=tz]").forEach(function (input) {
    try {
      input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      // Old browsers: the server falls back to UTC.
    }
  });

  // Copy buttons: <button data-copy="#selector" hidden> copies that element's text.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
      });
    });
  });
})();
