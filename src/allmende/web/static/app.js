// Small improvements on top of HTMX; every page works without this script.
document.addEventListener("htmx:configRequest", function (event) {
  var token = document.querySelector('meta[name="csrf-token"]');
  if (token) { event.detail.headers["X-CSRF-Token"] = token.getAttribute("content"); }
});
