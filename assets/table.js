/* Record grids (pages/_table.py): refresh on filter change, and hide low-priority columns
   on narrow grids so a phone keeps the key columns in view. */
(function () {
  "use strict";
  var PRIORITY_WIDTHS = { 2: 640, 3: 960 };

  function fit(api, width) {
    if (!api || !width) { return; }
    var show = [], hide = [];
    (api.getColumns() || []).forEach(function (column) {
      var context = column.getColDef().context || {};
      var limit = PRIORITY_WIDTHS[context.priority || 1];
      (limit && width < limit ? hide : show).push(column);
    });
    if (hide.length) { api.setColumnsVisible(hide, false); }
    if (show.length) { api.setColumnsVisible(show, true); }
    api.sizeColumnsToFit();
  }

  window.dashAgGridFunctions = Object.assign({}, window.dashAgGridFunctions, {
    syncboardFitColumns: function (params) {
      fit(params.api, params.clientWidth);
    },
  });

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    syncboardTable: {
      refresh: function () {
        var output = window.dash_clientside.callback_context.outputs_list;
        var gridId = String((output && output.id) || "").replace(/-refresh$/, "-table");
        if (window.dash_ag_grid && gridId) {
          window.dash_ag_grid.getApiAsync(gridId).then(function (api) {
            api.paginationGoToPage(0);
            api.purgeInfiniteCache();
          }).catch(function () { /* not drawn yet: its first request reads the filters */ });
        }
        return Date.now();
      },
    },
  });
})();
