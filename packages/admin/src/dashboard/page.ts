import { LOGO_SVG } from './assets.ts'

/**
 * The operator console's page: markup only. Its style and script are files beside this one
 * (console.css, console.js), served with uPlot's from node_modules by ./assets.ts, so the page
 * needs no build step and its Content-Security-Policy allows nothing but this origin.
 */
export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>autoretrieve console</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/console/uplot.css">
<link rel="stylesheet" href="/console/console.css">
</head>
<body>
<header id="top">
  <span class="logo" aria-hidden="true">${LOGO_SVG}</span>
  <h1>autoretrieve</h1>
  <span class="pill" id="stream-state" data-state="idle" role="status" aria-live="polite">not connected</span>
  <span class="hdr-item" id="h-instance-item" hidden>instance <b id="h-instance">–</b></span>
  <span class="hdr-item">policy <b id="h-policy">–</b></span>
  <span class="pill" id="h-drift" data-state="reconnecting" hidden>config.yaml differs</span>
  <span class="hdr-item">up <b id="h-uptime">–</b></span>
  <span class="spacer"></span>
  <button type="button" id="sign-out" class="ghost">Change token</button>
</header>

<main id="console">
  <section class="tiles" aria-label="live counters">
    <div class="tile"><span class="k">Peers</span><span class="v" id="n-peers">–</span></div>
    <div class="tile"><span class="k">Wants</span><span class="v" id="n-wants">–</span></div>
    <div class="tile"><span class="k">Hits</span><span class="v" id="n-hits">–</span></div>
    <div class="tile"><span class="k">Misses</span><span class="v" id="n-misses">–</span></div>
    <div class="tile"><span class="k">Retrievals active</span><span class="v" id="n-active">–</span></div>
    <div class="tile w3"><span class="k">Retrievals by outcome</span><span class="v small" id="n-outcomes">–</span></div>
    <div class="tile"><span class="k">Bytes in</span><span class="v" id="n-in">–</span></div>
    <div class="tile"><span class="k">Bytes out</span><span class="v" id="n-out">–</span></div>
    <div class="tile wide"><span class="k">TTFB mean / last</span><span class="v" id="n-ttfb">–</span></div>
    <div class="tile wide"><span class="k">Cache fill (disk / prune-threshold)</span><span class="v" id="n-cache">–</span><span class="bar"><span id="cache-bar"></span></span></div>
    <div class="tile w4"><span class="k">Heartbeat</span><span class="v small" id="n-heartbeat">–</span></div>
    <div class="tile"><span class="k">Uptime</span><span class="v" id="n-uptime">–</span></div>
    <div class="tile"><span class="k">Policy version</span><span class="v" id="n-policy">–</span></div>
    <div class="tile w3" id="t-spend" hidden><span class="k">Spent today / max-spend-per-day</span><span class="v" id="n-spend">–</span><span class="bar"><span id="spend-bar"></span></span></div>
    <div class="tile w7" id="t-channels" hidden><span class="k">Payment channels (balance · paid · lanes)</span><span class="v small" id="n-channels">–</span></div>
  </section>

  <section class="plots" aria-label="time series">
    <figure class="plot"><figcaption>Bitswap wants, hits, misses</figcaption><div class="chart" id="plot-bitswap"></div></figure>
    <figure class="plot"><figcaption>Retrievals</figcaption><div class="chart" id="plot-retrievals"></div></figure>
    <figure class="plot"><figcaption>Throughput</figcaption><div class="chart" id="plot-bytes"></div></figure>
    <figure class="plot"><figcaption>Time to first byte</figcaption><div class="chart" id="plot-ttfb"></div></figure>
  </section>

  <section class="panel" id="policy-panel" aria-label="policy">
    <div class="panel-head">
      <h2>Policy</h2>
      <nav class="tabs" role="tablist">
        <button type="button" role="tab" data-tab="cid-deny" aria-selected="true">CID deny <span class="count" id="count-cid-deny">0</span></button>
        <button type="button" role="tab" data-tab="provider-deny" aria-selected="false">Provider deny <span class="count" id="count-provider-deny">0</span></button>
        <button type="button" role="tab" data-tab="provider-allow" aria-selected="false">Provider allow <span class="count" id="count-provider-allow">0</span></button>
        <button type="button" role="tab" data-tab="miner-configs" aria-selected="false">Miner configs <span class="count" id="count-miner-configs">0</span></button>
      </nav>
    </div>
    <div class="tab-body" id="list-editor">
      <form class="toolbar" id="list-add">
        <input id="list-value" required autocomplete="off" spellcheck="false" aria-label="value to add">
        <input id="list-reason" autocomplete="off" maxlength="500" placeholder="reason (kept with the entry)" aria-label="reason">
        <button type="submit" id="list-add-button">Deny</button>
      </form>
      <div class="toolbar">
        <input id="list-search" type="search" placeholder="search" aria-label="search the list">
        <span class="spacer"></span>
        <span class="err" id="list-error" role="alert"></span>
      </div>
      <div class="scroll"><table id="list-table"><thead><tr><th class="mono">Entry</th><th>Reason</th><th>Origin</th><th>Added</th><th></th></tr></thead><tbody></tbody></table></div>
      <div class="pager" id="list-pager"><button type="button" data-dir="-1" aria-label="previous page">‹</button><span id="list-page">–</span><button type="button" data-dir="1" aria-label="next page">›</button></div>
    </div>
    <div class="tab-body" id="miner-editor" hidden>
      <form class="toolbar" id="miner-add">
        <input id="miner-provider" required autocomplete="off" spellcheck="false" placeholder="provider (peer ID or f0…)" aria-label="provider">
        <button type="submit">Add config</button>
        <input id="miner-search" type="search" placeholder="search" aria-label="search miner configs">
        <span class="err" id="miner-error" role="alert"></span>
      </form>
      <div class="scroll"><table id="miner-table"><thead><tr><th>Provider</th><th>Retrieval timeout</th><th>Max concurrent</th><th>Max bytes/s</th><th>Origin</th><th></th></tr></thead><tbody></tbody></table></div>
      <div class="pager" id="miner-pager"><button type="button" data-dir="-1" aria-label="previous page">‹</button><span id="miner-page">–</span><button type="button" data-dir="1" aria-label="next page">›</button></div>
    </div>
  </section>

  <section class="panel" id="retrievals-panel" aria-label="retrievals">
    <div class="panel-head">
      <h2>Retrievals</h2>
      <form class="filters" id="retrieval-filters">
        <select id="f-status" aria-label="outcome"><option value="">any outcome</option><option value="running">running</option><option value="success">success</option><option value="failed">failed</option></select>
        <input id="f-cid" placeholder="root CID" autocomplete="off" spellcheck="false" aria-label="filter by CID">
        <input id="f-provider" placeholder="provider" autocomplete="off" spellcheck="false" aria-label="filter by provider">
        <button type="submit">Filter</button>
      </form>
    </div>
    <div class="scroll"><table id="retrievals"><thead><tr><th>Time</th><th>Root</th><th>Provider</th><th>Protocol</th><th class="num">Bytes</th><th class="num">Duration</th><th>Outcome</th><th class="num">Cost</th><th></th></tr></thead><tbody></tbody></table></div>
    <div class="pager" id="retrieval-pager"><button type="button" id="r-newest">Newest</button><button type="button" id="r-older">Older ›</button><span class="err" id="retrieval-error" role="alert"></span></div>
    <div class="why" id="why" aria-live="polite">
      <form class="toolbar" id="why-form">
        <h3>Why?</h3>
        <input id="why-cid" placeholder="CID to explain" autocomplete="off" spellcheck="false" aria-label="CID to explain">
        <button type="submit">Explain</button>
      </form>
      <div id="why-body" class="muted">Pick a retrieval (Why) or enter a CID to see what the node decided and why.</div>
    </div>
  </section>
</main>

<div class="login" id="login" hidden>
  <form id="login-form">
    <h2>autoretrieve console</h2>
    <p class="muted">The admin token is the file <code>admin-token</code> in the node's data dir (<code>~/.autoretrieve/admin-token</code> by default). Opening <code>/#token=…</code> signs in too.</p>
    <input id="token" type="password" autocomplete="off" placeholder="admin token" aria-label="admin token" required>
    <button type="submit" id="connect">Connect</button>
    <p class="err" id="login-error" role="alert"></p>
  </form>
</div>
<script src="/console/uplot.js"></script>
<script src="/console/console.js"></script>
</body>
</html>`
}

/** The console's Content-Security-Policy: its own files and API, nothing inline, nothing from elsewhere. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
