// The performer each camera's tracker picked, drawn on the countdown: per
// camera a small frame diagram (the page has no camera image) with the
// performance zone (the floor mark) and the performer's box, so that a
// wrong pick (a friend beside the dancer, nobody on the mark) is seen while
// the visitor still dances. The boxes come with the live node events
// (camera.performer: {seen, sequence, box, zone}, fractions of the frame).
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

// A rectangle given as fractions of a w x h frame; nothing when malformed.
function fractionRect(r, w, h, cls) {
  const ok = (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;
  if (!r || !ok(r.x) || !ok(r.y) || !ok(r.width) || !ok(r.height)) return null;
  return svgEl('rect', { class: cls, x: r.x * w, y: r.y * h, width: r.width * w, height: r.height * h });
}

function performerCaption(p) {
  if (!p) return 'waiting for the first posed frame';
  return p.seen ? 'performer' : 'no performer found: is the dancer on the mark?';
}

// Fills `box` with one diagram per camera of every node.
function renderPerformers(box, nodes) {
  const diagrams = [];
  for (const n of nodes) {
    for (const c of n.cameras) {
      const w = c.width > 0 ? c.width : 4;
      const h = c.height > 0 ? c.height : 3;
      const p = c.performer;
      const svg = svgEl('svg', { viewBox: `0 0 ${w} ${h}`, class: 'frame-diagram', role: 'img' });
      svg.append(svgEl('rect', { class: 'frame', x: 0, y: 0, width: w, height: h }));
      const zone = p && fractionRect(p.zone, w, h, 'zone');
      if (zone) svg.append(zone);
      const body = p && p.seen && fractionRect(p.box, w, h, 'performer');
      if (body) svg.append(body);
      const figure = document.createElement('figure');
      figure.className = 'camera-performer';
      figure.dataset.node = n.node_id;
      figure.dataset.camera = c.camera_id;
      figure.dataset.seen = p && p.seen ? '1' : '0';
      const caption = document.createElement('figcaption');
      caption.textContent = `${n.node_id} · ${c.camera_id}: ${performerCaption(p)}`;
      figure.append(svg, caption);
      diagrams.push(figure);
    }
  }
  box.replaceChildren(...diagrams);
}
