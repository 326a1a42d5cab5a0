// Clicking a district on the 挂图作战 map filters the board: plotly's click event writes the
// district code into a hidden textbox (#map-pick) whose input event the server handles.
(() => {
  function hook() {
    document.querySelectorAll("#district-map .js-plotly-plot").forEach((plot) => {
      if (plot.dataset.cqHooked === "1" || typeof plot.on !== "function") return;
      plot.dataset.cqHooked = "1";
      plot.on("plotly_click", (event) => {
        const point = event && event.points && event.points[0];
        const box = document.querySelector("#map-pick textarea, #map-pick input");
        if (!point || !box) return;
        box.value = String(point.location || point.customdata || "");
        box.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
  }
  setInterval(hook, 500);
})();
