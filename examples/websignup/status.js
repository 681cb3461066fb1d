// Progressive enhancement of the status page of websignup. Without
// JavaScript the page reloads itself (a <meta http-equiv="refresh"> in
// <noscript>). With it, this script fetches the page instead and
// replaces only the progress part, an aria-live region, so that a screen
// reader hears what changed and the page does not jump; when the sign-up
// has moved on (a CAPTCHA, a question, the result) it loads that page.
// It is served from the page's own origin (CSP script-src 'self').
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || !window.fetch || !window.DOMParser) {
    return;
  }
  var url = location.pathname;
  function tick() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (!doc.body || doc.body.dataset.state !== "working") {
          location.replace(url);
          return;
        }
        var next = doc.getElementById("progress");
        if (next && next.innerHTML !== box.innerHTML) {
          var d = box.querySelector("details");
          var open = d && d.open;
          box.innerHTML = next.innerHTML;
          d = box.querySelector("details");
          if (open && d) {
            d.open = true;
          }
        }
        setTimeout(tick, 1000);
      })
      .catch(function () {
        setTimeout(tick, 3000);
      });
  }
  setTimeout(tick, 1000);
})();
