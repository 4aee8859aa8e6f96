#include "trainer_node/http/operator_page.h"

namespace booth {

const std::string& operatorPageHtml() {
  static const std::string html = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Dance booth: operator</title>
<style>
 body{font-family:system-ui,sans-serif;margin:0;background:#14161c;color:#e8e8ea}
 header{padding:14px 22px;background:#1f232d;display:flex;gap:18px;align-items:center;flex-wrap:wrap}
 h1{font-size:20px;margin:0 12px 0 0}
 main{padding:18px 22px;display:grid;gap:18px}
 button{font-size:18px;padding:10px 26px;border:0;border-radius:8px;background:#2fbf71;color:#fff;cursor:pointer}
 button:disabled{background:#555;cursor:default}
 label{font-size:14px;color:#aab}
 input,select{font-size:15px;padding:5px;border-radius:5px;border:1px solid #444;background:#0f1116;color:#eee;width:6em}
 select{width:auto}
 table{border-collapse:collapse;width:100%}
 td,th{padding:8px 10px;border-bottom:1px solid #2a2f3a;text-align:left;vertical-align:top;font-size:14px}
 .state{font-weight:600;text-transform:uppercase;font-size:12px;padding:3px 8px;border-radius:10px;background:#333}
 .done{background:#1d6b42}.failed{background:#8a2530}.training{background:#6b4f1d}.rendering{background:#2d4f8a}
 .bar{height:6px;background:#333;border-radius:3px;margin-top:5px;width:220px}.bar>div{height:6px;background:#2fbf71;border-radius:3px}
 #msg{color:#f77;min-height:1em}
 a{color:#7cc4ff}
 .nodes{font-size:13px;color:#aab}
 img.qr{width:120px;height:120px;background:#fff}
 #countdown{font-size:40px;font-weight:700;color:#2fbf71}
</style></head><body>
<header>
 <h1>Dance booth</h1>
 <label>Capture seconds <input id="seconds" type="number" min="1" max="120" value="15"></label>
 <label>Training budget s <input id="budget" type="number" min="0" placeholder="default"></label>
 <label>Choreography <select id="choreo"><option value="">default</option></select></label>
 <button id="start">Start</button>
 <span id="countdown"></span>
 <span id="msg"></span>
</header>
<main>
 <section><div class="nodes" id="nodes">looking for capture nodes…</div></section>
 <section><table><thead><tr><th>Job</th><th>State</th><th>Progress</th><th>Clip</th></tr></thead><tbody id="jobs"></tbody></table></section>
</main>
<script>
const $ = id => document.getElementById(id);
const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
function fmtEta(s){ if(!s) return ''; s=Math.round(s); return s>=60 ? Math.floor(s/60)+'m '+(s%60)+'s' : s+'s'; }
async function refresh(){
  try{
    const nodes = await (await fetch('/api/nodes')).json();
    $('nodes').textContent = nodes.length ? 'Capture nodes: ' + nodes.map(n => n.node_id + ' (' + n.cameras.map(c => c.camera_id + ' ' + c.kind + ' ' + c.width + 'x' + c.height + '@' + c.fps).join(', ') + '; pose ' + n.pose_source + ')').join(' · ') : 'No capture node connected: start capture_node.';
    $('start').disabled = !nodes.length;
    const jobs = await (await fetch('/api/jobs')).json();
    $('jobs').innerHTML = jobs.map(j => {
      let prog = esc(j.detail);
      if (j.state==='training') prog += '<br>iter ' + j.iterations + ' · G ' + j.loss_g.toFixed(3) + ' · D ' + j.loss_d.toFixed(3) + ' · L1 ' + j.loss_l1.toFixed(3) + ' · ' + j.iterations_per_second.toFixed(2) + ' it/s';
      if (j.eta_seconds>0) prog += '<br>about ' + fmtEta(j.eta_seconds) + ' left';
      if (j.state==='training'||j.state==='rendering') prog += '<div class="bar"><div style="width:' + Math.round(j.progress*100) + '%"></div></div>';
      let clip = '';
      if (j.clip_url) clip = '<a href="' + esc(j.clip_url) + '" target="_blank">' + esc(j.clip_url) + '</a><br><img class="qr" src="/api/jobs/' + encodeURIComponent(j.id) + '/qr.svg" alt="QR code">';
      return '<tr><td>' + esc(j.id) + '<br><small>' + new Date(j.created_ms).toLocaleTimeString() + ' · ' + j.frames_received + ' frames</small></td><td><span class="state ' + esc(j.state) + '">' + esc(j.state) + '</span></td><td>' + prog + '</td><td>' + clip + '</td></tr>';
    }).join('');
  }catch(e){ $('msg').textContent = 'trainer not reachable: ' + e; }
}
async function loadChoreos(){
  try{ const list = await (await fetch('/api/choreographies')).json();
    for (const c of list){ const o=document.createElement('option'); o.value=o.textContent=c; $('choreo').appendChild(o); } }catch(e){}
}
$('start').onclick = async () => {
  $('msg').textContent='';
  const body = {seconds: Number($('seconds').value)};
  if ($('budget').value) body.budget_seconds = Number($('budget').value);
  if ($('choreo').value) body.choreography = $('choreo').value;
  const r = await fetch('/api/sessions', {method:'POST', headers:{'Content-Type':'application/json'}, body: JSON.stringify(body)});
  const j = await r.json();
  if (!r.ok){ $('msg').textContent = j.error; return; }
  let left = body.seconds;
  $('countdown').textContent = left;
  const t = setInterval(() => { left--; $('countdown').textContent = left > 0 ? left : ''; if (left <= 0) clearInterval(t); }, 1000);
  refresh();
};
loadChoreos(); refresh(); setInterval(refresh, 1000);
</script></body></html>
)HTML";
  return html;
}

}  // namespace booth
