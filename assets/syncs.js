/* Sync history (callbacks/syncs.py): reload the record grid's blocks in place while a run
   on the page is active, so its status text moves with the poll and the page and sort stay. */
(function () {
  "use strict";
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    syncboardSyncs: {
      refreshRows: function () {
        var output = window.dash_clientside.callback_context.outputs_list;
        var gridId = String((output && output.id) || "").replace(/-live$/, "-table");
        if (window.dash_ag_grid && gridId) {
          window.dash_ag_grid.getApiAsync(gridId).then(function (api) {
            api.refreshInfiniteCache();
          }).catch(function () { /* not drawn yet: its first request is fresh anyway */ });
        }
        return Date.now();
      },
    },
  });
})();
