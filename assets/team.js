// The team page's Copy buttons: the clipboard API where the page may write the clipboard,
// otherwise the link's field is selected so that Ctrl+C (or a long press) copies it.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  team: {
    copy: function (clicks, link) {
      const noUpdate = window.dash_clientside.no_update;
      if (!clicks || !link) {
        return noUpdate;
      }
      const trigger = window.dash_clientside.callback_context.triggered_id || {};
      const field = document.getElementById("team-link-" + trigger.key);
      const selectField = function () {
        if (!field) {
          return "Select the link and copy it.";
        }
        field.focus();
        field.select();
        let copied = false;
        try {
          copied = document.execCommand("copy");
        } catch (error) {
          copied = false;
        }
        return copied ? "Copied" : "Selected: press Ctrl+C (⌘C on a Mac) to copy.";
      };
      if (navigator.clipboard && window.isSecureContext) {
        return navigator.clipboard.writeText(link).then(
          function () {
            return "Copied";
          },
          selectField
        );
      }
      return selectField();
    },
    // A member was picked in the grid: bring their panel into view and move the focus to
    // its title, so keyboard and screen-reader users land where the fields are.
    focusEditor: function (userId) {
      const title = document.getElementById("team-edit-title");
      if (userId && title) {
        window.requestAnimationFrame(function () {
          title.scrollIntoView({ block: "nearest" });
          title.focus({ preventScroll: true });
        });
      }
      return window.dash_clientside.no_update;
    },
  },
});
