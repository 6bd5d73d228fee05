/*
 * The operator console's script: plain browser JavaScript, served as is (no build step). It reads
 * the stats stream with fetch (EventSource cannot send an Authorization header), reconnects it with
 * backoff, plots with uPlot (served from node_modules), edits the policy through /api/v1, and
 * refreshes the lists whenever the stream shows a new policy version, whichever instance made it.
 */
;(() => {
  const TOKEN_KEY = 'autoretrieve-token'
  const $ = (id) => document.getElementById(id)
  const POINTS = 300 // five minutes at one frame a second
  const LIST_PAGE = 20
  const RETRIEVAL_PAGE = 25

  // ---------- access ----------
  /** `/#token=…` wins: kept for this tab only, and removed from the address bar and history. */
  const fromFragment = /(?:^#|&)token=([^&]*)/.exec(location.hash)
  if (fromFragment) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(fromFragment[1]))
    history.replaceState(null, '', location.pathname + location.search)
  }
  const token = () => sessionStorage.getItem(TOKEN_KEY) || ''

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message)
      this.status = status
      this.code = code
    }
  }
  const api = async (method, path, body) => {
    const res = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${token()}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined
    })
    const data = await res.json().catch(() => ({}))
    if (res.status === 401) {
      askForToken('The node refused this token.')
      throw new ApiError(401, 'ERR_UNAUTHORIZED', 'the token was refused')
    }
    if (!res.ok) throw new ApiError(res.status, data.error?.code, data.error?.message || `HTTP ${res.status}`)
    return data
  }

  const askForToken = (why) => {
    stopStream()
    setStreamState('refused', why ? 'token refused' : 'not connected')
    $('login-error').textContent = why || ''
    $('login').hidden = false
    $('token').focus()
  }
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault()
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim())
    $('token').value = ''
    $('login').hidden = true
    start()
  })
  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY)
    askForToken('')
  })

  // ---------- formatting ----------
  const el = (tag, props = {}, ...children) => {
    const e = document.createElement(tag)
    for (const [k, v] of Object.entries(props)) {
      if (k === 'class') e.className = v
      else if (k === 'text') e.textContent = v
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v)
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v)
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c)
    return e
  }
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  const bytes = (n) => {
    if (n === null || n === undefined || Number.isNaN(n)) return '–'
    let i = 0
    let v = n
    while (Math.abs(v) >= 1000 && i < units.length - 1) {
      v /= 1000
      i++
    }
    return `${i === 0 ? Math.round(v) : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`
  }
  const count = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'))
  const ms = (n) =>
    n === null || n === undefined
      ? '–'
      : n >= 1000
        ? `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)} s`
        : `${Math.round(n)} ms`
  const duration = (s) => {
    if (s === null || s === undefined) return '–'
    const d = Math.floor(s / 86400)
    const h = Math.floor((s % 86400) / 3600)
    const m = Math.floor((s % 3600) / 60)
    if (d > 0) return `${d}d ${h}h`
    if (h > 0) return `${h}h ${m}m`
    if (m > 0) return `${m}m ${Math.floor(s % 60)}s`
    return `${Math.floor(s)}s`
  }
  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString('en-GB', { hour12: false }) : '–')
  const when = (iso) => {
    if (!iso) return ''
    const d = new Date(iso)
    return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString('en-GB', { hour12: false })
  }
  /** Today: the time; before: day and month (the full time is in the cell's title). */
  const compactWhen = (iso) => {
    const d = new Date(iso)
    if (Number.isNaN(d.getTime())) return String(iso)
    return d.toDateString() === new Date().toDateString()
      ? d.toLocaleTimeString('en-GB', { hour12: false })
      : d.toLocaleDateString('en-GB', { day: '2-digit', month: 'short', year: 'numeric' })
  }
  /**
   * attoFIL (a decimal string; amounts do not fit a number) in a few digits with an SI prefix as
   * Lotus prints them ("1.5 mFIL", "7 aFIL"); `exactFil` is the whole amount in FIL for a title.
   */
  const FIL_PREFIXES = ['', 'm', 'μ', 'n', 'p', 'f', 'a']
  const isAtto = (v) => typeof v === 'string' && /^\d+$/.test(v)
  const exactFil = (atto) => {
    if (!isAtto(atto)) return ''
    const s = atto.replace(/^0+(?=\d)/, '').padStart(19, '0')
    const frac = s.slice(-18).replace(/0+$/, '')
    return `${s.slice(0, -18).replace(/^0+(?=\d)/, '')}${frac ? `.${frac}` : ''} FIL`
  }
  const fil = (atto) => {
    if (!isAtto(atto)) return '–'
    const n = BigInt(atto)
    if (n === 0n) return '0 FIL'
    // The largest prefix whose unit the amount reaches: 10^18 attoFIL is 1 FIL, 10^15 1 mFIL, …
    let i = 0
    while (i < FIL_PREFIXES.length - 1 && n < 10n ** BigInt(18 - 3 * i)) i++
    const unit = 10n ** BigInt(18 - 3 * i)
    const whole = n / unit
    const digits = Math.max(0, 4 - whole.toString().length)
    const frac = digits === 0 ? 0n : ((n % unit) * 10n ** BigInt(digits)) / unit
    const fracText = digits === 0 ? '' : String(frac).padStart(digits, '0').replace(/0+$/, '')
    return `${whole}${fracText ? `.${fracText}` : ''} ${FIL_PREFIXES[i]}FIL`
  }
  const paidSomething = (atto) => isAtto(atto) && BigInt(atto) > 0n
  const short = (s, n = 12) => (s && s.length > 2 * n + 1 ? `${s.slice(0, n)}…${s.slice(-n)}` : s || '')
  const words = (s) => String(s).replaceAll('_', ' ').replaceAll('-', ' ')

  // ---------- stream ----------
  let streamAbort = null
  let streamTimer = null
  let backoffMs = 1000
  let lastFrameAt = 0
  const setStreamState = (state, label) => {
    const p = $('stream-state')
    p.dataset.state = state
    p.textContent = label
  }
  const stopStream = () => {
    streamAbort?.abort()
    streamAbort = null
    clearTimeout(streamTimer)
  }
  /** One connection: frames until it ends; then the caller waits (backoff) and connects again. */
  const readStream = async (signal) => {
    const res = await fetch('/api/v1/stats/stream', { headers: { Authorization: `Bearer ${token()}` }, signal })
    if (res.status === 401) {
      askForToken('The node refused this token.')
      return 'refused'
    }
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`)
    setStreamState('live', 'live')
    backoffMs = 1000
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    let buf = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return 'ended'
      buf += value
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const frame = buf.slice(0, i)
        buf = buf.slice(i + 2)
        const lines = frame.split('\n')
        const event =
          lines
            .find((l) => l.startsWith('event:'))
            ?.slice(6)
            .trim() || 'message'
        const data = lines
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('')
        lastFrameAt = Date.now()
        if (!data) continue
        // `stats` every second; `policy` when any instance makes a new version (the page reloads
        // its lists then, and also when a stats frame shows a version it has not read).
        if (event === 'stats' || event === 'message') onStats(JSON.parse(data))
        else if (event === 'policy') onPolicyEvent(JSON.parse(data))
      }
    }
  }
  const connectStream = () => {
    stopStream()
    const abort = new AbortController()
    streamAbort = abort
    lastFrameAt = Date.now()
    readStream(abort.signal)
      .catch((err) => String(err?.message || err))
      .then((how) => {
        // Replaced or stopped on purpose (a new token, sign-out): nothing to do. Ended, failed or
        // stalled: wait (1 s, doubling to 30 s) and dial again, saying so on the page.
        if (how === 'refused' || streamAbort !== abort) return
        const wait = backoffMs
        backoffMs = Math.min(backoffMs * 2, 30_000)
        const until = Date.now() + wait
        const tick = () => {
          if (streamAbort !== abort) return
          const left = Math.ceil((until - Date.now()) / 1000)
          if (left <= 0) return connectStream()
          setStreamState('reconnecting', `stream lost, reconnecting in ${left}s`)
          streamTimer = setTimeout(tick, Math.min(1000, until - Date.now()))
        }
        tick()
      })
  }
  // A stream that stops ticking (a proxy holding it open, a suspended laptop) is dropped and redialled.
  setInterval(() => {
    if (streamAbort && $('stream-state').dataset.state === 'live' && Date.now() - lastFrameAt > 5000)
      streamAbort.abort()
  }, 1000)

  // ---------- live panels ----------
  let prev = null
  let policyVersionSeen = null
  let activeSeen = null
  const text = (id, s) => {
    const e = $(id)
    if (e.textContent !== String(s)) e.textContent = s
  }
  const onStats = (s) => {
    text('n-peers', count(s.peers))
    text('n-wants', count(s.wantsReceived))
    text('n-hits', count(s.hits))
    text('n-misses', count(s.misses))
    text('n-active', count(s.retrievals.active))
    // `byOutcome` (success and each failure reason); a node that counts only `failures` by reason
    // (and wants refused `rateLimited`) is shown the same way.
    const r = s.retrievals
    const by = {
      ...(r.byOutcome ?? (r.failures ? { ...(r.succeeded ? { success: r.succeeded } : {}), ...r.failures } : {}))
    }
    if (r.rateLimited) by.rate_limited = (by.rate_limited ?? 0) + r.rateLimited
    const outcomes = Object.entries(by)
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1])
    const o = $('n-outcomes')
    o.replaceChildren(
      ...(outcomes.length === 0
        ? [document.createTextNode(`${count(s.retrievals.succeeded)} ok · ${count(s.retrievals.failed)} failed`)]
        : outcomes.flatMap(([k, v], i) => [
            i > 0 ? ' · ' : '',
            el('span', { class: k === 'success' ? 'good' : 'bad', text: `${words(k)} ${count(v)}` })
          ]))
    )
    o.title = outcomes.map(([k, v]) => `${k}: ${v}`).join('\n')
    text('n-in', bytes(s.bytes.in))
    text('n-out', bytes(s.bytes.out))
    const t = s.ttfb
    text('n-ttfb', t && t.count > 0 ? `${ms(t.totalMs / t.count)} / ${ms(t.lastMs)}` : '–')
    const c = s.cache
    const limit = c.pruneThresholdBytes
    text('n-cache', limit > 0 ? `${bytes(c.diskBytes)} / ${bytes(limit)}` : `${bytes(c.diskBytes)} (no limit)`)
    const fill = limit > 0 ? Math.min(1, c.diskBytes / limit) : 0
    $('cache-bar').style.width = `${(fill * 100).toFixed(1)}%`
    $('cache-bar').classList.toggle('full', fill >= 0.9)
    $('n-cache').title = `${count(c.blocks)} blocks, ${bytes(c.bytes)} of block data, ${bytes(c.diskBytes)} on disk${
      limit > 0
        ? `; prune-threshold ${bytes(limit)} (${(fill * 100).toFixed(0)}% full)`
        : '; prune-threshold 0: never pruned'
    }`
    const h = s.heartbeat || { state: 'unknown' }
    const hb = $('n-heartbeat')
    hb.replaceChildren(
      el('span', { class: h.state === 'ok' ? 'good' : h.state === 'failing' ? 'bad' : '', text: h.state }),
      h.lastError
        ? ` · ${time(h.lastError.at)} ${h.lastError.message}`
        : h.lastSuccessAt
          ? ` · last ok ${time(h.lastSuccessAt)}`
          : ''
    )
    hb.title = h.lastError ? `last error at ${when(h.lastError.at)}: ${h.lastError.message}` : h.state
    showPayments(s.payments)
    text('n-uptime', duration(s.uptimeSeconds))
    text('h-uptime', duration(s.uptimeSeconds))
    text('n-policy', `v${s.policyVersion}`)
    text('h-policy', `v${s.policyVersion}`)
    if (policyVersionSeen !== s.policyVersion) {
      policyVersionSeen = s.policyVersion
      loadPolicy()
    }
    const done = s.retrievals.succeeded + s.retrievals.failed
    if (activeSeen !== `${s.retrievals.active}/${done}`) {
      activeSeen = `${s.retrievals.active}/${done}`
      if (retrievalCursor === null) loadRetrievals()
    }
    plot(s)
    prev = s
  }

  /** Whether the node pays (its stats carry `payments`), and whether a listed retrieval paid: the cost column shows then. */
  let nodePays = false
  let shownPaid = false
  /** Spend today against the daily cap, and each channel; the row is hidden when the node does not pay. */
  const showPayments = (p) => {
    $('t-spend').hidden = !p
    $('t-channels').hidden = !p
    nodePays = Boolean(p)
    $('retrievals').classList.toggle('paid', nodePays || shownPaid)
    if (!p) return
    if (p.error) {
      text('n-spend', 'unavailable')
      $('n-spend').title = p.error
      $('n-channels').replaceChildren(el('span', { class: 'bad', text: p.error }))
      $('n-channels').title = p.error
      return
    }
    const cap = isAtto(p.maxSpendPerDay) ? BigInt(p.maxSpendPerDay) : null
    const spent = isAtto(p.spentToday) ? BigInt(p.spentToday) : 0n
    text('n-spend', cap === null ? `${fil(p.spentToday)} (no cap)` : `${fil(p.spentToday)} / ${fil(p.maxSpendPerDay)}`)
    // Parts per thousand, in bigint: the amounts do not fit a number.
    const fill = cap === null || cap === 0n ? 0 : Number(spent >= cap ? 1000n : (spent * 1000n) / cap) / 1000
    $('spend-bar').style.width = `${(fill * 100).toFixed(1)}%`
    $('spend-bar').classList.toggle('full', fill >= 0.9)
    $('n-spend').title = `spent today (UTC): ${exactFil(p.spentToday)}${
      cap === null ? '; max-spend-per-day is not set' : `; max-spend-per-day ${exactFil(p.maxSpendPerDay)}`
    }`
    const channels = p.channels || []
    $('n-channels').replaceChildren(
      ...(channels.length === 0
        ? [document.createTextNode('none yet: one is made for a provider the first time the node pays it')]
        : channels.flatMap((c, i) => [
            i > 0 ? '  ·  ' : '',
            el('span', {
              class: 'mono',
              'data-channel': c.address,
              text: `${short(c.address, 5)} ${fil(c.balance)} · ${fil(c.paid)} · ${c.lanes}${c.settlingAt !== null && c.settlingAt !== undefined ? ' (settling)' : ''}`
            })
          ]))
    )
    $('n-channels').title = channels
      .map(
        (c) =>
          `${c.address} from ${c.from} to ${c.to}: balance ${exactFil(c.balance)}, paid ${exactFil(c.paid)}, ${c.lanes} lane${c.lanes === 1 ? '' : 's'}${
            c.settlingAt !== null && c.settlingAt !== undefined ? `, settling at epoch ${c.settlingAt}` : ''
          }`
      )
      .join('\n')
  }

  const showInstance = (name) => {
    if (!name) return
    text('h-instance', name)
    $('h-instance-item').hidden = false
  }
  const onPolicyEvent = (p) => {
    showInstance(p.instance)
    const drift = $('h-drift')
    drift.hidden = !p.configDrift
    if (p.configDrift)
      drift.title = `This node's config.yaml differs from the stored layer in force (policy version ${p.version}); the stored one is enforced.\n${
        typeof p.configDrift === 'object' ? JSON.stringify(p.configDrift, null, 1) : p.configDrift
      }`
    if (typeof p.version === 'number' && p.version !== policy?.version) loadPolicy()
  }

  // ---------- plots ----------
  const series = { t: [], wants: [], hits: [], misses: [], active: [], ok: [], failed: [], in: [], out: [], ttfb: [] }
  const charts = {}
  const chartDefs = {
    'plot-bitswap': {
      unit: '/s',
      series: [
        { label: 'wants/s', stroke: '#1f6feb', key: 'wants' },
        { label: 'hits/s', stroke: '#1a7f37', key: 'hits' },
        { label: 'misses/s', stroke: '#d4651a', key: 'misses' }
      ]
    },
    'plot-retrievals': {
      unit: '',
      series: [
        { label: 'active', stroke: '#8250df', key: 'active' },
        { label: 'ok/s', stroke: '#1a7f37', key: 'ok' },
        { label: 'failed/s', stroke: '#c62828', key: 'failed' }
      ]
    },
    'plot-bytes': {
      unit: 'B/s',
      series: [
        { label: 'in (B/s)', stroke: '#8250df', key: 'in', fmt: (v) => (v === null ? '–' : `${bytes(v)}/s`) },
        { label: 'out (B/s)', stroke: '#1f6feb', key: 'out', fmt: (v) => (v === null ? '–' : `${bytes(v)}/s`) }
      ]
    },
    'plot-ttfb': {
      unit: 'ms',
      series: [{ label: 'mean TTFB (ms)', stroke: '#d4651a', key: 'ttfb', fmt: (v) => (v === null ? '–' : ms(v)) }]
    }
  }
  const makeChart = (id) => {
    const def = chartDefs[id]
    const box = $(id)
    const width = Math.max(200, box.clientWidth)
    const opts = {
      width,
      height: 130,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { size: 26, space: 70, font: '11px system-ui' },
        {
          size: 66,
          font: '11px system-ui',
          values: (_u, ticks) =>
            ticks.map((v) => (def.unit === 'B/s' ? `${bytes(v)}/s` : def.unit === 'ms' ? `${v} ms` : `${v}${def.unit}`))
        }
      ],
      series: [
        {
          label: 'time',
          value: (_u, v) => (v === null ? '–' : new Date(v * 1000).toLocaleTimeString('en-GB', { hour12: false }))
        },
        ...def.series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: 1.5,
          points: { show: s.key === 'ttfb', size: 4 },
          spanGaps: s.key === 'ttfb',
          value: s.fmt ? (_u, v) => s.fmt(v) : (_u, v) => (v === null ? '–' : Number(v.toFixed(2)))
        }))
      ]
    }
    charts[id] = new uPlot(opts, [series.t, ...def.series.map((s) => series[s.key])], box)
  }
  const push = (k, v) => {
    series[k].push(v)
    if (series[k].length > POINTS) series[k].shift()
  }
  const plot = (s) => {
    const now = Date.now() / 1000
    s._t = now
    if (!prev) return
    const dt = Math.max(0.2, now - prev._t)
    const per = (a, b) => Math.max(0, (a - b) / dt)
    push('t', s._t)
    push('wants', per(s.wantsReceived, prev.wantsReceived))
    push('hits', per(s.hits, prev.hits))
    push('misses', per(s.misses, prev.misses))
    push('active', s.retrievals.active)
    push('ok', per(s.retrievals.succeeded, prev.retrievals.succeeded))
    push('failed', per(s.retrievals.failed, prev.retrievals.failed))
    push('in', per(s.bytes.in, prev.bytes.in))
    push('out', per(s.bytes.out, prev.bytes.out))
    const dc = (s.ttfb?.count ?? 0) - (prev.ttfb?.count ?? 0)
    push('ttfb', dc > 0 ? (s.ttfb.totalMs - prev.ttfb.totalMs) / dc : null)
    for (const id of Object.keys(chartDefs)) {
      if (!charts[id]) makeChart(id)
      charts[id].setData([series.t, ...chartDefs[id].series.map((d) => series[d.key])])
    }
  }
  const resize = () => {
    for (const [id, chart] of Object.entries(charts))
      chart.setSize({ width: Math.max(200, $(id).clientWidth), height: 130 })
  }
  new ResizeObserver(resize).observe($('console'))

  // ---------- policy ----------
  let policy = null
  let tab = 'cid-deny'
  const paging = { list: 0, miner: 0 }
  const LISTS = {
    'cid-deny': {
      key: 'cid',
      field: 'cidBlacklist',
      path: '/api/v1/blacklist/cids',
      body: 'cid',
      verb: 'Deny',
      placeholder: 'CID to deny'
    },
    'provider-deny': {
      key: 'provider',
      field: 'minerBlacklist',
      path: '/api/v1/blacklist/miners',
      body: 'miner',
      verb: 'Deny',
      placeholder: 'provider to deny (peer ID or f0…)'
    },
    'provider-allow': {
      key: 'provider',
      field: 'minerWhitelist',
      path: '/api/v1/whitelist/miners',
      body: 'miner',
      verb: 'Allow',
      placeholder: 'provider to allow (peer ID or f0…)'
    }
  }
  let loadingPolicy = null
  let policyAgain = false
  /** Reads /policy; calls that arrive while one runs make one more read after it (never a stale last word). */
  const loadPolicy = async () => {
    if (loadingPolicy) {
      policyAgain = true
      return loadingPolicy
    }
    loadingPolicy = (async () => {
      do {
        policyAgain = false
        try {
          policy = await api('GET', '/api/v1/policy')
          showInstance(policy.instance)
          renderPolicy()
        } catch (err) {
          if (err.status !== 401) $('list-error').textContent = `could not read the policy: ${err.message}`
        }
      } while (policyAgain)
    })()
    await loadingPolicy
    loadingPolicy = null
  }
  /** The CID text forms: CIDv0 (Qm…), and CIDv1 in base32, base58btc, base36 or base16. */
  const LOOKS_LIKE_CID =
    /^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{20,}|z[1-9A-HJ-NP-Za-km-z]{20,}|k[a-z0-9]{20,}|f[0-9a-f]{20,})$/
  const entryValue = (e, key) => e[key] ?? e.value ?? e.cid ?? e.provider ?? ''
  const addedBy = (e) => {
    const who = e.added?.instance ?? e.addedBy ?? e.by ?? e.instance ?? e.actor
    const at = e.added?.at ?? e.addedAt ?? e.at ?? e.createdAt ?? e.since
    return [who, at ? compactWhen(at) : ''].filter(Boolean).join(' · ')
  }
  const renderPolicy = () => {
    if (!policy) return
    for (const [name, def] of Object.entries(LISTS)) text(`count-${name}`, count((policy[def.field] || []).length))
    text('count-miner-configs', count(Object.keys(policy.minerConfigs || {}).length))
    if (tab === 'miner-configs') renderMiners()
    else renderList()
  }
  const pager = (id, total, page, size) => {
    const pages = Math.max(1, Math.ceil(total / size))
    const p = Math.min(page, pages - 1)
    const from = total === 0 ? 0 : p * size + 1
    text(`${id}-page`, total === 0 ? 'nothing here' : `${from}–${Math.min(total, (p + 1) * size)} of ${total}`)
    const [back, fwd] = $(`${id}-pager`).querySelectorAll('button')
    back.disabled = p === 0
    fwd.disabled = p >= pages - 1
    return p
  }
  const renderList = () => {
    const def = LISTS[tab]
    const q = $('list-search').value.trim().toLowerCase()
    const all = (policy[def.field] || []).filter(
      (e) =>
        !q ||
        [entryValue(e, def.key), e.reason, e.origin, addedBy(e)].some((f) => f && String(f).toLowerCase().includes(q))
    )
    paging.list = pager('list', all.length, paging.list, LIST_PAGE)
    const rows = all.slice(paging.list * LIST_PAGE, (paging.list + 1) * LIST_PAGE).map((e) => {
      const v = entryValue(e, def.key)
      return el(
        'tr',
        { 'data-value': v },
        el('td', { class: 'mono', title: v, text: v }),
        el('td', { title: e.reason || '', text: e.reason || '' }),
        el('td', { text: e.origin || '' }),
        el('td', {
          title: [
            e.added?.instance,
            when(e.added?.at ?? e.addedAt ?? e.at),
            e.added?.version ? `policy version ${e.added.version}` : ''
          ]
            .filter(Boolean)
            .join(', '),
          text: addedBy(e)
        }),
        el(
          'td',
          { class: 'act' },
          // A config.yaml entry is removable too: the API stores a tombstone over it (the merge rule).
          el('button', { type: 'button', class: 'danger', text: 'Remove', onclick: () => removeEntry(def, v) })
        )
      )
    })
    $('list-table').tBodies[0].replaceChildren(...rows)
  }
  const removeEntry = async (def, v) => {
    $('list-error').textContent = ''
    try {
      await api('DELETE', `${def.path}/${encodeURIComponent(v)}`)
      await loadPolicy()
    } catch (err) {
      $('list-error').textContent = err.message
    }
  }
  $('list-add').addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const def = LISTS[tab]
    const value = $('list-value').value.trim()
    const reason = $('list-reason').value.trim()
    $('list-error').textContent = ''
    // An obvious typo is caught here; the API checks every value again (and decides).
    if (def.key === 'cid' && !LOOKS_LIKE_CID.test(value)) {
      $('list-error').textContent = `"${value}" is not a CID`
      return
    }
    try {
      await api('POST', def.path, { [def.body]: value, ...(reason ? { reason } : {}) })
      $('list-value').value = ''
      $('list-reason').value = ''
      await loadPolicy()
    } catch (err) {
      $('list-error').textContent = err.message
    }
  })
  $('list-search').addEventListener('input', () => {
    paging.list = 0
    renderList()
  })
  for (const [id, which] of [
    ['list', 'list'],
    ['miner', 'miner']
  ])
    $(`${id}-pager`).addEventListener('click', (ev) => {
      const dir = Number(ev.target.dataset?.dir)
      if (!dir) return
      paging[which] = Math.max(0, paging[which] + dir)
      renderPolicy()
    })
  const selectTab = (name) => {
    tab = name
    for (const b of document.querySelectorAll('.tabs button'))
      b.setAttribute('aria-selected', String(b.dataset.tab === name))
    $('list-editor').hidden = name === 'miner-configs'
    $('miner-editor').hidden = name !== 'miner-configs'
    if (name !== 'miner-configs') {
      const def = LISTS[name]
      $('list-value').placeholder = def.placeholder
      $('list-add-button').textContent = def.verb
      $('list-error').textContent = ''
      paging.list = 0
    }
    renderPolicy()
  }
  for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => selectTab(b.dataset.tab))

  // ---------- miner configs ----------
  const FIELDS = [
    { key: 'retrieval-timeout', label: 'retrieval timeout', parse: (s) => s },
    { key: 'max-concurrent-retrievals', label: 'max concurrent', parse: Number },
    { key: 'max-bytes-per-second', label: 'max bytes/s', parse: Number }
  ]
  const renderMiners = () => {
    const defaults = policy.defaultMinerConfig || {}
    const q = $('miner-search').value.trim().toLowerCase()
    const entries = Object.entries(policy.minerConfigs || {}).filter(([p]) => !q || p.toLowerCase().includes(q))
    const total = entries.length + 1
    paging.miner = pager('miner', total, paging.miner, LIST_PAGE)
    const rows = [['default', { origin: 'default', ...defaults }], ...entries]
      .slice(paging.miner * LIST_PAGE, (paging.miner + 1) * LIST_PAGE)
      .map(([provider, m]) => {
        const isDefault = provider === 'default'
        const inputs = FIELDS.map((f) => {
          const value = m[f.key]
          const own = isDefault || String(value) !== String(defaults[f.key])
          return el('input', {
            'data-field': f.key,
            'aria-label': `${f.label} for ${provider}`,
            value: own && value !== undefined ? String(value) : '',
            placeholder: `default ${defaults[f.key] ?? '–'}`,
            title: isDefault ? `the default ${f.label}` : `empty: the default (${defaults[f.key]})`
          })
        })
        const tr = el(
          'tr',
          { 'data-provider': provider },
          el('td', { class: 'mono', title: provider, text: isDefault ? 'default (every other provider)' : provider }),
          ...inputs.map((i) => el('td', {}, i)),
          el('td', { text: m.origin || '' }),
          el(
            'td',
            { class: 'act' },
            el('button', { type: 'button', text: 'Save', onclick: () => saveMiner(provider, inputs) }),
            isDefault
              ? null
              : el('button', {
                  type: 'button',
                  class: 'danger',
                  text: 'Reset',
                  title: 'use the default',
                  onclick: () => resetMiner(provider)
                })
          )
        )
        return tr
      })
    $('miner-table').tBodies[0].replaceChildren(...rows)
  }
  const saveMiner = async (provider, inputs) => {
    const body = {}
    for (const input of inputs) {
      const f = FIELDS.find((x) => x.key === input.dataset.field)
      const v = input.value.trim()
      if (v !== '') body[f.key] = f.parse(v)
    }
    $('miner-error').textContent = ''
    try {
      await api('PUT', `/api/v1/miner-configs/${encodeURIComponent(provider)}`, body)
      await loadPolicy()
    } catch (err) {
      $('miner-error').textContent = err.message
    }
  }
  const resetMiner = async (provider) => {
    $('miner-error').textContent = ''
    try {
      await api('DELETE', `/api/v1/miner-configs/${encodeURIComponent(provider)}`)
      await loadPolicy()
    } catch (err) {
      $('miner-error').textContent = err.message
    }
  }
  $('miner-add').addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const provider = $('miner-provider').value.trim()
    $('miner-error').textContent = ''
    try {
      // A config with no field of its own: every value is the default until edited in its row.
      await api('PUT', `/api/v1/miner-configs/${encodeURIComponent(provider)}`, {})
      $('miner-provider').value = ''
      await loadPolicy()
    } catch (err) {
      $('miner-error').textContent = err.message
    }
  })
  $('miner-search').addEventListener('input', () => {
    paging.miner = 0
    renderMiners()
  })

  // ---------- retrievals ----------
  let retrievalCursor = null // null: the newest page, which follows the stream
  let nextCursor = null
  let selectedId = null
  const details = new Map() // id -> detail (kept once the retrieval has ended)
  let loadingRetrievals = false
  const filters = () => {
    const q = new URLSearchParams({ limit: String(RETRIEVAL_PAGE) })
    if ($('f-status').value) q.set('status', $('f-status').value)
    if ($('f-cid').value.trim()) q.set('cid', $('f-cid').value.trim())
    if ($('f-provider').value.trim()) q.set('provider', $('f-provider').value.trim())
    if (retrievalCursor) q.set('cursor', retrievalCursor)
    return q
  }
  /** The attempt that decided a retrieval: the one that succeeded, else the last one made. */
  const decisive = (d) => {
    const a = d?.attempts || []
    return a.find((x) => x.outcome === 'success') || a[a.length - 1]
  }
  const loadRetrievals = async () => {
    if (loadingRetrievals || !token()) return
    loadingRetrievals = true
    try {
      const r = await api('GET', `/api/v1/retrievals?${filters()}`)
      nextCursor = r.nextCursor
      $('r-older').disabled = !nextCursor
      $('r-newest').disabled = retrievalCursor === null
      $('retrieval-error').textContent = ''
      // Provider and protocol live on the attempts: read each shown retrieval's detail (once it has ended).
      await Promise.all(
        r.items
          .filter((x) => !details.has(x.id) || details.get(x.id).status === 'running')
          .map((x) =>
            api('GET', `/api/v1/retrievals/${x.id}`)
              .then((d) => details.set(x.id, d))
              .catch(() => {})
          )
      )
      renderRetrievals(r.items)
    } catch (err) {
      if (err.status !== 401) $('retrieval-error').textContent = err.message
    } finally {
      loadingRetrievals = false
    }
  }
  const renderRetrievals = (items) => {
    shownPaid = items.some((x) => paidSomething(x.cost))
    $('retrievals').classList.toggle('paid', nodePays || shownPaid)
    const rows = items.map((x) => {
      const d = details.get(x.id)
      const a = decisive(d)
      const ms_ = x.endedAt ? Date.parse(x.endedAt) - Date.parse(x.startedAt) : null
      const outcome = x.status === 'failed' && x.reason ? x.reason : x.status
      return el(
        'tr',
        { 'data-id': x.id, class: x.id === selectedId ? 'selected' : '' },
        el('td', { title: when(x.startedAt), text: time(x.startedAt) }),
        // Cut in the middle: both ends of a CID or peer ID are what an eye matches on.
        el('td', { class: 'mono', title: x.rootCid, text: short(x.rootCid, 7) }),
        el('td', { class: 'mono', title: a?.provider || '', text: a ? short(a.provider, 6) : '–' }),
        el('td', { text: a ? a.protocol : '–' }),
        el('td', { class: 'num', text: bytes(x.bytes) }),
        el('td', { class: 'num', text: ms_ === null ? 'running' : ms(ms_) }),
        el('td', { class: `outcome-${x.status}`, title: outcome, text: words(outcome) }),
        el('td', {
          class: 'num',
          title: paidSomething(x.cost) ? `${x.cost} attoFIL = ${exactFil(x.cost)}` : 'nothing paid',
          text: paidSomething(x.cost) ? fil(x.cost) : '–'
        }),
        el(
          'td',
          { class: 'act' },
          el('button', {
            type: 'button',
            text: 'Why',
            onclick: () => {
              selectedId = x.id
              for (const tr of $('retrievals').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.id === x.id)
              explainCid(x.rootCid)
            }
          })
        )
      )
    })
    if (rows.length === 0)
      rows.push(el('tr', {}, el('td', { colspan: '9', class: 'muted', text: 'No retrievals match.' })))
    $('retrievals').tBodies[0].replaceChildren(...rows)
  }
  $('retrieval-filters').addEventListener('submit', (ev) => {
    ev.preventDefault()
    retrievalCursor = null
    loadRetrievals()
  })
  $('f-status').addEventListener('change', () => {
    retrievalCursor = null
    loadRetrievals()
  })
  $('r-older').addEventListener('click', () => {
    if (!nextCursor) return
    retrievalCursor = nextCursor
    loadRetrievals()
  })
  $('r-newest').addEventListener('click', () => {
    retrievalCursor = null
    loadRetrievals()
  })

  // ---------- why ----------
  const ERROR_CLASSES = {
    timeout: 'it ran out of time',
    no_candidates: 'the indexer knew no provider for it',
    all_filtered: 'every provider found was ruled out by policy',
    retrieval_failed: 'every attempt failed',
    indexer_failed: 'the indexer could not be asked (an error, not an empty answer)',
    rate_limited: 'the provider turned it away for asking too often',
    block_too_large: 'a block was over the size limit',
    protocol_error: 'the provider broke the protocol',
    connection_failed: 'the provider could not be reached',
    not_found: 'the provider does not have it',
    verification_failed: 'a block did not match its CID',
    blacklisted_cid: 'the CID is on the deny list',
    paid_not_allowed: 'the provider asks to be paid and paid-retrievals is off',
    price_too_high: 'the provider asks more than the price caps, or than is left of today’s spend',
    paych: 'no payment channel, lane or voucher could be had (wallet, Lotus or funds)',
    overcharged: 'the provider asked for more than the bytes it sent were worth at its price',
    blacklisted_provider: 'the provider is on the deny list',
    not_whitelisted: 'the provider is not on the allow list'
  }
  const describe = (cls) => (cls ? ERROR_CLASSES[cls] || words(cls) : '')
  const KNOWN = new Set([
    'cid',
    'policyVersion',
    'deniedNow',
    'cachedNow',
    'retrievals',
    'refusals',
    'decision',
    'reason',
    'instance',
    'match',
    'matched',
    'rule',
    'entry',
    'matches',
    'deniedBy',
    'summary'
  ])
  const code = (s) => el('code', { title: s, text: short(String(s), 10) })
  const sentence = (cls, ...parts) => el('p', { class: cls }, ...parts)
  /** "It matches the deny list entry X, from api, added by Y at T: “reason” (version n)." */
  const ruleSentence = (m) => {
    const value = m.cid ?? m.provider ?? m.value ?? m.key
    const list = m.list ?? m.kind ?? m.type
    const who = m.addedBy ?? m.by ?? m.actor
    const inst = m.added?.instance ?? m.instance
    const at = m.added?.at ?? m.addedAt ?? m.at ?? m.createdAt ?? m.since
    const file = m.added?.file ?? m.file
    const parts = ['It matches ', list ? `the ${words(list)} entry ` : 'the entry ', value ? code(value) : '']
    if (m.origin) parts.push(`, from ${m.origin}${file ? ` (${file})` : ''}`)
    if (who || inst)
      parts.push(
        `, added by ${who ? `${who}${inst && inst !== who ? ` on instance ${inst}` : ''}` : `instance ${inst}`}`
      )
    if (at) parts.push(` at ${when(at)}`)
    if (m.reason) parts.push(`: “${m.reason}”`)
    const v = m.added?.version ?? m.version ?? m.policyVersion
    if (v !== undefined) parts.push(` (policy version ${v})`)
    parts.push('.')
    return sentence('', ...parts)
  }
  const renderExplain = (e) => {
    const out = []
    const v = e.policyVersion !== undefined ? ` at policy version ${e.policyVersion}` : ''
    if (typeof e.decision === 'string')
      out.push(
        sentence('headline', code(e.cid), ` — ${words(e.decision)}${v}${e.reason ? `: ${describe(e.reason)}` : ''}.`)
      )
    else if (e.deniedNow !== undefined)
      out.push(sentence('headline', code(e.cid), e.deniedNow ? ` is denied now${v}.` : ` is not denied${v}.`))
    const rules = [e.match, e.matched, e.rule, e.entry, e.deniedBy, ...(Array.isArray(e.matches) ? e.matches : [])]
    const named = rules.filter((r) => r && typeof r === 'object')
    for (const r of named) out.push(ruleSentence(r))
    // An answer that does not name its rule: name it from the lists this page holds.
    const listed = e.deniedNow && named.length === 0 ? policy?.cidBlacklist?.find((x) => x.cid === e.cid) : undefined
    if (listed) out.push(ruleSentence({ list: 'CID deny', version: policy.version, ...listed }))
    if (e.cachedNow !== undefined)
      out.push(sentence('', e.cachedNow ? 'A copy is in this node’s cache.' : 'It is not in this node’s cache.'))
    if (e.instance) out.push(sentence('', `Answered by instance ${e.instance}.`))
    for (const [k, val] of Object.entries(e))
      if (!KNOWN.has(k) && val !== null && typeof val !== 'object') out.push(sentence('sub', `${words(k)}: ${val}`))
    const rs = e.retrievals || []
    if (rs.length === 0) out.push(sentence('', 'This node has no retrieval of it on record.'))
    for (const r of rs.slice(0, 5)) {
      const took = r.endedAt ? ms(Date.parse(r.endedAt) - Date.parse(r.startedAt)) : null
      out.push(
        sentence(
          '',
          `Retrieval at ${when(r.startedAt)}${r.instance ? ` on ${r.instance}` : ''}`,
          r.requestedBy?.length ? ` (asked by ${r.requestedBy.map((p) => short(p, 6)).join(', ')})` : '',
          r.status === 'running'
            ? ` is still running${paidSomething(r.cost) ? `, ${fil(r.cost)} paid so far` : ''}.`
            : r.status === 'success'
              ? ` succeeded: ${bytes(r.bytes)} in ${r.blocks} blocks, ${took}${paidSomething(r.cost) ? `, paying ${fil(r.cost)} (${r.cost} attoFIL)` : ''}.`
              : ` failed${r.reason ? ` — ${describe(r.reason)} (${r.reason})` : ''}${took ? ` after ${took}` : ''}${paidSomething(r.cost) ? `, having paid ${fil(r.cost)} (${r.cost} attoFIL)` : ''}.`
        )
      )
      const cands = r.candidates || []
      if (cands.length > 0) {
        const accepted = cands.filter((c) => c.verdict === 'accepted').length
        const ruled = cands.filter((c) => c.verdict !== 'accepted')
        const why = [...new Set(ruled.map((c) => c.reason || c.verdict))].map(words).join(', ')
        out.push(
          sentence(
            'sub',
            `${cands.length} candidate${cands.length === 1 ? '' : 's'} from ${[...new Set(cands.map((c) => c.source))].join(', ')}: ${accepted} accepted${ruled.length ? `, ${ruled.length} ruled out (${why})` : ''}.`
          )
        )
      }
      for (const a of r.attempts || []) {
        const ttfb = a.firstByteAt ? ms(Date.parse(a.firstByteAt) - Date.parse(a.startedAt)) : null
        const paid = paidSomething(a.cost)
        out.push(
          sentence(
            'sub',
            `${a.protocol} from `,
            code(a.provider),
            a.outcome === 'success'
              ? `: succeeded, ${bytes(a.bytes)}${ttfb ? `, first byte after ${ttfb}` : ''}`
              : `: ${words(a.outcome)}${a.errorClass ? ` — ${describe(a.errorClass)} (${a.errorClass})` : ''}${a.errorMessage ? `: ${a.errorMessage}` : ''}`,
            ...(paid
              ? [
                  `; paid ${fil(a.cost)} (${a.cost} attoFIL)`,
                  ...(a.paymentChannel ? [' on channel ', code(a.paymentChannel)] : [])
                ]
              : []),
            '.'
          )
        )
      }
    }
    const refusals = e.refusals || []
    for (const f of refusals.slice(0, 5))
      out.push(
        sentence(
          '',
          `Refused to peer `,
          code(f.peer),
          ` at ${when(f.at)}${f.instance ? ` by ${f.instance}` : ''}: ${describe(f.reason)} (${f.reason}, policy version ${f.policyVersion}).`
        )
      )
    if (refusals.length > 5) out.push(sentence('sub', `…and ${refusals.length - 5} more refusals.`))
    $('why-body').className = ''
    $('why-body').replaceChildren(...out)
  }
  const explainCid = async (cid) => {
    $('why-cid').value = cid
    try {
      renderExplain(await api('GET', `/api/v1/cids/${encodeURIComponent(cid)}/explain`))
    } catch (err) {
      $('why-body').replaceChildren(sentence('err', err.message))
    }
  }
  $('why-form').addEventListener('submit', (ev) => {
    ev.preventDefault()
    const cid = $('why-cid').value.trim()
    if (cid) explainCid(cid)
  })

  // ---------- start ----------
  const start = () => {
    setStreamState('idle', 'connecting')
    backoffMs = 1000
    policyVersionSeen = null
    activeSeen = null
    connectStream()
  }
  // The newest page of retrievals also refreshes on a timer, for records written by other instances.
  setInterval(() => {
    if (token() && retrievalCursor === null && $('stream-state').dataset.state === 'live') loadRetrievals()
  }, 5000)
  selectTab('cid-deny')
  if (token()) start()
  else askForToken('')
})()
