// Progressive enhancement for the admin. Without JavaScript the copy buttons stay hidden and the
// reply text stays selectable in its read-only field; with it, they copy the text in one click.
(function () {
  "use strict";

  function showCopyButtons(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) { button.hidden = false; });
  }

  function copied(button) {
    button.textContent = button.getAttribute("data-copied") || button.textContent;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) { return; }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { copied(button); }, function () {
        if (document.execCommand("copy")) { copied(button); }
      });
    } else if (document.execCommand("copy")) {
      copied(button);
    }
  });

  document.addEventListener("DOMContentLoaded", function () { showCopyButtons(document); });
  // Pages and fragments swapped in by htmx (boosted links, filters).
  document.addEventListener("htmx:afterSettle", function (event) { showCopyButtons(event.target); });
}());
