/* "Near me": asks for the browser's location only when the citizen clicks the button, then
   opens the list of nearby locations for that point. The form beside it works without this. */
(function () {
  "use strict";
  var button = document.getElementById("near-me-button");
  var status = document.getElementById("near-me-status");
  if (!button) { return; }
  if (!("geolocation" in navigator)) { button.hidden = true; return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    if (status) { status.textContent = button.dataset.waiting || ""; }
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var url = new URL(button.dataset.action, window.location.href);
        url.searchParams.set("lat", position.coords.latitude.toFixed(5));
        url.searchParams.set("lon", position.coords.longitude.toFixed(5));
        window.location.assign(url.toString());
      },
      function () { if (status) { status.textContent = button.dataset.refused || ""; } },
      { timeout: 15000, maximumAge: 600000 }
    );
  });
})();
