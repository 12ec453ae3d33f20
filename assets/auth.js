// When the session ends while a page is open, callbacks get 401: go to the sign-in page.
(function () {
  const originalFetch = window.fetch;
  window.fetch = async function (...args) {
    const response = await originalFetch.apply(this, args);
    const url = String(args[0] && args[0].url ? args[0].url : args[0]);
    if (response.status === 401 && url.includes("_dash-")) {
      const base = url.split("_dash-")[0];
      window.location.href = base + "login?next=" + encodeURIComponent(window.location.pathname);
    }
    return response;
  };
})();
