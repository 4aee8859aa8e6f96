// Operator page: signs in once with the operator token (the server keeps it
// in an HttpOnly cookie), then follows the trainer's live events
// (Server-Sent Events on /api/events): a snapshot of every job and node on
// each (re)connect, then one event per job change and per node change. No
// polling and no reloads: the page only fetches on the operator's actions.
'use strict';

const $ = (id) => document.getElementById(id);
const ACTIVE = ['receiving', 'queued', 'claimed', 'training', 'rendering'];

const state = {
  config: null,
  jobs: new Map(),      // id -> job as the trainer last described it
  nodes: [],
  events: null,         // the EventSource
  countdownTimer: null,
};

// Small DOM builder: text always goes in as text, never as HTML.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401 && path !== '/api/login') showLogin('Signed out: enter the operator token again.');
  return { ok: res.ok, status: res.status, data };
}

function fmtDuration(s) {
  if (!(s > 0)) return '';
  s = Math.round(s);
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
}

// --- sign-in ---

function showLogin(message) {
  if (state.events) { state.events.close(); state.events = null; }
  setLive(false, 'signed out');
  $('app').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('login-msg').textContent = message || '';
  $('token').focus();
}

async function signIn(event) {
  event.preventDefault();
  $('login-button').disabled = true;
  const r = await api('POST', '/api/login', { token: $('token').value.trim() });
  $('login-button').disabled = false;
  if (!r.ok) {
    $('login-msg').textContent = (r.data && r.data.error) || `sign-in failed (${r.status})`;
    return;
  }
  $('token').value = '';
  await openBooth();
}

async function signOut() {
  await api('POST', '/api/logout', {});
  showLogin('Signed out.');
}

// --- the booth ---

async function openBooth() {
  const r = await api('GET', '/api/config');
  if (!r.ok) {
    if (r.status !== 401) showLogin((r.data && r.data.error) || `trainer answered ${r.status}`);
    return;
  }
  state.config = r.data;
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  const select = $('choreo');
  select.replaceChildren(...state.config.choreographies.map((c) => el('option', { value: c, text: c })));
  $('seconds').value = state.config.default_capture_seconds;
  $('budget').max = state.config.max_budget_seconds;
  $('budget').placeholder = String(state.config.default_budget_seconds);
  $('budget-hint').textContent =
    `Job budget (training and rendering): empty = ${state.config.default_budget_seconds} s, at most ${state.config.max_budget_seconds} s. ` +
    `Clip links: ${state.config.public_url}/c/…`;
  connect();
}

function setLive(on, text) {
  $('live').dataset.state = on ? 'on' : 'off';
  $('live').textContent = text;
}

// The job database's state ({available, error}): while it cannot be
// reached, a banner says so (the jobs shown are the last known).
function setDatabase(db) {
  const banner = $('database');
  const down = db && db.available === false;
  banner.hidden = !down;
  banner.textContent = down ? `Database unavailable: ${db.error || 'no answer'}. ` +
    'Jobs shown as last known; nothing is lost, the trainer reconnects.' : '';
}

function connect() {
  if (state.events) state.events.close();
  const es = new EventSource('/api/events');
  state.events = es;
  es.addEventListener('open', () => setLive(true, 'live'));
  es.addEventListener('snapshot', (e) => {
    const snap = JSON.parse(e.data);
    // With the database unreachable the snapshot lists no jobs: keep the
    // last known ones on the page rather than showing an empty booth.
    const down = snap.database && snap.database.available === false;
    if (!down || snap.jobs.length > 0) state.jobs = new Map(snap.jobs.map((j) => [j.id, j]));
    state.nodes = snap.nodes;
    setDatabase(snap.database);
    render();
  });
  es.addEventListener('database', (e) => setDatabase(JSON.parse(e.data)));
  es.addEventListener('job', (e) => {
    const job = JSON.parse(e.data);
    state.jobs.set(job.id, job);
    renderJobs();
  });
  es.addEventListener('nodes', (e) => {
    state.nodes = JSON.parse(e.data);
    renderNodes();
  });
  es.addEventListener('error', async () => {
    setLive(false, 'reconnecting…');
    if (es.readyState === EventSource.CLOSED) {
      // The server refused the stream (signed out, or too many pages open):
      // find out which, then try again.
      const r = await api('GET', '/api/config');
      if (r.ok) setTimeout(connect, 3000);
    }
  });
}

async function startSession(event) {
  event.preventDefault();
  $('start-msg').textContent = '';
  const body = { seconds: Number($('seconds').value), choreography: $('choreo').value };
  if ($('budget').value !== '') body.budget_seconds = Number($('budget').value);
  body.may_improve_booth = $('improve').checked;
  $('start').disabled = true;
  const r = await api('POST', '/api/sessions', body);
  $('start').disabled = false;
  if (!r.ok) {
    $('start-msg').textContent = (r.data && r.data.error) || `the trainer refused (${r.status})`;
    return;
  }
  state.jobs.set(r.data.id, r.data);
  $('improve').checked = false;  // asked again for every visitor
  renderJobs();
  countdown(body.seconds);
}

// A countdown the visitor can see from the capture area.
function countdown(seconds) {
  clearInterval(state.countdownTimer);
  const end = Date.now() + seconds * 1000;
  const box = $('countdown');
  const tick = () => {
    const left = Math.ceil((end - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(state.countdownTimer);
      $('countdown-number').textContent = '✓';
      $('countdown-sub').textContent = 'Thank you! Your clip is on its way.';
      setTimeout(() => { box.hidden = true; }, 2500);
      return;
    }
    $('countdown-number').textContent = left;
    $('countdown-sub').textContent = left === 1 ? 'second left' : 'seconds left';
  };
  box.hidden = false;
  renderPerformers($('countdown-cameras'), state.nodes);
  tick();
  state.countdownTimer = setInterval(tick, 200);
}

async function cancelJob(id, button) {
  button.disabled = true;
  button.textContent = 'cancelling…';
  const r = await api('DELETE', `/api/jobs/${encodeURIComponent(id)}`);
  if (!r.ok) {
    button.disabled = false;
    button.textContent = 'Cancel';
    $('start-msg').textContent = (r.data && r.data.error) || `cancel failed (${r.status})`;
  }
}

async function deleteData(id, button) {
  if (!confirm('Delete this visitor\'s frames, poses, model and clip now? The link stops working.')) return;
  button.disabled = true;
  const r = await api('DELETE', `/api/jobs/${encodeURIComponent(id)}/data`);
  if (!r.ok) {
    button.disabled = false;
    $('start-msg').textContent = (r.data && r.data.error) || `delete failed (${r.status})`;
  } else {
    state.jobs.set(id, r.data);
    renderJobs();
  }
}

// --- rendering (keyed: rows and cards are updated in place) ---

function render() { renderNodes(); renderJobs(); }

function renderNodes() {
  if (!$('countdown').hidden) renderPerformers($('countdown-cameras'), state.nodes);
  const box = $('nodes');
  $('start').disabled = state.nodes.length === 0;
  if (state.nodes.length === 0) {
    box.replaceChildren(el('p', { class: 'empty', text: 'No capture node connected: start capture_node --trainer … on the booth.' }));
    return;
  }
  box.replaceChildren(...state.nodes.map((n) => el('div', { class: 'node', 'data-node': n.node_id },
    el('div', { class: 'node-title', text: n.node_id }),
    el('div', { class: 'node-sub', text: `pose: ${n.pose_source || '?'} · ${n.cameras.length} camera(s)` }),
    ...n.cameras.map((c) => el('div', { class: 'camera', 'data-camera': c.camera_id },
      el('span', { text: `${c.camera_id} · ${c.kind}${c.pixel_format ? ' ' + c.pixel_format : ''} · ${c.width}×${c.height} @ ${c.fps} fps${c.state ? ' · ' + c.state : ''}` }),
      el('span', { class: 'fps', title: 'frames per second delivered recently', text: `${(c.measured_fps || 0).toFixed(1)} fps` }),
      el('span', { class: 'drops', 'data-bad': c.dropped > 0 ? '1' : '0', title: 'frames dropped', text: `${c.dropped} dropped` }))))));
}

function renderJobs() {
  const jobs = [...state.jobs.values()];
  const active = jobs.filter((j) => ACTIVE.includes(j.state)).sort((a, b) => a.created_ms - b.created_ms);
  const finished = jobs.filter((j) => !ACTIVE.includes(j.state)).sort((a, b) => b.updated_ms - a.updated_ms);
  renderQueue(active);
  renderFinished(finished);
}

function progressText(j) {
  if (j.state === 'training') {
    return `generator ${j.generator_steps} steps · ${j.generator_steps_per_second.toFixed(2)}/s · face GAN ${j.face_steps} steps · ${j.face_steps_per_second.toFixed(1)}/s · G ${j.loss_g.toFixed(3)} · D ${j.loss_d.toFixed(3)} · L1 ${j.loss_l1.toFixed(3)}`;
  }
  if (j.state === 'receiving') return `${j.frames_received} frames received`;
  return '';
}

// How long is left: a running job's own estimate; for a queued one, about
// how long until a live worker takes it (the server counts the workers).
function etaText(j) {
  if (j.state === 'queued') {
    if (j.live_workers === 0) return 'no worker is running';
    if (j.queue_wait_seconds > 0) return `about ${fmtDuration(j.queue_wait_seconds)} until a worker takes it`;
    return '';
  }
  return j.eta_seconds > 0 ? `about ${fmtDuration(j.eta_seconds)} left` : '';
}

function renderQueue(active) {
  const body = $('queue-body');
  $('queue-empty').hidden = active.length > 0;
  $('queue').hidden = active.length === 0;
  let queued = 0;
  const rows = active.map((j) => {
    const pos = j.state === 'queued' ? String(++queued) : (j.state === 'receiving' ? '' : '▶');
    let row = body.querySelector(`tr[data-job="${CSS.escape(j.id)}"]`);
    if (!row) {
      const cancel = el('button', { class: 'danger', type: 'button', text: 'Cancel' });
      cancel.addEventListener('click', () => cancelJob(j.id, cancel));
      row = el('tr', { 'data-job': j.id, id: `job-${j.id}` },
        el('td', { class: 'pos' }),
        el('td', {}, el('div', { class: 'job-id', text: j.id }),
          el('div', { class: 'detail', text: `${new Date(j.created_ms).toLocaleTimeString()} · ${j.choreography || 'default'}` })),
        el('td', {}, el('span', { class: 'state' })),
        el('td', {}, el('div', { class: 'detail what' }), el('div', { class: 'bar' }, el('div')),
          el('div', { class: 'eta' }), el('div', { class: 'detail numbers' })),
        el('td', {}, cancel));
    }
    row.querySelector('.pos').textContent = pos;
    const badge = row.querySelector('.state');
    badge.textContent = j.state;
    badge.dataset.state = j.state;
    row.querySelector('.what').textContent = j.detail;
    const bar = row.querySelector('.bar');
    bar.hidden = !(j.state === 'training' || j.state === 'rendering');
    bar.firstChild.style.width = `${Math.round(Math.min(1, Math.max(0, j.progress)) * 100)}%`;
    bar.dataset.progress = j.progress.toFixed(3);
    row.querySelector('.eta').textContent = etaText(j);
    row.querySelector('.numbers').textContent = progressText(j);
    return row;
  });
  body.replaceChildren(...rows);
}

function renderFinished(finished) {
  const box = $('finished');
  $('finished-empty').hidden = finished.length > 0;
  const cards = finished.slice(0, 60).map((j) => {
    const key = `${j.id}:${j.state}:${j.expired}:${j.may_improve_booth}:${j.frames_kept}`;
    let card = box.querySelector(`div.clip[data-job="${CSS.escape(j.id)}"]`);
    if (card && card.dataset.key === key) return card;
    card = el('div', { class: 'clip', 'data-job': j.id, 'data-state': j.state, 'data-key': key, id: `clip-${j.id}` },
      el('div', { class: 'clip-head' }, el('span', { text: j.id }), el('span', { class: 'state', 'data-state': j.state, text: j.expired ? 'expired' : j.state })));
    if (j.state === 'done' && j.page_url) {
      card.append(
        el('img', { class: 'qr', src: `/api/jobs/${encodeURIComponent(j.id)}/qr.svg`, alt: `QR code of ${j.page_url}` }),
        el('a', { class: 'page-link', href: j.page_url, target: '_blank', rel: 'noopener', text: j.page_url }),
        el('div', { class: 'detail', text: `${j.clip.width}×${j.clip.height}, ${j.clip.frames} frames, ${(j.clip.bytes / 1e6).toFixed(1)} MB · trained ${fmtDuration(j.timings.train_seconds)}: ${j.generator_steps} generator steps, ${j.face_steps} face-GAN steps` }));
    } else if (j.state === 'failed' || j.state === 'cancelled') {
      card.append(el('div', { class: 'why', text: j.error || j.detail }));
    } else if (j.frames_kept) {
      card.append(el('div', { class: 'detail', text: 'The clip was deleted; the visitor agreed that the booth keeps their frames and poses to improve it.' }));
    } else if (j.expired) {
      card.append(el('div', { class: 'detail', text: 'The visitor\'s data was deleted; the link no longer works.' }));
    }
    if (j.may_improve_booth || j.consent_withdrawn) {
      card.append(el('div', { class: 'detail consent', text: j.may_improve_booth ? 'may improve the booth' : 'consent withdrawn' }));
    }
    if (!j.expired || j.frames_kept) {
      const del = el('button', { class: 'danger', type: 'button', text: 'Delete visitor data' });
      del.addEventListener('click', () => deleteData(j.id, del));
      card.append(del);
    }
    return card;
  });
  box.replaceChildren(...cards);
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', signIn);
  $('start-form').addEventListener('submit', startSession);
  $('logout').addEventListener('click', signOut);
  openBooth();
});
