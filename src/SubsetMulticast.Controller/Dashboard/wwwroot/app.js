// The tsm dashboard: draws the fabric from the controller's server-sent event stream (/dashboard/events) and
// keeps it live. Plain JS and SVG, embedded in the controller; nothing is fetched from elsewhere.
// The stream sends "snapshot" (everything), then "group" (created/refreshed/released/expired), "fabric"
// (topology, hosts or reference groups changed) and "figures".
'use strict';
(() => {
  const SVGNS = 'http://www.w3.org/2000/svg';
  const HOSTS_DRAWN_MAX = 600;   // above this, each switch's hosts are drawn as one counted box (aggregation)
  const LIST_MAX = 300;
  const LINKS_AS_ELEMENTS = 2000; // above, links are drawn as one path per kind          // rows of the group list; the rest is counted (filter to find one)
  const $ = id => document.getElementById(id);
  const esc = s => String(s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const natural = new Intl.Collator('en', { numeric: true }).compare;
  const key = (sw, port) => sw + ':' + port;

  const state = {
    topology: null, references: [], groups: new Map(), figures: null, audit: { available: false, switches: [] },
    layout: null, selected: null, selectedRef: null, clockSkewMs: 0, filter: '',
  };
  // Figures the tests and the scale harness read: time to first render, per-update handling and to next frame.
  const stats = window.tsmDashboard = {
    firstRenderMs: null, snapshotRenderMs: null, snapshotPaintMs: null, lastUpdateMs: null, lastUpdateFrameMs: null, maxUpdateMs: 0,
    updates: 0, snapshots: 0, fabricUpdates: 0, switchesDrawn: 0, linksDrawn: 0, hostsAggregated: false,
    snapshotBytes: 0, selectMs: null, zoomFrameMs: null, updateMs: [], updateFrameMs: [],
  };
  const afterPaint = (t0, done) => requestAnimationFrame(() => setTimeout(() => done(performance.now() - t0), 0));
  const keep = (list, v) => { if (list.length < 10000) list.push(v); };

  // ---------- layout ----------

  // Tiers: a switch's tier is its hop distance from the nearest switch with hosts (leaves 0, spines 1, cores 2);
  // with no hosts known, the distance from the tree root, root on top. Within a tier, switches are ordered by
  // the mean position of their neighbours one tier down (fewer crossings), then by name.
  function layout(topology) {
    const ids = topology.switches.map(s => s.id);
    const index = new Map(ids.map((id, i) => [id, i]));
    const adj = ids.map(() => []);
    for (const l of topology.links) {
      const a = index.get(l.a.switch), b = index.get(l.b.switch);
      if (a === undefined || b === undefined) continue;
      adj[a].push(b); adj[b].push(a);
    }
    // One dot per host port: a host's IPv4 and IPv6 addresses (and hosts behind one port) share it.
    const hostsBySwitch = ids.map(() => []);
    const byPort = new Map();
    for (const h of topology.hosts) {
      const i = index.get(h.switch);
      if (i === undefined) continue;
      const k = key(h.switch, h.port);
      let at = byPort.get(k);
      if (!at) { at = { switch: h.switch, port: h.port, hosts: [] }; byPort.set(k, at); hostsBySwitch[i].push(at); }
      at.hosts.push(h);
    }
    for (const hs of hostsBySwitch) hs.sort((x, y) => x.port - y.port);
    const dist = new Array(ids.length).fill(-1);
    let queue = [];
    hostsBySwitch.forEach((hs, i) => { if (hs.length > 0) { dist[i] = 0; queue.push(i); } });
    let invert = false;
    if (queue.length === 0) {
      const root = topology.switches.findIndex(s => s.root);
      if (root >= 0) { dist[root] = 0; queue.push(root); invert = true; }
    }
    for (let head = 0; head < queue.length; head++) {
      const i = queue[head];
      for (const j of adj[i]) if (dist[j] < 0) { dist[j] = dist[i] + 1; queue.push(j); }
    }
    let maxTier = 0;
    for (let i = 0; i < dist.length; i++) { if (dist[i] < 0) dist[i] = 0; maxTier = Math.max(maxTier, dist[i]); }
    if (invert) for (let i = 0; i < dist.length; i++) dist[i] = maxTier - dist[i];
    const tiers = [];
    for (let t = 0; t <= maxTier; t++) tiers.push([]);
    dist.forEach((t, i) => tiers[t].push(i));

    const totalHosts = byPort.size;
    const aggregate = totalHosts > HOSTS_DRAWN_MAX;
    const hostStep = 16;
    const maxHostsOnOne = Math.max(0, ...hostsBySwitch.map(h => h.length));
    const edgeSlot = aggregate || maxHostsOnOne === 0 ? 64 : Math.max(64, maxHostsOnOne * hostStep + 16);
    const slot = tier => tier === 0 ? edgeSlot : 64;
    const width = Math.max(...tiers.map((ts, t) => ts.length * slot(t)), 200);
    const pos = new Array(ids.length);
    // Tall enough that the whole fabric fits a landscape view at about 2:1; a wide fabric gets tall tiers
    // rather than a flat strip (zoom in for names).
    const tierGap = Math.max(110, (width * 0.45 - 110) / Math.max(1, maxTier + 0.5));
    tiers[0].sort((a, b) => natural(ids[a], ids[b]));
    for (let t = 0; t <= maxTier; t++) {
      const ts = tiers[t];
      if (t > 0) {
        const bary = new Map(ts.map(i => {
          const below = adj[i].filter(j => dist[j] === t - 1).map(j => pos[j].x);
          return [i, below.length ? below.reduce((s, x) => s + x, 0) / below.length : Infinity];
        }));
        ts.sort((a, b) => (bary.get(a) - bary.get(b)) || natural(ids[a], ids[b]));
      }
      const step = width / ts.length;
      ts.forEach((i, k) => { pos[i] = { x: step * (k + 0.5), y: (maxTier - t) * tierGap + 40 }; });
    }
    const hostY = maxTier * tierGap + 40 + 70;
    const hostPos = new Map();
    hostsBySwitch.forEach((hs, i) => {
      if (aggregate) return;
      const n = hs.length;
      hs.forEach((h, k) => hostPos.set(key(h.switch, h.port), { x: pos[i].x + (k - (n - 1) / 2) * hostStep, y: hostY + (k % 2) * 14 }));
    });
    return { ids, index, pos, hostsBySwitch, hostPos, aggregate, width, height: hostY + 50, hostY };
  }

  // ---------- drawing ----------

  function drawFabric() {
    const t0 = performance.now();
    const topo = state.topology;
    const L = state.layout = layout(topo);
    const audit = new Map(state.audit.available ? state.audit.switches.map(a => [a.switch, a.status]) : []);
    const parts = [];   // links and hosts, under the overlay
    const nodes = [];   // switches, over it
    // Up to LINKS_AS_ELEMENTS links, one <line> each (hover shows the ports); above, two paths (forwarding,
    // blocked) with every link a segment: the browser paints two items instead of thousands.
    const bundled = topo.links.length > LINKS_AS_ELEMENTS;
    const segs = { false: [], true: [] };
    for (const l of topo.links) {
      const a = L.pos[L.index.get(l.a.switch)], b = L.pos[L.index.get(l.b.switch)];
      if (!a || !b) continue;
      if (bundled) { segs[l.blocked].push(`M${a.x} ${a.y}L${b.x} ${b.y}`); continue; }
      parts.push(`<line class="link${l.blocked ? ' blocked' : ''}" data-a="${esc(key(l.a.switch, l.a.port))}" data-b="${esc(key(l.b.switch, l.b.port))}" data-blocked="${l.blocked}" x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}"><title>${esc(key(l.a.switch, l.a.port))} — ${esc(key(l.b.switch, l.b.port))}${l.blocked ? ' (blocked by the tree)' : ''}</title></line>`);
    }
    if (bundled) {
      for (const blocked of [false, true])
        if (segs[blocked].length) parts.push(`<path class="link${blocked ? ' blocked' : ''} bundle" data-links="${segs[blocked].length}" d="${segs[blocked].join('')}"/>`);
    }
    L.hostsBySwitch.forEach((hs, i) => {
      if (hs.length === 0) return;
      const p = L.pos[i];
      if (L.aggregate) {
        parts.push(`<line class="hostlink" x1="${p.x}" y1="${p.y}" x2="${p.x}" y2="${L.hostY}"/>`,
          `<g class="hostcount" data-switch="${esc(L.ids[i])}" data-ports="${hs.length}"><title>${esc(L.ids[i])}: ${hs.length} host ports</title><rect x="${p.x - 14}" y="${L.hostY - 7}" width="28" height="14"/><text x="${p.x}" y="${L.hostY}">${hs.length}</text></g>`);
        return;
      }
      for (const at of hs) {
        const hp = L.hostPos.get(key(at.switch, at.port));
        const ips = at.hosts.map(h => h.ip);
        const title = at.hosts.map(h => `${h.ip} (${h.mac}, VLAN ${h.vlan})`).join('\n');
        parts.push(`<line class="hostlink" x1="${p.x}" y1="${p.y}" x2="${hp.x}" y2="${hp.y}"/>`,
          `<g class="host" data-ips="${esc(ips.join(' '))}" data-switch="${esc(at.switch)}" data-port="${at.port}"><title>${esc(at.switch)} port ${at.port}\n${esc(title)}</title><circle cx="${hp.x}" cy="${hp.y}" r="5"/></g>`);
      }
    });
    topo.switches.forEach((s, i) => {
      const p = L.pos[i];
      const status = audit.get(s.id);
      const label = s.id.length > 9 ? s.id.slice(0, 8) + '…' : s.id;
      nodes.push(`<g class="switch${s.root ? ' root' : ''}${status ? ' audit-' + esc(status) : ''}" data-id="${esc(s.id)}"><title>${esc(s.id)} · bridge ${esc(s.bridgeId)}${s.root ? ' · tree root' : ` · root port ${s.rootPort}`} · ports ${esc(s.ports.join(','))}${status ? ' · audit ' + esc(status) : ''}</title><rect x="${p.x - 26}" y="${p.y - 10}" width="52" height="20"/><text x="${p.x}" y="${p.y}">${esc(label)}</text></g>`);
    });
    $('base').innerHTML = parts.join('');
    $('nodes').innerHTML = nodes.join('');
    stats.switchesDrawn = topo.switches.length;
    stats.linksDrawn = topo.links.length;
    stats.linksBundled = bundled;
    stats.hostsAggregated = L.aggregate;
    const blocked = topo.links.filter(l => l.blocked).length;
    const hostPorts = L.hostsBySwitch.reduce((n, hs) => n + hs.length, 0);
    $('fabric-summary').textContent = `${topo.switches.length} switches · ${topo.links.length} links (${blocked} blocked by the tree) · ${hostPorts} host ports (${topo.hosts.length} addresses)` +
      (L.aggregate ? ' · hosts aggregated per switch (zoom for labels)' : '');
    fit();
    drawOverlay();
    return performance.now() - t0;
  }

  // Where a switch port leads: half the link toward the neighbour, the host it attaches, or a stub below.
  function portSegment(sw, port) {
    const L = state.layout;
    const i = L.index.get(sw);
    if (i === undefined) return null;
    const p = L.pos[i];
    if (!state.linkEnds) indexPorts();
    const far = state.linkEnds.get(key(sw, port));
    if (far) { const q = L.pos[L.index.get(far)]; return { x1: p.x, y1: p.y, x2: (p.x + q.x) / 2, y2: (p.y + q.y) / 2, to: far }; }
    const hosts = state.hostsAt.get(key(sw, port));
    if (hosts) {
      if (L.aggregate) return { x1: p.x, y1: p.y, x2: p.x, y2: L.hostY - 7, to: hosts.map(h => h.ip).join(' ') };
      const hp = L.hostPos.get(key(sw, port));
      return { x1: p.x, y1: p.y, x2: hp.x, y2: hp.y, to: hosts.map(h => h.ip).join(' ') };
    }
    return { x1: p.x, y1: p.y + 10, x2: p.x, y2: p.y + 34, to: null, stub: true };
  }

  function indexPorts() {
    state.linkEnds = new Map();
    for (const l of state.topology.links) {
      state.linkEnds.set(key(l.a.switch, l.a.port), l.b.switch);
      state.linkEnds.set(key(l.b.switch, l.b.port), l.a.switch);
    }
    state.hostsAt = new Map();
    state.hostByIp = new Map();
    for (const h of state.topology.hosts) {
      const k = key(h.switch, h.port);
      if (!state.hostsAt.has(k)) state.hostsAt.set(k, []);
      state.hostsAt.get(k).push(h);
      state.hostByIp.set(h.vlan + '/' + h.ip, h);
    }
  }

  function drawOverlay() {
    const parts = [];
    const labels = []; // port numbers, over the switches
    const L = state.layout;
    if (!L) return;
    const portLines = (switches, ports, cls) => {
      for (const s of switches) {
        const i = L.index.get(s.id);
        if (i === undefined) continue;
        const p = L.pos[i];
        parts.push(`<rect class="sw-hl ${cls}" x="${p.x - 29}" y="${p.y - 13}" width="58" height="26" rx="4" data-switch="${esc(s.id)}"/>`);
        for (const port of s[ports]) {
          const seg = portSegment(s.id, port);
          if (!seg) continue;
          if (!seg.stub) { // start at the switch box's edge: the overlay is drawn over the switches
            const dx = seg.x2 - seg.x1, dy = seg.y2 - seg.y1;
            const t = Math.min(dx ? 26 / Math.abs(dx) : Infinity, dy ? 10 / Math.abs(dy) : Infinity);
            if (t < 1) { seg.x1 += dx * t; seg.y1 += dy * t; }
          }
          parts.push(`<line class="port ${cls}" data-switch="${esc(s.id)}" data-port="${port}" x1="${seg.x1}" y1="${seg.y1}" x2="${seg.x2}" y2="${seg.y2}"><title>${esc(s.id)} port ${port}${seg.to ? ' → ' + esc(seg.to) : ''}</title></line>`);
          if (!L.aggregate || seg.stub) {
            const f = seg.stub ? 1 : Math.min(0.55, 34 / Math.max(1, Math.hypot(seg.x2 - seg.x1, seg.y2 - seg.y1)));
            const lx = seg.x1 + (seg.x2 - seg.x1) * f, ly = seg.y1 + (seg.y2 - seg.y1) * f + (seg.stub ? 9 : 0);
            labels.push(`<g class="port-label ${cls}"><rect x="${lx - 9}" y="${ly - 6}" width="18" height="12" rx="6"/><text x="${lx}" y="${ly}">${port}</text></g>`);
          }
        }
      }
    };
    const ref = state.selectedRef && state.references.find(r => refKey(r) === state.selectedRef);
    if (ref) portLines(ref.switches, 'memberPorts', 'ref');
    const g = state.selected && state.groups.get(state.selected);
    if (g) {
      portLines(g.switches, 'ports', 'tree');
      if (!L.aggregate) {
        const dot = (ip, cls) => {
          const h = state.hostByIp.get(g.vlan + '/' + ip);
          if (!h) return;
          const hp = L.hostPos.get(key(h.switch, h.port));
          if (hp) parts.push(`<circle class="${cls}" data-ip="${esc(ip)}" cx="${hp.x}" cy="${hp.y}" r="6"/>`);
        };
        for (const m of g.effective) dot(m, 'member');
        for (const m of g.ignored) dot(m.member, 'ignored');
      }
    }
    $('overlay').innerHTML = parts.join('');
    $('labels').innerHTML = labels.join('');
  }

  // ---------- pan and zoom (viewBox) ----------

  let view = { x: 0, y: 0, w: 1, h: 1 };
  function applyView() {
    const box = `${view.x} ${view.y} ${view.w} ${view.h}`;
    $('fabric').setAttribute('viewBox', box);
    $('fabric-overlay').setAttribute('viewBox', box);
    const pxPerUnit = $('graph').clientWidth / view.w;
    $('graph').classList.toggle('small-labels', pxPerUnit < 0.6);
  }
  function fit() {
    const L = state.layout;
    const svg = $('graph');
    const aspect = (svg.clientHeight || 400) / (svg.clientWidth || 800);
    const w = L.width + 40, h = L.height;
    if (h / w > aspect) view = { w: h / aspect, h, x: -20 - (h / aspect - w) / 2, y: 0 };
    else view = { w, h: w * aspect, x: -20, y: -(w * aspect - h) / 2 };
    applyView();
  }
  function wirePanZoom() {
    const svg = $('graph');
    svg.addEventListener('wheel', e => {
      e.preventDefault();
      const t0 = performance.now();
      afterPaint(t0, ms => { stats.zoomFrameMs = ms; });
      const r = svg.getBoundingClientRect();
      const fx = (e.clientX - r.left) / r.width, fy = (e.clientY - r.top) / r.height;
      const k = Math.exp(e.deltaY * 0.0015);
      const w = view.w * k, h = view.h * k;
      view = { x: view.x + (view.w - w) * fx, y: view.y + (view.h - h) * fy, w, h };
      applyView();
    }, { passive: false });
    let drag = null;
    svg.addEventListener('pointerdown', e => { drag = { x: e.clientX, y: e.clientY, v: { ...view } }; svg.classList.add('dragging'); svg.setPointerCapture(e.pointerId); });
    svg.addEventListener('pointermove', e => {
      if (!drag) return;
      const s = view.w / svg.clientWidth;
      view = { ...drag.v, x: drag.v.x - (e.clientX - drag.x) * s, y: drag.v.y - (e.clientY - drag.y) * s };
      applyView();
    });
    const end = () => { drag = null; svg.classList.remove('dragging'); };
    svg.addEventListener('pointerup', end);
    svg.addEventListener('pointercancel', end);
    svg.addEventListener('dblclick', () => state.layout && fit());
    window.addEventListener('resize', () => state.layout && fit());
  }

  // ---------- side panel ----------

  const refKey = r => r.vlan + '/' + r.group;
  const REASONS = {
    notInReferenceGroup: 'not in the reference group: it never joined, so it must not receive',
    unknownHost: 'unknown host: no ARP/ND seen from it, so no port leads to it',
  };

  function leaseText(g) {
    const left = Date.parse(g.expiresAt) - (Date.now() + state.clockSkewMs);
    return left > 0 ? `${(left / 1000).toFixed(left < 10000 ? 1 : 0)} s` : 'expiring';
  }

  let listQueued = false;
  function queueList() {
    if (listQueued) return;
    listQueued = true;
    requestAnimationFrame(() => { listQueued = false; drawList(); });
  }

  function drawList() {
    const f = state.filter;
    const all = [...state.groups.values()];
    const shown = f ? all.filter(g => g.group.includes(f) || g.id.includes(f) || g.members.some(m => m.includes(f))) : all;
    shown.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || natural(a.id, b.id));
    const rows = shown.slice(0, LIST_MAX).map(g =>
      `<li data-group-id="${esc(g.id)}"${g.id === state.selected ? ' class="selected"' : ''}><span class="addr">${esc(g.group)}</span>` +
      `<span class="meta">${g.effective.length}/${g.members.length} members · ${g.switches.length} sw${g.ignored.length ? ` · <b style="color:var(--ign)">${g.ignored.length} ignored</b>` : ''}</span>` +
      `<span class="lease" data-expires="${esc(g.expiresAt)}">${leaseText(g)}</span></li>`);
    if (shown.length > LIST_MAX) rows.push(`<li class="more">… and ${shown.length - LIST_MAX} more (filter to find one)</li>`);
    if (shown.length === 0) rows.push(`<li class="more">${all.length ? 'none match' : 'no live group — create one with POST /api/v1/groups'}</li>`);
    $('groups').innerHTML = rows.join('');
    $('group-count').textContent = `(${state.groups.size})`;
  }

  function drawReferences() {
    const rows = state.references.map(r => {
      const ports = r.switches.map(s => `${esc(s.id)}:[${s.memberPorts.join(',')}]`).join(' ');
      return `<li data-ref="${esc(refKey(r))}"${refKey(r) === state.selectedRef ? ' class="selected"' : ''}><span class="addr">${esc(r.group)}</span><span class="meta">VLAN ${r.vlan} · ${r.switches.length} switches</span></li>` +
        `<li class="more" style="display:block;font-family:ui-monospace,monospace;font-size:11px;cursor:default">${ports}</li>`;
    });
    $('references').innerHTML = rows.join('') || '<li class="more">none learned yet</li>';
    $('ref-count').textContent = `(${state.references.length})`;
  }

  function drawDetail(gone) {
    const pane = $('detail');
    if (!state.selected) { pane.hidden = true; return; }
    pane.hidden = false;
    const g = state.groups.get(state.selected);
    if (!g) {
      $('detail-title').textContent = state.selected;
      $('detail-body').innerHTML = `<p class="gone">${esc(gone || 'no longer live')}</p>`;
      return;
    }
    $('detail-title').textContent = g.group;
    const ignored = g.ignored.length
      ? `<ul class="ignored-list">${g.ignored.map(i => `<li data-member="${esc(i.member)}" data-reason="${esc(i.reason)}"><b>${esc(i.member)}</b> — ${esc(REASONS[i.reason] || i.reason)}</li>`).join('')}</ul>`
      : 'none';
    const rows = [...g.switches].sort((a, b) => natural(a.id, b.id))
      .map(s => `<tr data-switch="${esc(s.id)}"><td>${esc(s.id)}</td><td class="ports">${s.ports.join(', ')}</td></tr>`).join('');
    $('detail-body').innerHTML = `<dl>
      <dt>id</dt><dd>${esc(g.id)}</dd>
      <dt>address</dt><dd>${esc(g.group)} · ${esc(g.mac)} · VLAN ${g.vlan}</dd>
      <dt>reference</dt><dd>${esc(g.reference)}</dd>
      <dt>members</dt><dd>${g.members.map(esc).join(', ')}</dd>
      <dt>reached</dt><dd>${g.effective.map(esc).join(', ') || 'none'}</dd>
      <dt>ignored</dt><dd id="detail-ignored">${ignored}</dd>
      <dt>lease</dt><dd><span class="lease" data-expires="${esc(g.expiresAt)}">${leaseText(g)}</span> left of ${(g.ttlMs / 1000).toFixed(1)} s · v${g.version}</dd>
      <dt>setup</dt><dd id="detail-setup">${g.setupMicros != null ? g.setupMicros + ' µs' : 'before this page opened'}</dd>
    </dl>
    <table><thead><tr><th>switch</th><th>ports it got (${g.switches.length} switches)</th></tr></thead><tbody id="detail-switches">${rows}</tbody></table>`;
  }

  function drawFigures() {
    const f = state.figures;
    if (!f) return;
    $('fig-live').textContent = f.groupsLive;
    $('fig-rate').textContent = f.setupsPerSecond.toFixed(1);
    $('fig-p99').textContent = f.setupP99Micros != null ? f.setupP99Micros + ' µs' : '–';
    $('fig-p50').textContent = f.setupP50Micros != null ? f.setupP50Micros + ' µs' : '–';
    $('figures').title = `over the last ${f.windowSeconds} s (${f.setupsInWindow} setups); source: ${f.source}`;
    const a = state.audit;
    const bad = a.available ? a.switches.filter(s => s.status !== 'ok').length : 0;
    $('fig-audit').textContent = a.available ? (bad ? `${bad} switch(es) differ` : `${a.switches.length} ok`) : 'none yet';
  }

  function wirePanel() {
    $('groups').addEventListener('click', e => {
      const li = e.target.closest('li[data-group-id]');
      if (!li) return;
      select(li.dataset.groupId === state.selected ? null : li.dataset.groupId);
    });
    $('references').addEventListener('click', e => {
      const li = e.target.closest('li[data-ref]');
      if (!li) return;
      state.selectedRef = li.dataset.ref === state.selectedRef ? null : li.dataset.ref;
      drawReferences();
      drawOverlay();
    });
    $('detail-close').addEventListener('click', () => select(null));
    $('group-filter').addEventListener('input', e => { state.filter = e.target.value.trim(); drawList(); });
    setInterval(() => {
      for (const el of document.querySelectorAll('.lease[data-expires]')) {
        const left = Date.parse(el.dataset.expires) - (Date.now() + state.clockSkewMs);
        el.textContent = left > 0 ? `${(left / 1000).toFixed(left < 10000 ? 1 : 0)} s` : 'expiring';
      }
    }, 500);
  }

  function select(id) {
    const t0 = performance.now();
    state.selected = id;
    drawList();
    drawDetail();
    drawOverlay();
    stats.selectMs = performance.now() - t0;
  }

  // ---------- the stream ----------

  function onSnapshot(s) {
    state.topology = s.topology;
    state.linkEnds = null;
    indexPorts();
    state.references = s.references;
    state.groups = new Map(s.groups.map(g => [g.id, g]));
    state.figures = s.figures;
    state.audit = s.audit;
    state.clockSkewMs = Date.parse(s.at) - Date.now();
    const ms = drawFabric();
    drawReferences();
    drawList();
    drawDetail();
    drawFigures();
    stats.snapshots++;
    stats.snapshotRenderMs = ms;
    // Ready once the browser has painted the graph: building the DOM is only part of it on a large fabric.
    const t0 = performance.now();
    afterPaint(t0, ms => afterPaint(t0, ms2 => {
      stats.snapshotPaintMs = ms;
      stats.snapshotSecondFrameMs = ms2;
      if (stats.firstRenderMs === null) {
        stats.firstRenderMs = performance.now();
        document.body.dataset.ready = 'true';
      }
    }));
  }

  function onGroup(c) {
    const g = c.group;
    if (c.superseded) state.groups.delete(c.superseded);
    if (c.kind === 'released' || c.kind === 'expired') {
      state.groups.delete(g.id);
      if (state.selected === g.id) { drawDetail(c.kind === 'expired' ? 'its lease ran out; released' : 'released'); drawOverlay(); }
    } else {
      const old = state.groups.get(g.id);
      if (g.setupMicros == null && old) g.setupMicros = old.setupMicros;
      state.groups.set(g.id, g);
      if (c.superseded && state.selected === c.superseded) state.selected = g.id;
      if (state.selected === g.id) { drawDetail(); drawOverlay(); }
    }
    state.figures = c.figures;
    drawFigures();
    queueList();
  }

  function onFabric(f) {
    state.topology = f.topology;
    indexPorts();
    state.references = f.references;
    state.audit = f.audit;
    drawFabric();
    drawReferences();
    drawFigures();
    stats.fabricUpdates++;
  }

  function timed(handler) {
    return e => {
      const t0 = performance.now();
      handler(JSON.parse(e.data));
      const t1 = performance.now();
      stats.updates++;
      stats.lastUpdateMs = t1 - t0;
      keep(stats.updateMs, t1 - t0);
      stats.maxUpdateMs = Math.max(stats.maxUpdateMs, t1 - t0);
      afterPaint(t0, ms => { stats.lastUpdateFrameMs = ms; keep(stats.updateFrameMs, ms); });
    };
  }

  function connect() {
    const es = new EventSource('/dashboard/events');
    const conn = $('conn');
    es.addEventListener('open', () => { conn.dataset.state = 'live'; conn.textContent = 'live'; });
    es.addEventListener('error', () => { conn.dataset.state = 'lost'; conn.textContent = 'reconnecting…'; });
    es.addEventListener('snapshot', e => {
      const t0 = performance.now();
      stats.snapshotBytes = e.data.length;
      onSnapshot(JSON.parse(e.data));
      stats.lastUpdateMs = performance.now() - t0;
    });
    es.addEventListener('group', timed(onGroup));
    es.addEventListener('fabric', timed(onFabric));
    es.addEventListener('figures', timed(f => { state.figures = f; drawFigures(); }));
    window.addEventListener('pagehide', () => es.close());
  }

  wirePanZoom();
  wirePanel();
  connect();
})();
