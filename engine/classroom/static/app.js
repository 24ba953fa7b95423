// The classroom pages: team, umpire and projector. Plain JavaScript, no libraries.
//
// Each page reads its role's state from /api/{token}/state on load and whenever the server-sent
// events of /api/{token}/events say the game changed; the token is the last segment of the
// page's address. Text from the server is always set with textContent; the one exception is the
// map, an SVG string the server draws and escapes, which goes into its own container.
(function () {
  'use strict';

  const PAGE = document.body.dataset.page;
  if (PAGE === 'landing') return;
  const TOKEN = location.pathname.split('/').filter(Boolean).pop() || '';
  const api = (path) => '/api/' + encodeURIComponent(TOKEN) + '/' + path;

  let S = null;          // the last state received
  let receivedAt = 0;    // performance.now() when it arrived (the timer counts down from there)
  let lastMap = null;    // the SVG last inserted (re-inserted only when it changes)

  // ---- building elements ---------------------------------------------------------------------

  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }
  const $ = (id) => document.getElementById(id);
  function fill(el, ...kids) { if (el) el.replaceChildren(...kids.flat(Infinity).filter(Boolean)); }
  function show(el, on) { if (el) el.hidden = !on; }

  // ---- words -----------------------------------------------------------------------------------

  const ID = /[A-Za-z][A-Za-z0-9_]*(?:[.-][A-Za-z0-9_]+)*/g;
  const names = () => (S && S.names) || {};
  const labels = () => (S && S.labels) || {};
  const cap = (s) => (s ? s.charAt(0).toUpperCase() + s.slice(1) : s);
  const human = (id) => String(id).replace(/_/g, ' ');
  const name = (id) => (id === null || id === undefined ? '' : names()[id] || human(id));
  const label = (action) => labels()[action] || cap(human(action));
  const yes = (b) => (b ? 'yes' : 'no');
  const sideName = (side) => (S && S.sides && S.sides[side]) || cap(side);

  function num(x) {
    if (typeof x !== 'number' || !isFinite(x)) return String(x);
    if (Number.isInteger(x)) return String(x);
    const a = Math.abs(x);
    const s = a >= 10 ? x.toFixed(0) : a >= 1 ? x.toFixed(1) : x.toFixed(2);
    return s.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  }
  const pct = (p) => Math.round(p * 100) + '%';
  const hours = (x) => (x > 0 && x < 1 ? Math.max(1, Math.round(x * 60)) + ' min' : num(x) + ' h');
  function list(items) {
    if (items.length < 2) return items.join('');
    return items.slice(0, -1).join(', ') + ' and ' + items[items.length - 1];
  }
  function rungOf(id) {
    const found = ((S && S.ladder) || []).find((r) => r.id === id);
    return found ? found.label : name(id);
  }

  // A line of the server's story in words: ids become the names the page's JSON gives them,
  // long decimals are rounded, arrows are arrows.
  function words(line) {
    let s = String(line);
    const orders = /^(Blue|Red) orders \(([^)]*)\): (.*)$/.exec(s);
    if (orders) return ordersLine(orders[1].toLowerCase(), orders[2], orders[3]);
    s = s.replace(/^Umpire inject: Umpire: /, 'Umpire inject: ');
    s = s.replace(/ -> /g, ' → ');
    s = s.replace(/\b\d+\.\d{3,}\b/g, (m) => num(Number(m)));
    s = s.replace(ID, (m) => (names()[m] !== undefined ? names()[m] : m.includes('_') ? human(m) : m));
    s = s.replace(/\b(\w+) (?=\1\b)/gi, '');  // 'Red Red coast guard', 'battery battery B1'
    return cap(s);
  }
  function ordersLine(side, controller, said) {
    const how = controller === 'browser' ? 'from the team'
      : controller === 'umpire:doctrine' ? 'forced by the umpire: doctrine chose'
        : controller === 'umpire:hold' ? 'forced by the umpire: hold'
          : controller === 'umpire' ? 'umpire' : human(controller);
    let what = 'no orders';
    if (said !== 'no orders') {
      const parts = [];
      for (const m of said.matchAll(/([A-Za-z0-9_]+)(?:\(([^)]*)\))?/g)) {
        const params = m[2] ? ' (' + m[2].split(', ').map((kv) => {
          const [k, v] = kv.split('=');
          return human(k) + ': ' + human(v === undefined ? '' : v);
        }).join(', ') + ')' : '';
        parts.push(label(m[1]) + params);
      }
      what = parts.join('; ');
    }
    return sideName(side) + ' orders (' + how + '): ' + what;
  }
  function orderText(o) {
    const params = Object.entries(o.params || {}).map(([k, v]) => human(k) + ': ' + human(v));
    return label(o.action) + (params.length ? ' (' + params.join(', ') + ')' : '');
  }
  const OPS = { '>=': 'at least', '<=': 'at most', '>': 'above', '<': 'below',
    '==': 'equal to', '!=': 'other than' };
  function reason(text) {
    const m = /^precondition '(\w+)\s*(>=|<=|==|!=|>|<)\s*([\w.-]+)' does not hold$/.exec(text);
    if (!m) return words(text);
    const fact = m[1] === 'rung' ? 'the escalation rung' : human(m[1]);
    const value = m[1] === 'rung' ? '“' + rungOf(m[3]) + '”' : human(m[3]);
    return 'Needs ' + fact + ' to be ' + OPS[m[2]] + ' ' + value;
  }

  // ---- the common parts of every page ----------------------------------------------------------

  function clock(seconds) {
    const s = Math.max(0, Math.ceil(seconds));
    return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }
  function tick() {
    const el = $('timer');
    if (!el || !S) return;
    const t = S.timer || { seconds_left: 0, running: false };
    const left = t.running ? t.seconds_left - (performance.now() - receivedAt) / 1000
      : t.seconds_left;
    el.classList.toggle('urgent', t.running && left <= 60);
    el.classList.toggle('paused', !t.running);
    if (S.over) el.textContent = 'Game over';
    else if (!t.running && t.seconds_left <= 0) el.textContent = 'No limit';
    else if (t.running && left <= 0) el.textContent = "Time's up";
    else el.textContent = clock(left) + (t.running ? '' : ' (paused)');
  }

  function header() {
    document.title = S.title + ' – ' + ({ blue: 'Blue team', red: 'Red team', umpire: 'Umpire',
      projector: 'Projector' }[S.role] || S.role);
    $('title').textContent = S.title;
    $('turn').textContent = S.turn + ' of ' + S.turns;
    tick();
  }

  function map() {
    const el = $('map');
    if (!el || S.map === lastMap) return;
    lastMap = S.map;
    if (typeof S.map === 'string' && S.map.trim().startsWith('<svg')) {
      el.innerHTML = S.map;  // the server's SVG, escaped by the server (the one exception)
    } else {
      fill(el, h('p', { class: 'quiet', text: 'The map is not available.' }));
    }
  }

  function rungBar() {
    const el = $('rung');
    if (!el) return;
    const current = S.role === 'umpire' ? S.truth.rung : S.observation.rung;
    const ladder = S.ladder || [];
    const top = ladder.length ? ladder[ladder.length - 1].level : 1;
    const at = ladder.find((r) => r.id === current);
    fill(el,
      h('span', { class: 'rung-label' }, 'Escalation: ',
        h('strong', { text: at ? at.label : human(current) }),
        at ? h('span', { class: 'quiet', text: ' · level ' + at.level + ' of ' + top }) : null),
      h('ol', { class: 'rung-steps', 'aria-hidden': 'true' }, ladder.map((r) => h('li', {
        class: 'step' + (r.id === current ? ' now' : '') + (at && r.level < at.level ? ' past' : ''),
        style: '--heat:' + (top ? r.level / top : 0), title: r.label }))));
  }

  function outcome() {
    const el = $('outcome');
    if (!el) return;
    const o = S.outcome;
    show(el, !!o);
    if (!o) return;
    const rows = [];
    if ('deterrence_held' in o) {
      rows.push(h('p', { class: 'big', text: o.deterrence_held ? 'Deterrence held.'
        : 'Deterrence failed in turn ' + o.failure_turn + '.' }));
    }
    rows.push(h('p', { text: 'The game is over after ' + o.turns_played + ' turns. ' +
      'Highest rung reached: ' + rungOf(o.highest_rung) + '.' }));
    rows.push(h('p', { text: (o.known_turn ? 'An armed attack became known to the alliance in turn '
      + o.known_turn + '. ' : 'No armed attack became known to the alliance. ') +
      (o.article5_turn ? 'Article V was invoked in turn ' + o.article5_turn + '.'
        : 'Article V was not invoked.') }));
    if (S.role === 'umpire') {
      const shown = Object.entries(o).filter(([k]) => !['deterrence_held', 'failure_turn',
        'turns_played', 'highest_rung', 'known_turn', 'article5_turn', 'highest_level'].includes(k));
      rows.push(facts(shown.map(([k, v]) => outcomeRow(k, v))));
    }
    fill(el, h('h2', { text: 'Outcome' }), rows);
  }

  const OUTCOME = { red_gains: 'Red gains', red_losses: 'Red ships lost',
    blue_losses: 'Blue launchers lost', incursions: 'Red incursions',
    incursions_detected: 'Incursions detected', mean_time_to_detect_h: 'Mean time to detect',
    detections: 'Detections', c2_messages: 'C2 messages sent',
    c2_mean_latency_h: 'Mean C2 message delay', c2_delivery_rate: 'C2 messages delivered' };
  function outcomeRow(k, v) {
    const l = OUTCOME[k] || cap(human(k.replace(/_h$/, '')));
    if (typeof v === 'number' && k.endsWith('_h')) return [l, hours(v)];
    if (typeof v === 'number' && k.endsWith('_rate')) return [l, pct(v)];
    return [l, value(v)];
  }

  function storyList(lines, empty) {
    const el = $('story');
    if (!el) return;
    const t = $('story-title');
    if (t) t.textContent = S.turn > 1 || S.over ? 'What you saw happen last turn' : 'Last turn';
    if (S.role === 'umpire' && t) t.textContent = 'Everything that happened last turn';
    fill(el, lines.length ? lines.map((l) => h('li', { text: words(l) }))
      : h('li', { class: 'quiet', text: empty }));
  }

  function value(v) {
    if (typeof v === 'boolean') return yes(v);
    if (typeof v === 'number') return num(v);
    if (v === null || v === undefined) return '–';
    if (Array.isArray(v)) return v.length ? list(v.map(value)) : 'none';
    if (typeof v === 'object') return Object.entries(v).map(([k, x]) => name(k) + ': ' + value(x)).join('; ');
    return name(v);
  }
  function facts(rows) {
    return h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]));
  }

  // ---- what a side knows, in words -------------------------------------------------------------

  const BLUE_FACTS = [['incursions_seen', 'Incursions detected last turn', num],
    ['authority_requested', 'Engagement authority requested', yes],
    ['article5', 'Article V invoked', yes], ['red_gains', 'Red gains attributed so far', num]];
  const RED_FACTS = [['links_degraded', 'Alliance links we believe are down', num],
    ['article5', 'Article V invoked', yes], ['armed_attack', 'We have ordered an armed attack', yes],
    ['red_gains', 'Our gains so far', num]];

  function blueSituation(sit) {
    const out = [];
    for (const [unit, level] of Object.entries(sit.isr_tempo || {})) {
      out.push(cap(name(unit)) + ': sortie tempo ' + human(level) + '.');
    }
    for (const [unit, level] of Object.entries(sit.readiness || {})) {
      const auth = (sit.authority || {})[unit];
      out.push(cap(name(unit)) + ': readiness ' + human(level) + '; engagement authority ' +
        (auth ? 'granted' : 'not granted') + '.');
    }
    for (const [bat, b] of Object.entries(sit.batteries || {})) {
      out.push(cap(name(bat)) + ' at ' + name(b.site) + ': ' + num(b.launchers) + ' launchers, ' +
        num(b.magazine) + ' missiles.');
    }
    const down = sit.links_degraded || [];
    out.push(down.length ? 'C2 links degraded: ' + list(down.map(name)) + '.'
      : 'All C2 links are working.');
    const tracks = Object.entries(sit.tracks || {});
    if (tracks.length) {
      for (const [g, t] of tracks) {
        out.push('Tracking ' + name(g) + ' in ' + name(t.zone) + ' (last seen ' + hours(t.age_h) +
          ' ago).');
      }
    } else {
      out.push('No Red group is being tracked.');
    }
    out.push(sit.armed_attack_known ? 'An armed attack on the alliance is known.'
      : 'No armed attack on the alliance is known.');
    return out;
  }
  function redSituation(sit) {
    const out = [];
    for (const [g, v] of Object.entries(sit.groups || {})) {
      out.push(cap(name(g)) + ': ' + num(v.ships) + ' ships, ' + (v.mission === 'home'
        ? 'at home in ' + name(v.zone) : 'on a ' + human(v.mission) + ' mission to ' + name(v.zone)) + '.');
    }
    const seen = sit.seen || {};
    for (const [unit, level] of Object.entries(seen.readiness || {})) {
      out.push('We have seen ' + name(unit) + ' at readiness ' + human(level) + '.');
    }
    const down = seen.links_down || [];
    out.push(down.length ? 'Alliance links we know are down: ' + list(down.map(name)) + '.'
      : 'We know of no alliance link that is down.');
    out.push(seen.authority ? 'We have seen the alliance grant engagement authority.'
      : 'We have not seen the alliance grant engagement authority.');
    if ('isr_over_objective_h' in seen) {
      out.push('Alliance surveillance seen over our objective: ' + hours(seen.isr_over_objective_h) +
        ' last turn.');
    }
    return out;
  }
  function estimateRows(e) {
    const rows = [];
    const add = (k, l, f) => { if (e[k] !== undefined && e[k] !== null) rows.push([l, f(e[k])]); };
    add('p_seen', 'Chance their surveillance finds our ships within a turn', pct);
    add('resolve', 'Their resolve', pct);
    add('attribution_p', 'Chance they attribute a covert act to us', pct);
    add('response_delay_h', 'Their expected response time', hours);
    add('patience_h', 'Our patience', hours);
    add('covered_domains', 'Domains their treaty covers', (d) => list(d.map(name)));
    add('naval_loss_share', 'Share of our navy their batteries would sink in a fight', pct);
    add('punish_share', 'Share of our navy their counterstrike would sink', pct);
    add('red_rung', 'Our own rung (where our next climb starts)', name);
    add('threshold_level', 'Armed attack begins at level', num);
    return rows;
  }
  function beliefRows(b) {
    return [['Alliance search coverage per turn (our belief)', num(b.isr)],
      ['Alliance resolve (our belief)', pct(b.resolve)]];
  }

  function sideView(side, obs) {
    const sit = obs.situation || {};
    const sentences = side === 'blue' ? blueSituation(sit) : redSituation(sit);
    const kids = [h('ul', { class: 'plain' }, sentences.map((s) => h('li', { text: s })))];
    if (side === 'red' && sit.beliefs) kids.push(h('h3', { text: 'What we believe' }), facts(beliefRows(sit.beliefs)));
    if (side === 'red' && obs.estimate) kids.push(h('h3', { text: 'Our estimate of the alliance' }), facts(estimateRows(obs.estimate)));
    const known = side === 'blue' ? BLUE_FACTS : RED_FACTS;
    const f = obs.facts || {};
    kids.push(h('h3', { text: 'Indicators' }),
      facts(known.filter(([k]) => k in f).map(([k, l, fmt]) => [l, fmt(f[k])])));
    return kids;
  }

  // ---- the team page ---------------------------------------------------------------------------

  let formKey = null;

  function team() {
    const side = S.side;
    document.body.classList.add('side-' + side);
    const teamName = side === 'blue' ? 'Blue team' : 'Red team';
    $('who').textContent = sideName(side).toLowerCase() === side ? teamName : teamName + ' · ' + sideName(side);
    const other = side === 'blue' ? 'red' : 'blue';
    $('other').textContent = (S.over ? '–' : S.submitted[other] ? sideName(other) + ' has submitted'
      : sideName(other) + ' is deciding');
    rungBar();
    outcome();
    map();
    fill($('situation'), sideView(side, S.observation));
    storyList(S.story || [], 'Nothing yet: the game starts with your first orders.');
    ordersForm();
    if (S.over && $('story-card').previousElementSibling !== $('orders-card')) {
      $('orders-card').after($('story-card'));  // nothing left to order: the story moves up
    }
  }

  function ordersForm() {
    const card = $('orders-card');
    show(card, !S.over);  // no more orders once the game is over
    if (S.over) return;
    $('orders-title').textContent = 'Your orders for turn ' + S.turn;
    const m = S.menu;
    const key = S.turn + '|' + JSON.stringify(m.items) + '|' + JSON.stringify(m.refused);
    if (key !== formKey) {
      const fresh = formKey === null || !formKey.startsWith(S.turn + '|');
      formKey = key;
      buildMenu(m, fresh);
    }
    const p = S.pending;
    card.classList.toggle('is-submitted', !!p);
    if (p) {
      $('status').textContent = 'Submitted — hidden from the other team until the turn executes';
      $('status').className = 'status ok';
      fill($('submitted'), h('p', { class: 'quiet', text: 'You may change your orders and submit again until the umpire runs the turn.' }),
        h('p', {}, h('strong', { text: 'Submitted: ' }), p.orders.length ? p.orders.map(orderText).join('; ') : 'no orders (hold)'));
      $('submit').textContent = 'Submit again';
    } else {
      if ($('status').classList.contains('ok')) {
        // we submitted this turn, yet the server holds nothing: it restarted and lost the turn
        $('status').textContent = 'The game has no orders from you for this turn (the server ' +
          'may have restarted): please submit again.';
        $('status').className = 'status bad';
      }
      fill($('submitted'));
      $('submit').textContent = 'Submit orders';
    }
    show($('submitted'), !!p);
  }

  function buildMenu(m, fresh) {
    const before = fresh ? null : chosen();
    const pending = S.pending;
    const ticked = new Map();
    if (before) for (const o of before) ticked.set(o.action, o.params);
    else if (pending) for (const o of pending.orders) ticked.set(o.action, o.params);
    if (fresh) {
      $('rationale').value = pending ? pending.rationale || '' : '';
      fill($('reasons')); show($('reasons'), false);
      $('status').textContent = ''; $('status').className = 'status';
    }
    const rows = m.items.map((item) => {
      const id = 'o-' + item.action;
      const box = h('input', { type: 'checkbox', id, name: 'action', value: item.action });
      box.checked = ticked.has(item.action);
      const selects = Object.entries(item.params || {}).map(([p, choices]) => {
        const current = (ticked.get(item.action) || {})[p] ?? item.defaults[p];
        const sel = h('select', { 'data-param': p, 'aria-label': human(p) + ' for ' + item.label,
          onchange: () => { box.checked = true; } },
        choices.map((c) => h('option', { value: String(c), text: human(c), selected: String(c) === String(current) })));
        return h('label', { class: 'param' }, h('span', { text: human(p) }), sel);
      });
      return h('div', { class: 'order', 'data-action': item.action },
        box, h('label', { for: id, class: 'order-label' }, h('span', { text: item.label }),
          h('span', { class: 'tag', title: 'The rung of the escalation ladder this action signals',
            text: 'Signals: ' + rungOf(item.signals) })),
        h('div', { class: 'params' }, selects));
    });
    const refused = Object.entries(m.refused || {}).map(([action, why]) => h('div', {
      class: 'order refused', 'data-action': action },
    h('input', { type: 'checkbox', disabled: true, 'aria-label': label(action) + ' (not available)' }),
    h('span', { class: 'order-label' }, h('span', { text: label(action) }),
      h('span', { class: 'why', text: reason(why) }))));
    fill($('menu'), rows, refused);
  }

  function chosen() {
    const out = [];
    for (const row of document.querySelectorAll('#menu .order:not(.refused)')) {
      const box = row.querySelector('input[type=checkbox]');
      if (!box || !box.checked) continue;
      const params = {};
      for (const sel of row.querySelectorAll('select[data-param]')) params[sel.dataset.param] = sel.value;
      out.push({ action: row.dataset.action, params });
    }
    return out;
  }

  async function submitOrders(ev) {
    ev.preventDefault();
    const btn = $('submit');
    btn.disabled = true;
    fill($('reasons')); show($('reasons'), false);
    $('status').textContent = 'Sending…'; $('status').className = 'status';
    try {
      const r = await post('orders', { orders: chosen(), rationale: $('rationale').value });
      if (r.ok) {
        $('status').textContent = 'Submitted — hidden from the other team until the turn executes';
        $('status').className = 'status ok';
      } else {
        $('status').textContent = 'Not submitted: please fix the following.';
        $('status').className = 'status bad';
        reasonsList($('reasons'), r.reasons);
      }
    } finally {
      btn.disabled = false;
    }
  }

  // ---- the umpire console ----------------------------------------------------------------------

  let injectKey = null;
  let umpireTurn = null;

  function umpire() {
    rungBar();
    outcome();
    map();
    if (umpireTurn !== S.turn) {
      umpireTurn = S.turn;
      for (const id of ['inject-status']) { $(id).textContent = ''; $(id).className = 'status'; }
      for (const id of ['advance-reasons', 'inject-reasons']) { fill($(id)); show($(id), false); }
    }
    show($('chips'), !S.over);
    fill($('chips'), ['blue', 'red'].map((side) => h('span', {
      class: 'chip chip-' + side + (S.submitted[side] ? ' in' : '') },
    sideName(side) + (S.submitted[side] ? ': orders in' : ': waiting'))));
    const late = !S.over && (!S.submitted.blue || !S.submitted.red);
    $('advance').disabled = S.over;
    $('advance').textContent = S.over ? 'The game is over' : 'Advance turn ' + S.turn;
    if (!late) { fill($('advance-reasons')); show($('advance-reasons'), false); }
    show($('force-doctrine'), late);
    show($('force-hold'), late);
    show($('late-hint'), late);
    for (const side of ['blue', 'red']) {
      const v = S.views[side];
      const team = side === 'blue' ? 'Blue' : 'Red';
      $(side + '-title').textContent = sideName(side) === team ? team : team + ' · ' + sideName(side);
      const p = v.pending;
      fill($(side + '-pending'), p ? [
        h('p', {}, h('strong', { text: 'Orders this turn: ' }), p.orders.length ? p.orders.map(orderText).join('; ') : 'no orders (hold)'),
        p.rationale ? h('blockquote', { class: 'rationale', text: p.rationale }) : h('p', { class: 'quiet', text: 'No reasons given.' }),
      ] : h('p', { class: 'quiet', text: S.over ? 'The game is over.' : 'No orders yet this turn.' }));
      fill($(side + '-view'), sideView(side, v.observation));
    }
    const truth = (S.truth.situation || {}).truth || {};
    const turnOr = (t) => (t === null || t === undefined ? 'not yet' : 'turn ' + t);
    fill($('truth'), facts([
      ['Rung', rungOf(S.truth.rung)],
      ['Armed attack ordered by Red', turnOr(truth.armed_attack_turn)],
      ['Armed attack known to the alliance', turnOr(truth.known_turn)],
      ['Article V invoked', turnOr(truth.article5_turn)],
      ['Red gains (true)', value(truth.red_gains)],
      ...Object.entries(truth).filter(([k]) => !['armed_attack_turn', 'known_turn', 'article5_turn', 'red_gains'].includes(k))
        .map(([k, v]) => [cap(human(k)), value(v)]),
    ]));
    injects();
    storyList(S.story || [], 'Nothing yet: no turn has been played.');
  }

  function injects() {
    const sc = S.injects.scripted || [];
    fill($('scripted'), h('h3', { text: 'Scripted injects' }), sc.length ? h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, ['Turn', 'Side', 'Action', 'Note', ''].map((t) => h('th', { text: t })))),
      h('tbody', {}, sc.map((i) => h('tr', {},
        h('td', { text: String(i.turn) }), h('td', { text: sideName(i.side) }),
        h('td', { text: label(i.action) }), h('td', { text: i.note }),
        h('td', {}, i.done ? h('span', { class: 'quiet', text: 'done' })
          : queued(i) ? h('span', { class: 'quiet', text: 'queued' })
          : h('button', { type: 'button', class: 'small', 'data-inject': String(i.index), disabled: S.over,
            onclick: () => act('inject', { scripted: i.index }, $('inject-reasons'), $('inject-status'), 'Inject queued for this turn.'),
            text: 'Fire now' })))))) : h('p', { class: 'quiet', text: 'This scenario has none.' }));
    const live = S.injects.pending || [];
    fill($('live'), live.length ? [h('h3', { text: 'Queued for this turn' }),
      h('ul', { class: 'plain' }, live.map((o) => h('li', { text: sideName(o.side) + ': ' + orderText(o) + (o.note ? ' — ' + o.note : '') })))] : null);
    const key = S.turn + '|' + JSON.stringify(S.menus);
    if (key !== injectKey) {
      injectKey = key;
      injectActions();
    }
  }

  function queued(i) {
    return (S.injects.pending || []).some((o) => o.action === i.action && o.note === i.note &&
      (i.side === 'white' || o.side === i.side));
  }

  function injectActions() {
    const side = $('inject-side').value;
    const menu = S.menus[side];
    const sel = $('inject-action');
    const before = sel.value;
    fill(sel, menu.items.map((i) => h('option', { value: i.action, text: i.label, selected: i.action === before })));
    injectParams();
  }
  function injectParams() {
    const menu = S.menus[$('inject-side').value];
    const item = menu.items.find((i) => i.action === $('inject-action').value);
    fill($('inject-params'), item ? Object.entries(item.params || {}).map(([p, choices]) => h('label', {},
      human(p) + ' ', h('select', { 'data-param': p }, choices.map((c) => h('option', {
        value: String(c), text: human(c), selected: String(c) === String(item.defaults[p]) })))))
      : null);
  }
  function customInject(ev) {
    ev.preventDefault();
    const params = {};
    for (const sel of document.querySelectorAll('#inject-params select[data-param]')) params[sel.dataset.param] = sel.value;
    act('inject', { side: $('inject-side').value, action: $('inject-action').value, params,
      note: $('inject-note').value }, $('inject-reasons'), $('inject-status'), 'Inject queued for this turn.')
      .then((ok) => { if (ok) $('inject-note').value = ''; });
  }

  async function act(what, body, reasonsEl, statusEl, done) {
    if (reasonsEl) { fill(reasonsEl); show(reasonsEl, false); }
    if (statusEl) { statusEl.textContent = ''; statusEl.className = 'status'; }
    const r = await post('umpire/' + what, body);
    if (!r.ok) reasonsList(reasonsEl, r.reasons);
    else if (statusEl && done) { statusEl.textContent = done; statusEl.className = 'status ok'; }
    return r.ok;
  }

  // ---- the projector ---------------------------------------------------------------------------

  function projector() {
    outcome();
    map();
    show($('chips').parentElement, !S.over);
    fill($('chips'), ['blue', 'red'].map((side) => h('span', {
      class: 'pchip chip-' + side + (S.submitted[side] ? ' in' : ''),
      text: sideName(side) + (S.submitted[side] ? ': in' : ': deciding') })));
    const ladder = (S.ladder || []).slice().reverse();
    const at = (S.ladder || []).find((r) => r.id === S.rung);
    const top = S.ladder && S.ladder.length ? S.ladder[S.ladder.length - 1].level : 1;
    fill($('ladder'), ladder.map((r) => h('li', {
      class: 'rung' + (r.id === S.rung ? ' now' : '') + (at && r.level < at.level ? ' past' : ''),
      style: '--heat:' + (top ? r.level / top : 0) },
    h('span', { class: 'lvl', text: String(r.level) }), h('span', { class: 'txt', text: r.label }))));
    const tl = (S.timeline || []).slice(-9);
    const turns = [];
    for (const e of tl) {
      if (!turns.length || turns[turns.length - 1].turn !== e.turn) turns.push({ turn: e.turn, lines: [] });
      turns[turns.length - 1].lines.push(e.text);
    }
    fill($('timeline'), turns.length ? turns.reverse().map((t) => h('section', { class: 'turn' },
      h('h3', { text: 'Turn ' + t.turn }), h('ul', {}, t.lines.map((l) => h('li', { text: words(l) })))))
      : h('p', { class: 'quiet', text: 'Nothing public has happened yet.' }));
  }

  // ---- talking to the server -------------------------------------------------------------------

  async function post(path, body) {
    let res;
    try {
      res = await fetch(api(path), { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body), cache: 'no-store', credentials: 'same-origin' });
    } catch (e) {
      connection(false);
      return { ok: false, reasons: ['The game server did not answer; try again in a moment.'] };
    }
    let data = {};
    try { data = await res.json(); } catch (e) { data = {}; }
    if (res.ok && data.ok !== false) { refresh(); return { ok: true }; }
    const reasons = Array.isArray(data.reasons) ? data.reasons
      : [data.error || 'The server refused this (' + res.status + ').'];
    return { ok: false, reasons };
  }

  function reasonsList(el, reasons) {
    if (!el) return;
    fill(el, reasons.map((r) => h('li', { text: reasonWords(r) })));
    show(el, reasons.length > 0);
  }
  function reasonWords(r) {
    const late = /^waiting for ([a-z, ]+); force the turn with doctrine or hold$/.exec(r);
    if (late) {
      return 'Waiting for the orders of ' + list(late[1].split(', ').map(sideName)) +
        ': wait, or force the turn with doctrine or hold.';
    }
    const m = /^(\w+): (.*)$/.exec(r);
    if (m && (labels()[m[1]] || m[2].startsWith('precondition'))) return label(m[1]) + ': ' + reason(m[2]);
    return words(r);
  }

  let stopped = false;
  function connection(up) { if (!stopped) show($('conn'), !up); }
  function gone() {
    // the server answers, but not to this link: another game is being served
    stopped = true;
    if (source) source.close();
    $('conn').textContent = 'This link does not open the game being served now: ask your ' +
      'umpire for your link.';
    show($('conn'), true);
  }

  let busy = false;
  let again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      do {
        again = false;
        const res = await fetch(api('state'), { cache: 'no-store', credentials: 'same-origin' });
        if (res.status === 404) { gone(); return; }
        if (!res.ok) throw new Error('state ' + res.status);
        S = await res.json();
        receivedAt = performance.now();
        connection(true);
        render();
      } while (again);
    } catch (e) {
      connection(false);
    } finally {
      busy = false;
    }
  }

  function render() {
    header();
    if (PAGE === 'team') team();
    else if (PAGE === 'umpire') umpire();
    else if (PAGE === 'projector') projector();
    document.body.dataset.turn = String(S.turn);
    document.body.dataset.version = String(S.version);
    document.body.dataset.over = String(S.over);
  }

  let source = null;
  function listen() {
    source = new EventSource(api('events'));
    source.onmessage = () => refresh();
    source.onerror = () => {
      connection(false);
      source.close();
      // the server restarted, the network dropped, or this link no longer opens the game
      setTimeout(() => { if (!stopped) listen(); }, 1000);
      refresh();
    };
  }

  // ---- wiring ----------------------------------------------------------------------------------

  if (PAGE === 'team') {
    $('orders').addEventListener('submit', submitOrders);
  } else if (PAGE === 'umpire') {
    const advance = (late) => act('advance', { late }, $('advance-reasons'), null, null);
    $('advance').addEventListener('click', () => advance('wait'));
    $('force-doctrine').addEventListener('click', () => advance('doctrine'));
    $('force-hold').addEventListener('click', () => advance('hold'));
    $('timer-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const minutes = Number($('minutes').value);
      act('timer', { do: 'set', seconds: Math.round(minutes * 60) }, $('timer-reasons'));
    });
    $('timer-pause').addEventListener('click', () => act('timer', { do: 'pause' }, $('timer-reasons')));
    $('timer-resume').addEventListener('click', () => act('timer', { do: 'resume' }, $('timer-reasons')));
    $('inject-side').addEventListener('change', injectActions);
    $('inject-action').addEventListener('change', injectParams);
    $('inject-form').addEventListener('submit', customInject);
  }
  setInterval(tick, 250);
  refresh();
  listen();
}());
