// Ferry console: confirmations, live updates over Server-Sent Events, the
// throughput chart and the schedule preview. Plain JavaScript, no library.
"use strict";

function drawChart(canvas, pts) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 28;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = "#ccc";
  ctx.strokeRect(pad, 4, w - pad - 4, h - pad);
  if (pts.length === 0) {
    ctx.fillStyle = "#888";
    ctx.fillText("no samples yet", w / 2 - 40, h / 2);
    return;
  }
  const t1 = pts[pts.length - 1].t, t0 = Math.min(pts[0].t, t1 - 60);
  const vmax = Math.max(1, ...pts.map(p => p.v));
  ctx.strokeStyle = "#2266cc";
  ctx.lineWidth = 2;
  ctx.beginPath();
  pts.forEach((p, i) => {
    const x = pad + (w - pad - 4) * (p.t - t0) / Math.max(1, t1 - t0);
    const y = 4 + (h - pad) * (1 - p.v / vmax);
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = "#444";
  ctx.fillText(human(vmax) + "/s", 2, 14);
}

function human(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + " " + u[i];
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-confirm]").forEach(f => {
    f.addEventListener("submit", e => { if (!window.confirm(f.dataset.confirm)) e.preventDefault(); });
  });

  const charts = [];
  document.querySelectorAll("canvas[data-chart]").forEach(c => {
    let pts = [];
    try { pts = JSON.parse(c.dataset.chart) || []; } catch (e) { pts = []; }
    charts.push({ c, pts });
    drawChart(c, pts);
  });

  document.querySelectorAll("[data-events]").forEach(el => {
    const es = new EventSource(el.dataset.events);
    const update = ev => {
      const d = JSON.parse(ev.data);
      Object.entries(d.text || {}).forEach(([k, v]) => {
        document.querySelectorAll('[data-live="' + k + '"]').forEach(n => {
          n.textContent = v;
          if (k === "state") n.className = "state " + v;
        });
      });
      const bar = document.getElementById("progress");
      if (bar && typeof d.pct === "number") bar.value = d.pct;
      const t = d.t || Math.floor(Date.now() / 1000);
      charts.forEach(ch => {
        if (ch.pts.length > 0 && ch.pts[ch.pts.length - 1].t >= t) return; // a sample already drawn
        ch.pts.push({ t, v: d.rate_bytes || 0 });
        while (ch.pts.length > 0 && ch.pts[0].t < t - 3600) ch.pts.shift();
        drawChart(ch.c, ch.pts);
      });
    };
    es.addEventListener("job", update);
    es.addEventListener("overview", update);
    es.addEventListener("failure", ev => {
      es.close();
      let msg = "Live updates stopped.";
      try { msg += " " + JSON.parse(ev.data).error; } catch (e) { /* keep the plain message */ }
      const p = document.createElement("p");
      p.className = "error";
      p.textContent = msg + " Reload the page to try again.";
      el.prepend(p);
    });
  });

  document.querySelectorAll("input[data-preview]").forEach(inp => {
    const out = document.getElementById("schedule-preview");
    let timer = null;
    const check = () => {
      if (!inp.value.trim()) { out.textContent = "Runs once, as soon as it is created."; out.className = "preview"; return; }
      fetch(inp.dataset.preview + "?s=" + encodeURIComponent(inp.value), { credentials: "same-origin" })
        .then(r => r.json())
        .then(d => {
          if (d.error) { out.textContent = "Invalid schedule: " + d.error; out.className = "preview error"; }
          else { out.textContent = "Next runs: " + (d.runs || []).join("; "); out.className = "preview"; }
        })
        .catch(() => { out.textContent = "Could not check the schedule."; });
    };
    inp.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 250); });
    check();
  });
});
