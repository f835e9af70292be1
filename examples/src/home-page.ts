import type { DemoFeature } from './features';

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The `/` page: routes with curl lines, and event counters that refresh every second. */
export function homePage(features: DemoFeature[], port: number): string {
  const sections = features
    .map(
      (f) => `<section><h2>${escape(f.name)}</h2><table>${f.routes
        .map(
          (r) =>
            `<tr><td><code>${escape(r.method)}</code></td><td><code>${escape(r.path)}</code></td><td>${escape(
              r.description,
            )}</td><td><code>${escape(r.curl.replaceAll('$PORT', String(port)))}</code></td></tr>`,
        )
        .join('')}</table></section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rediskit demo</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
code{font-size:13px}#state{font-weight:bold}.ready{color:#070}.degraded,.connecting{color:#b00}
#counters td:last-child,#panels td:last-child{text-align:right;font-variant-numeric:tabular-nums}
</style></head><body>
<h1>rediskit demo</h1>
<p>Context state: <span id="state">?</span> · Redis: <code id="redis"></code></p>
<div style="display:flex;gap:3rem;flex-wrap:wrap">
<div><h2>Event counters</h2><table id="counters"><tr><td>waiting for events…</td></tr></table></div>
<div><h2>Live</h2><table id="panels"></table></div>
</div>
${sections}
<script>
async function refresh(){
  try{
    const s = await (await fetch('/demo/stats')).json();
    const st = document.getElementById('state'); st.textContent = s.state; st.className = s.state;
    document.getElementById('redis').textContent = s.redis;
    const rows = Object.entries(s.counters).sort();
    document.getElementById('counters').innerHTML = rows.length
      ? rows.map(([k,v]) => '<tr><td><code>'+k+'</code></td><td>'+v+'</td></tr>').join('')
      : '<tr><td>no events yet: try the curl lines below</td></tr>';
    const panels = Object.entries(s.panels).flatMap(([f,vals]) => Object.entries(vals).map(([k,v]) => [f+' · '+k, typeof v === 'object' ? JSON.stringify(v) : v]));
    document.getElementById('panels').innerHTML = panels.map(([k,v]) => '<tr><td>'+k+'</td><td><code>'+String(v).replace(/</g,'&lt;')+'</code></td></tr>').join('');
  }catch(e){ document.getElementById('state').textContent = 'demo server unreachable'; }
}
refresh(); setInterval(refresh, 1000);
</script>
</body></html>`;
}
