/**
 * The operator dashboard: one self-contained page (no framework, no external URLs). It asks for
 * the admin token (kept in sessionStorage), reads the SSE stats stream with fetch (EventSource
 * cannot send an Authorization header), plots the last minutes, and edits the deny/allow lists.
 */
export function dashboardHtml(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>autoretrieve</title>
<style nonce="${nonce}">
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; gap: 16px; align-items: center; }
  header h1 { font-size: 18px; margin: 0; flex: 1; }
  main { padding: 16px 20px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); }
  section { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px #0002; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  .numbers { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
  .num { font-size: 20px; font-weight: 600; }
  .label { color: #667; font-size: 12px; }
  svg { width: 100%; height: 60px; background: #fafbfc; border-radius: 4px; }
  table { width: 100%; border-collapse: collapse; font-size: 13px; }
  td, th { text-align: left; padding: 3px 4px; border-bottom: 1px solid #eee; word-break: break-all; }
  input { padding: 4px 6px; width: 70%; }
  header input { width: 240px; }
  button { padding: 4px 10px; cursor: pointer; }
  pre { white-space: pre-wrap; font-size: 12px; max-height: 300px; overflow: auto; background: #fafbfc; padding: 8px; }
  .err { color: #b00020; }
</style>
</head>
<body>
<header>
  <h1>autoretrieve</h1>
  <span id="status">not connected</span>
  <input id="token" type="password" placeholder="admin token" aria-label="admin token">
  <button id="connect">Connect</button>
</header>
<main>
  <section>
    <h2>Live</h2>
    <div class="numbers">
      <div><div class="num" id="n-peers">–</div><div class="label">peers</div></div>
      <div><div class="num" id="n-wants">–</div><div class="label">wants received</div></div>
      <div><div class="num" id="n-hits">–</div><div class="label">cache hits</div></div>
      <div><div class="num" id="n-misses">–</div><div class="label">misses</div></div>
      <div><div class="num" id="n-active">–</div><div class="label">retrievals active</div></div>
      <div><div class="num" id="n-ok">–</div><div class="label">succeeded / failed</div></div>
      <div><div class="num" id="n-out">–</div><div class="label">bytes out</div></div>
      <div><div class="num" id="n-in">–</div><div class="label">bytes retrieved</div></div>
      <div><div class="num" id="n-policy">–</div><div class="label">policy version</div></div>
    </div>
  </section>
  <section>
    <h2>Wants, hits and misses per second</h2>
    <svg id="plot-wants" viewBox="0 0 300 60" preserveAspectRatio="none"></svg>
    <h2>Retrievals by outcome (per second)</h2>
    <svg id="plot-retrievals" viewBox="0 0 300 60" preserveAspectRatio="none"></svg>
    <h2>Bytes out per second</h2>
    <svg id="plot-bytes" viewBox="0 0 300 60" preserveAspectRatio="none"></svg>
  </section>
  <section>
    <h2>CID deny list</h2>
    <form id="deny-form"><input id="deny-cid" placeholder="CID to deny" aria-label="CID to deny"> <button>Deny</button></form>
    <div class="err" id="deny-error"></div>
    <table id="deny-table"><tbody></tbody></table>
    <h2>Provider deny list</h2>
    <table id="miner-deny-table"><tbody></tbody></table>
    <h2>Provider allow list</h2>
    <table id="miner-allow-table"><tbody></tbody></table>
  </section>
  <section>
    <h2>Recent retrievals</h2>
    <table id="retrievals"><thead><tr><th>root</th><th>status</th><th>bytes</th></tr></thead><tbody></tbody></table>
    <pre id="explain" hidden></pre>
  </section>
</main>
<script nonce="${nonce}">
(() => {
  const $ = (id) => document.getElementById(id)
  const history = { wants: [], hits: [], misses: [], ok: [], failed: [], out: [] }
  let last = null
  let abort = null
  const token = () => sessionStorage.getItem('autoretrieve-token') || ''
  const api = async (method, path, body) => {
    const res = await fetch(path, { method, headers: { Authorization: 'Bearer ' + token(), ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
    const data = await res.json().catch(() => ({}))
    if (!res.ok) throw new Error((data.error && data.error.message) || res.status)
    return data
  }
  const fmt = (n) => n >= 1e9 ? (n / 1e9).toFixed(2) + ' GB' : n >= 1e6 ? (n / 1e6).toFixed(1) + ' MB' : n >= 1e3 ? (n / 1e3).toFixed(1) + ' kB' : String(n)
  const text = (el, s) => { el.textContent = s }
  const plot = (svg, series, colors) => {
    const max = Math.max(1, ...series.flat())
    svg.replaceChildren(...series.map((values, i) => {
      const p = document.createElementNS('http://www.w3.org/2000/svg', 'polyline')
      p.setAttribute('fill', 'none'); p.setAttribute('stroke', colors[i]); p.setAttribute('stroke-width', '1.5')
      p.setAttribute('points', values.map((v, x) => (x * 300 / 119).toFixed(1) + ',' + (58 - v / max * 54).toFixed(1)).join(' '))
      return p
    }))
  }
  const push = (name, v) => { history[name].push(v); if (history[name].length > 120) history[name].shift() }
  const show = (s) => {
    text($('n-peers'), s.peers); text($('n-wants'), s.wantsReceived); text($('n-hits'), s.hits); text($('n-misses'), s.misses)
    text($('n-active'), s.retrievals.active); text($('n-ok'), s.retrievals.succeeded + ' / ' + s.retrievals.failed)
    text($('n-out'), fmt(s.bytes.out)); text($('n-in'), fmt(s.bytes.in)); text($('n-policy'), s.policyVersion)
    if (last) {
      push('wants', s.wantsReceived - last.wantsReceived); push('hits', s.hits - last.hits); push('misses', s.misses - last.misses)
      push('ok', s.retrievals.succeeded - last.retrievals.succeeded); push('failed', s.retrievals.failed - last.retrievals.failed)
      push('out', s.bytes.out - last.bytes.out)
      plot($('plot-wants'), [history.wants, history.hits, history.misses], ['#345', '#2a7', '#d62'])
      plot($('plot-retrievals'), [history.ok, history.failed], ['#2a7', '#b00020'])
      plot($('plot-bytes'), [history.out], ['#36c'])
    }
    last = s
  }
  const row = (cells, action) => {
    const tr = document.createElement('tr')
    for (const c of cells) { const td = document.createElement('td'); td.textContent = c; tr.append(td) }
    if (action) { const td = document.createElement('td'); const b = document.createElement('button'); b.textContent = action.label; b.onclick = action.run; td.append(b); tr.append(td) }
    return tr
  }
  const refreshLists = async () => {
    const p = await api('GET', '/api/v1/policy')
    $('deny-table').tBodies[0].replaceChildren(...p.cidBlacklist.map((e) => row([e.cid, e.origin], { label: 'Remove', run: () => api('DELETE', '/api/v1/blacklist/cids/' + e.cid).then(refreshLists) })))
    $('miner-deny-table').tBodies[0].replaceChildren(...p.minerBlacklist.map((e) => row([e.provider, e.origin], { label: 'Remove', run: () => api('DELETE', '/api/v1/blacklist/miners/' + e.provider).then(refreshLists) })))
    $('miner-allow-table').tBodies[0].replaceChildren(...p.minerWhitelist.map((e) => row([e.provider, e.origin], { label: 'Remove', run: () => api('DELETE', '/api/v1/whitelist/miners/' + e.provider).then(refreshLists) })))
  }
  const refreshRetrievals = async () => {
    const r = await api('GET', '/api/v1/retrievals?limit=15')
    $('retrievals').tBodies[0].replaceChildren(...r.items.map((x) => row([x.rootCid, x.status + (x.reason ? ' (' + x.reason + ')' : ''), fmt(x.bytes)], {
      label: 'Why?', run: async () => { const e = $('explain'); e.hidden = false; e.textContent = JSON.stringify(await api('GET', '/api/v1/cids/' + x.rootCid + '/explain'), null, 2) }
    })))
  }
  const stream = async () => {
    abort?.abort(); abort = new AbortController()
    const res = await fetch('/api/v1/stats/stream', { headers: { Authorization: 'Bearer ' + token() }, signal: abort.signal })
    if (!res.ok) { text($('status'), 'token refused'); return }
    text($('status'), 'live')
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    let buf = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buf += value
      let i
      while ((i = buf.indexOf('\\n\\n')) >= 0) {
        const frame = buf.slice(0, i); buf = buf.slice(i + 2)
        const data = frame.split('\\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('')
        const ev = (frame.split('\\n').find((l) => l.startsWith('event:')) || 'event: stats').slice(6).trim()
        if (data && ev === 'stats') show(JSON.parse(data))
      }
    }
    text($('status'), 'disconnected')
  }
  const connect = () => {
    sessionStorage.setItem('autoretrieve-token', $('token').value || token())
    stream().catch(() => text($('status'), 'disconnected'))
    refreshLists().catch(() => {}); refreshRetrievals().catch(() => {})
  }
  $('connect').onclick = connect
  $('deny-form').onsubmit = async (ev) => {
    ev.preventDefault(); text($('deny-error'), '')
    try { await api('POST', '/api/v1/blacklist/cids', { cid: $('deny-cid').value.trim() }); $('deny-cid').value = ''; await refreshLists() }
    catch (err) { text($('deny-error'), err.message) }
  }
  setInterval(() => { if (token()) refreshRetrievals().catch(() => {}) }, 5000)
  if (token()) connect()
})()
</script>
</body>
</html>`
}
