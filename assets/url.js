// Pages that read their filters from the URL show the values actually used; when the page
// had to correct the query string (a bad date, an end before the start), the address bar is
// rewritten in place (replaceState: no history entry, so Back does not lead to the bad URL).
(function () {
  "use strict";
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    syncboardUrl: {
      // The query string is the last argument (an Input, or a State after an `id` Input
      // for a page whose URL component is also another callback's output).
      replaceSearch: function () {
        var search = arguments[arguments.length - 1];
        if (typeof search !== "string" || search === window.location.search) {
          return window.dash_clientside.no_update;
        }
        var query = search === "" || search.charAt(0) === "?" ? search : "?" + search;
        window.history.replaceState(
          window.history.state, "", window.location.pathname + query + window.location.hash
        );
        // The Location component's own href must agree, or it pushes the old one back.
        return window.location.href;
      },
    },
  });
})();
