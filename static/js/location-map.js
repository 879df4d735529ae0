/* A map of one or more locations, drawn with Leaflet (static/vendor/leaflet) on an element
   <div class="location-map" data-points="ID" data-tile-url=".." data-attribution=".."
   data-attribution-url=".." data-label-open=".."></div>, the points in a json_script element
   (a list of {name, lat, lon, url}). Without JavaScript or tiles, the page itself lists every
   address and coordinate: the map only adds to it. */
(function () {
  "use strict";
  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }
  function draw(el) {
    if (typeof L === "undefined") { return; }
    var source = document.getElementById(el.dataset.points || "");
    var tiles = el.dataset.tileUrl;
    if (!source || !tiles) { return; }
    var points = JSON.parse(source.textContent || "[]");
    if (!points.length) { return; }
    el.classList.add("location-map-on");
    var map = L.map(el, { scrollWheelZoom: false });
    var attribution = escapeHtml(el.dataset.attribution || "");
    if (el.dataset.attributionUrl) {
      attribution = '<a href="' + escapeHtml(el.dataset.attributionUrl) + '">' + attribution + "</a>";
    }
    L.tileLayer(tiles, { maxZoom: 19, attribution: attribution }).addTo(map);
    var bounds = [];
    points.forEach(function (p) {
      var marker = L.marker([p.lat, p.lon], { title: p.name, alt: p.name }).addTo(map);
      var popup = escapeHtml(p.name);
      if (p.url) { popup = '<a href="' + escapeHtml(p.url) + '">' + popup + "</a>"; }
      marker.bindPopup(popup);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length === 1) { map.setView(bounds[0], 16); } else { map.fitBounds(bounds, { padding: [24, 24] }); }
  }
  document.querySelectorAll(".location-map[data-points]").forEach(draw);
})();
