// The one-map page: OneMap's own tiles and styles, a layer list, feature popups, and a
// conflict check of a drawn or uploaded site. No CDN, no internet basemap: it must work on
// an offline government network.
"use strict";

const LISHUI = [[118.69, 27.41], [120.45, 28.96]];
const SEVERITY = { forbidden: "禁止", restricted: "限制", notice: "提示", clear: "无冲突" };
const RESULT_COLOURS = { forbidden: "#d32f2f", restricted: "#f57c00", notice: "#fbc02d" };

const state = { drawing: false, vertices: [], site: null, body: null, contentType: null };

function fmt(x, digits = 2) {
  return Number(x).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const mu = (m2) => m2 * 15 / 10000;
const escapeHTML = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));

// The key or token the user signed in with lives in this tab's sessionStorage only: never in
// the address (which is bookmarked and sent on), never sent anywhere but to this server.
const CREDENTIAL = "onemap.credential";
const ROLE_NAMES = { viewer: "查看", planner: "规划", approver: "审批", admin: "管理" };
const credential = () => sessionStorage.getItem(CREDENTIAL);
const authorised = (headers = {}) => (credential() ? { ...headers, Authorization: "Bearer " + credential() } : headers);

// Single sign-on (统一身份认证): an OpenID Connect authorization-code login with PKCE, where
// the server was given `viewer_login` (GET /v1/auth/login). The page is a public client: it
// holds no secret, so the code it gets back is bound to a one-time verifier kept in this tab
// (PKCE, RFC 7636), and the token it trades the code for lives where a pasted one does.
const LOGIN = "onemap.login";
const SSO = "onemap.sso";
const redirectURI = () => location.origin + location.pathname;

function base64url(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(bytes) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return base64url(a);
}

async function sha256(text) {
  const bytes = new TextEncoder().encode(text);
  // crypto.subtle exists only in secure contexts; a page served over plain http to another
  // host than localhost (common on government intranets) has none.
  if (crypto.subtle) return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return sha256Bytes(bytes);
}

// SHA-256 (FIPS 180-4) for pages without crypto.subtle.
function sha256Bytes(message) {
  const primes = [];
  for (let n = 2; primes.length < 64; n++) if (primes.every((p) => n % p)) primes.push(n);
  const fraction = (x) => ((x - Math.floor(x)) * 2 ** 32) >>> 0;
  const K = primes.map((p) => fraction(Math.cbrt(p)));
  let H = primes.slice(0, 8).map((p) => fraction(Math.sqrt(p)));
  const padded = new Uint8Array(((message.length + 9 + 63) >> 6) << 6);
  padded.set(message);
  padded[message.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(message.length / 2 ** 29));
  view.setUint32(padded.length - 4, (message.length * 8) >>> 0);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  const w = new Uint32Array(64);
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + 4 * i);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, h] = H;
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      [h, g, f, e, d, c, b, a] = [g, f, e, (d + t1) | 0, c, b, a, (t1 + t2) | 0];
    }
    H = H.map((x, i) => (x + [a, b, c, d, e, f, g, h][i]) | 0);
  }
  const out = new Uint8Array(32);
  H.forEach((x, i) => new DataView(out.buffer).setUint32(4 * i, x >>> 0));
  return out;
}

// Sends the person to the provider; the view (the address's #hash) comes back with them.
async function startLogin(login) {
  const verifier = randomText(32);
  const nonce = randomText(16);
  sessionStorage.setItem(LOGIN, JSON.stringify({ verifier, state: nonce, hash: location.hash }));
  const query = new URLSearchParams({
    response_type: "code", client_id: login.clientId, redirect_uri: redirectURI(), scope: login.scope, state: nonce,
    code_challenge: base64url(await sha256(verifier)), code_challenge_method: "S256",
  });
  location.assign(login.authorizationEndpoint + (login.authorizationEndpoint.includes("?") ? "&" : "?") + query);
}

// Back from the provider with ?code=…&state=… (or ?error=…): the code leaves the address at
// once, and is traded, with this tab's verifier, for the token the page then sends.
async function finishLogin(login) {
  const query = new URLSearchParams(location.search);
  if (!query.has("code") && !query.has("error")) return;
  const pending = JSON.parse(sessionStorage.getItem(LOGIN) || "null");
  sessionStorage.removeItem(LOGIN);
  history.replaceState(null, "", location.pathname + ((pending && pending.hash) || ""));
  if (query.has("error")) throw new Error(query.get("error_description") || query.get("error"));
  if (!pending || query.get("state") !== pending.state) throw new Error("登录应答不是本页发起的登录 (state 不符)");
  const response = await fetch(login.tokenEndpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", code: query.get("code"), redirect_uri: redirectURI(), client_id: login.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error_description || body.error || response.statusText);
  if (!body[login.token]) throw new Error("身份认证服务的应答里没有 " + login.token);
  sessionStorage.setItem(CREDENTIAL, body[login.token]);
  sessionStorage.setItem(SSO, "1");
}

// The server's sign-in settings, asked without the tab's credential (an expired one would be refused).
async function signInSettings() {
  const response = await fetch("/v1/auth/login").catch(() => null);
  const settings = response && response.ok ? await response.json().catch(() => null) : null;
  return settings && settings.available ? settings : null;
}

async function json(url, options = {}) {
  const response = await fetch(url, { ...options, headers: authorised(options.headers) });
  const text = await response.text();
  let body = null;
  try { body = JSON.parse(text); } catch (e) { body = { detail: text }; }
  if (!response.ok) {
    // Every error is a problem (RFC 9457): detail says what went wrong.
    const message = body && (body.detail || body.title) || response.statusText;
    throw new Error(message);
  }
  return body;
}

// A style whose text layers need glyphs we do not have (offline) would log errors: drop them.
function offlineStyle(style) {
  if (!style.glyphs) style.layers = style.layers.filter((l) => !(l.layout && l.layout["text-field"]));
  return style;
}

async function loadStyle() {
  try {
    return offlineStyle(await json("/styles/onemap.json"));
  } catch (e) {
    // Without the styles route, draw every layer plainly from the composite tiles.
    const tilejson = await json("/tiles/onemap.json");
    const layers = [{ id: "background", type: "background", paint: { "background-color": "#f5f5f2" } }];
    for (const v of tilejson.vector_layers || []) {
      layers.push({ id: v.id + "-fill", type: "fill", source: "onemap", "source-layer": v.id, paint: { "fill-color": "#888", "fill-opacity": 0.3 } });
      layers.push({ id: v.id + "-line", type: "line", source: "onemap", "source-layer": v.id, paint: { "line-color": "#555", "line-width": 1 } });
    }
    return { version: 8, sources: { onemap: { type: "vector", url: location.origin + "/tiles/onemap.json" } }, layers };
  }
}

function swatchColour(style, layerName) {
  for (const l of style.layers) {
    if (l["source-layer"] !== layerName) continue;
    const p = l.paint || {};
    const c = p["fill-color"] || p["line-color"] || p["circle-color"];
    if (typeof c === "string") return c;
    if (Array.isArray(c)) { const s = c.find((x) => typeof x === "string" && x.startsWith("#")); if (s) return s; }
  }
  return "#999";
}

async function buildLayerList(map, style) {
  let layers = [];
  try { layers = await json("/v1/layers"); } catch (e) { document.getElementById("layers").innerHTML = `<li class="error">${escapeHTML(e.message)}</li>`; return; }
  listLayers(map, style, layers);
}

// The layer list: a toggle, swatch, title and (from the server) count for each layer.
function listLayers(map, style, layers) {
  const list = document.getElementById("layers");
  list.innerHTML = "";
  for (const layer of layers) {
    const styleLayers = style.layers.filter((l) => l["source-layer"] === layer.name).map((l) => l.id);
    const li = document.createElement("li");
    const box = document.createElement("input");
    box.type = "checkbox"; box.checked = true; box.id = "layer-" + layer.name;
    box.addEventListener("change", () => {
      for (const id of styleLayers) map.setLayoutProperty(id, "visibility", box.checked ? "visible" : "none");
    });
    const label = document.createElement("label");
    label.htmlFor = box.id;
    label.textContent = `${layer.title}`;
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = swatchColour(style, layer.name);
    const count = document.createElement("span");
    count.className = "muted";
    count.textContent = layer.count === undefined ? "" : `${layer.count.toLocaleString()}`;
    li.append(box, swatch, label, count);
    list.append(li);
  }
  state.titles = Object.fromEntries(layers.map((l) => [l.name, l.title]));
}

function popupTable(layer, properties) {
  const title = (state.titles && state.titles[layer]) || layer;
  let html = `<table class="popup"><tr><th colspan="2">${escapeHTML(title)}</th></tr>`;
  for (const [k, v] of Object.entries(properties)) html += `<tr><td>${escapeHTML(k)}</td><td>${escapeHTML(v)}</td></tr>`;
  return html + "</table>";
}

async function showPopup(map, e) {
  if (state.drawing) return;
  const features = map.queryRenderedFeatures(e.point).filter((f) => f.sourceLayer);
  if (!features.length) return;
  const seen = new Set();
  let html = "";
  // At overview zooms small polygons come as boxes without attributes, and the smallest as
  // coverage squares (om_merged): ask the server what is here.
  const bare = new Set();
  for (const f of features) {
    const key = f.sourceLayer + ":" + f.id;
    if (seen.has(key) || seen.size >= 4) continue;
    seen.add(key);
    if (Object.keys(f.properties).length === 0 || "om_merged" in f.properties) bare.add(f.sourceLayer);
    else html += popupTable(f.sourceLayer, f.properties);
  }
  if (bare.size && openArchive) {
    // An archive has no server behind it to ask.
    html += `<p class="popup">放大查看图斑属性 (zoom in for the parcel's attributes)</p>`;
  } else if (bare.size) {
    const q = `lon=${e.lngLat.lng}&lat=${e.lngLat.lat}&geometry=false&layers=${[...bare].map(encodeURIComponent).join(",")}`;
    try {
      const hits = await json(`/v1/identify?${q}`);
      for (const f of hits.features) html += popupTable(f.layer, f.properties);
      if (!hits.features.length) html += `<p class="popup">放大查看图斑属性 (zoom in for the parcel's attributes)</p>`;
    } catch (err) {
      html += `<p class="popup">${escapeHTML(err.message)}</p>`;
    }
  }
  new maplibregl.Popup({ maxWidth: "28em" }).setLngLat(e.lngLat).setHTML(html).addTo(map);
}

function setSite(map, geometry, body, contentType) {
  state.site = geometry;
  state.body = body;
  state.contentType = contentType;
  map.getSource("site").setData(geometry ? { type: "Feature", geometry, properties: {} } : { type: "FeatureCollection", features: [] });
  document.getElementById("run").disabled = !body;
}

function drawnGeometry() {
  if (state.vertices.length < 3) return null;
  return { type: "Polygon", coordinates: [[...state.vertices, state.vertices[0]]] };
}

function updateDrawing(map) {
  const coords = state.vertices;
  const features = coords.map((c) => ({ type: "Feature", geometry: { type: "Point", coordinates: c }, properties: {} }));
  if (coords.length >= 2) features.push({ type: "Feature", geometry: { type: "LineString", coordinates: coords }, properties: {} });
  map.getSource("drawing").setData({ type: "FeatureCollection", features });
}

function startDrawing(map) {
  state.drawing = true;
  state.vertices = [];
  map.doubleClickZoom.disable();
  map.getCanvas().style.cursor = "crosshair";
  document.getElementById("draw").classList.add("active");
  document.getElementById("draw-hint").hidden = false;
  setSite(map, null, null, null);
}

function finishDrawing(map) {
  state.drawing = false;
  map.getCanvas().style.cursor = "";
  document.getElementById("draw").classList.remove("active");
  document.getElementById("draw-hint").hidden = true;
  setTimeout(() => map.doubleClickZoom.enable(), 300);
  const g = drawnGeometry();
  state.vertices = [];
  updateDrawing(map);
  if (g) setSite(map, g, JSON.stringify({ geometry: g }), "application/json");
}

async function uploadFile(map, file) {
  const buffer = await file.arrayBuffer();
  const head = new TextDecoder().decode(buffer.slice(0, 64)).trim();
  if (head.startsWith("{")) {
    let doc;
    try { doc = JSON.parse(new TextDecoder().decode(buffer)); } catch (e) { return showError("文件不是有效的 JSON: " + e.message); }
    const geometry = doc.type === "FeatureCollection" ? null : (doc.type === "Feature" ? doc.geometry : doc);
    setSite(map, geometry, new TextDecoder().decode(buffer), "application/json");
    if (doc.type === "FeatureCollection") map.getSource("site").setData(doc);
    fitTo(map, doc);
  } else {
    // 部标 TXT (UTF-8 or GBK): sent as is; the server decodes it and returns the site.
    setSite(map, null, buffer, "text/plain");
    document.getElementById("result").innerHTML = `<p class="muted">已读取 ${escapeHTML(file.name)},点击"开始审查"。</p>`;
  }
}

function fitTo(map, geojson) {
  const b = new maplibregl.LngLatBounds();
  const walk = (c) => (typeof c[0] === "number" ? b.extend(c) : c.forEach(walk));
  const geometries = geojson.type === "FeatureCollection" ? geojson.features.map((f) => f.geometry)
    : [geojson.type === "Feature" ? geojson.geometry : geojson];
  for (const g of geometries) if (g && g.coordinates) walk(g.coordinates);
  if (!b.isEmpty()) map.fitBounds(b, { padding: 80, maxZoom: 16, duration: 0 });
}

function showError(message) {
  document.getElementById("result").innerHTML = `<p class="error">${escapeHTML(message)}</p>`;
}

async function runCheck(map) {
  const code = document.getElementById("project-code").value.trim();
  const name = document.getElementById("project-name").value.trim();
  let body = state.body;
  let contentType = state.contentType;
  if (contentType === "application/json" && (code || name)) {
    const parsed = JSON.parse(body);
    const wrapped = parsed.type ? (parsed.type === "Feature" ? { feature: parsed } : (parsed.type === "FeatureCollection" ? null : { geometry: parsed })) : parsed;
    if (wrapped) { if (code) wrapped.projectCode = code; if (name) wrapped.projectName = name; body = JSON.stringify(wrapped); }
  }
  document.getElementById("result").innerHTML = `<p class="muted">审查中…</p>`;
  let result;
  try {
    result = await json("/v1/checks", { method: "POST", headers: { "Content-Type": contentType }, body });
  } catch (e) {
    return showError("审查失败: " + e.message);
  }
  renderResult(result);
  try {
    const pieces = await json(`/v1/checks/${encodeURIComponent(result.id)}/geojson`);
    map.getSource("result").setData(pieces);
    const site = pieces.features.find((f) => f.properties.role === "site");
    if (site) { setSite(map, site.geometry, state.body, state.contentType); fitTo(map, site); }
  } catch (e) { /* the table is the answer; the map is a bonus */ }
}

function renderResult(r) {
  let html = `<p>结论 <span class="verdict ${r.verdict}" id="verdict" data-verdict="${r.verdict}">${SEVERITY[r.verdict]}</span></p>`;
  html += `<p>用地面积 ${fmt(r.site.areaM2)} m² · ${fmt(r.site.areaMu, 3)} 亩 · ${fmt(r.site.areaHa, 4)} 公顷</p>`;
  html += `<table><tr><th>图层</th><th>结论</th><th>面积 (m²)</th><th>亩</th></tr>`;
  for (const l of r.layers) {
    const area = l.outsideAreaM2 !== undefined ? l.outsideAreaM2 : l.overlapAreaM2;
    const what = l.outsideAreaM2 !== undefined ? "(边界外)" : "";
    const verdict = l.conflict ? `<span class="verdict ${l.severity}">${SEVERITY[l.severity]}</span>` : "无冲突";
    html += `<tr><td>${escapeHTML(l.title)}${what}</td><td>${verdict}</td><td class="n">${fmt(area)}</td><td class="n">${fmt(mu(area), 3)}</td></tr>`;
  }
  html += "</table>";
  for (const w of r.warnings || []) html += `<p class="muted">提示: ${escapeHTML(w)}</p>`;
  html += `<p><a id="report" href="/v1/checks/${encodeURIComponent(r.id)}/report" target="_blank">查看合规性分析报告</a> · 编号 ${escapeHTML(r.id)}</p>`;
  document.getElementById("result").innerHTML = html;
  // A new tab would ask for the report without the credential: fetch it here and show it there.
  document.getElementById("report").addEventListener("click", async (e) => {
    if (!credential()) return;
    e.preventDefault();
    const page = window.open("", "_blank");
    const response = await fetch(e.currentTarget.href, { headers: authorised() });
    page.location = URL.createObjectURL(new Blob([await response.text()], { type: "text/html;charset=utf-8" }));
  });
}

function addOverlays(map) {
  const empty = { type: "FeatureCollection", features: [] };
  map.addSource("site", { type: "geojson", data: empty });
  map.addSource("drawing", { type: "geojson", data: empty });
  map.addSource("result", { type: "geojson", data: empty });
  const severityColour = ["match", ["get", "severity"], "forbidden", RESULT_COLOURS.forbidden, "restricted", RESULT_COLOURS.restricted, "notice", RESULT_COLOURS.notice, "#555"];
  map.addLayer({ id: "result-feature", type: "line", source: "result", filter: ["==", ["get", "role"], "feature"], paint: { "line-color": severityColour, "line-width": 2, "line-dasharray": [2, 1] } });
  map.addLayer({ id: "result-overlap", type: "fill", source: "result", filter: ["in", ["get", "role"], ["literal", ["overlap", "corridor", "outside"]]], paint: { "fill-color": severityColour, "fill-opacity": 0.6 } });
  map.addLayer({ id: "site-line", type: "line", source: "site", paint: { "line-color": "#000", "line-width": 3 } });
  map.addLayer({ id: "drawing-line", type: "line", source: "drawing", paint: { "line-color": "#1565c0", "line-width": 2 } });
  map.addLayer({ id: "drawing-points", type: "circle", source: "drawing", filter: ["==", ["geometry-type"], "Point"], paint: { "circle-radius": 4, "circle-color": "#1565c0" } });
}

// Offline mode: the map from a PMTiles archive (pmtiles.js) rather than from the server, for
// a tablet in the field (the page opened from disk, the archive picked as a file) or a static
// server or CDN (`?archive=lishui.pmtiles`). With no server there is no sign-in, no check and
// no identify: the archive's tiles and their attributes are all there is.
const ARCHIVE_PARAM = new URLSearchParams(location.search).get("archive");
const OFFLINE = location.protocol === "file:" || ARCHIVE_PARAM !== null;

async function showArchive(map, source) {
  const status = document.getElementById("archive-status");
  status.className = "muted";
  status.textContent = "读取中…";
  let archive;
  try {
    archive = await new PMTilesArchive(source).open();
  } catch (e) {
    status.className = "error";
    status.textContent = "无法打开图包: " + e.message;
    throw e;
  }
  openArchive = archive;
  const style = offlineStyle(archiveStyle(archive));
  map.setStyle(style);
  // The check's overlays belong to the style: a new style needs them again.
  map.once("style.load", () => { if (!OFFLINE) addOverlays(map); });
  const [w, s, e, n] = archive.header.bounds;
  map.fitBounds([[w, s], [e, n]], { padding: 20, duration: 0 });
  // TileJSON's vector_layers: the id is the layer's name, the description its title.
  const layers = (archive.metadata.vector_layers || []).map((v) => ({ name: v.id, title: v.description || v.id }));
  listLayers(map, style, layers);
  state.titles = Object.fromEntries(layers.map((l) => [l.name, l.title]));
  const versions = Object.entries(archive.metadata["onemap:versions"] || {}).map(([k, v]) => `${k} v${v}`).join(", ");
  status.textContent = `${archive.name} · z${archive.header.minZoom}–${archive.header.maxZoom}` + (versions ? ` · ${versions}` : "");
  window.onemapArchive = archive;
}

function wireArchive(map) {
  document.getElementById("archive").addEventListener("change", (e) => {
    if (e.target.files[0]) showArchive(map, e.target.files[0]).catch((err) => console.warn(err));
    e.target.value = "";
  });
}

async function mainOffline() {
  for (const id of ["signin", "check"]) document.getElementById(id).hidden = true;
  document.getElementById("layers").innerHTML = `<li class="muted">打开图包后显示</li>`;
  if (typeof maplibregl === "undefined") {
    document.getElementById("archive-status").className = "error";
    document.getElementById("archive-status").textContent = "地图无法显示: maplibre-gl.js 不在本页旁边 (onemap tiles viewer 会写入它)";
    return;
  }
  registerArchiveProtocol(maplibregl);
  const blank = { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#f5f5f2" } }] };
  const map = new maplibregl.Map({ container: "map", style: blank, bounds: LISHUI, fitBoundsOptions: { padding: 20 }, attributionControl: false });
  window.onemapMap = map;
  map.addControl(new maplibregl.NavigationControl(), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
  map.on("click", (e) => showPopup(map, e));
  wireArchive(map);
  map.on("load", () => { window.onemapReady = true; });
  if (ARCHIVE_PARAM) await showArchive(map, new URL(ARCHIVE_PARAM, location.href).href);
}

// Who the server takes this tab to be. A key or token that no longer holds (a token expired)
// is dropped, and the page goes on as anyone's.
async function showWho() {
  const who = document.getElementById("who");
  let me = { signedIn: false };
  try {
    me = await json("/v1/me");
  } catch (e) {
    sessionStorage.removeItem(CREDENTIAL);
    who.textContent = "登录已失效 (" + e.message + "):只显示公开图层";
    who.className = "error";
    return;
  }
  if (!me.signedIn) return;
  who.className = "";
  who.textContent = `${me.name || me.subject} · ${ROLE_NAMES[me.role] || "无角色"}` + (me.scope ? ` · 数据范围 ${me.scope.join(", ")}` : "");
  document.getElementById("signin-form").hidden = true;
  document.getElementById("sso").hidden = true;
  document.getElementById("signout").hidden = false;
}

function wireSignIn(login) {
  const sso = document.getElementById("sso");
  if (login) {
    sso.hidden = false;
    sso.addEventListener("click", () => startLogin(login).catch((e) => signInFailed(e)));
  }
  document.getElementById("signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const given = document.getElementById("credential").value.trim();
    if (!given) return;
    sessionStorage.setItem(CREDENTIAL, given);
    try {
      await json("/v1/me");
    } catch (err) {
      signInFailed(err);
      return;
    }
    // The layers, the style and the tiles a signed-in user sees differ: start again with them (the view stays).
    location.reload();
  });
  document.getElementById("signout").addEventListener("click", () => {
    const viaProvider = sessionStorage.getItem(SSO);
    sessionStorage.removeItem(CREDENTIAL);
    sessionStorage.removeItem(SSO);
    // Signed in at the provider: sign out there too, and come back here.
    if (viaProvider && login && login.endSessionEndpoint) {
      const query = new URLSearchParams({ client_id: login.clientId, post_logout_redirect_uri: redirectURI() });
      location.assign(login.endSessionEndpoint + (login.endSessionEndpoint.includes("?") ? "&" : "?") + query);
    } else {
      location.reload();
    }
  });
}

function signInFailed(err) {
  sessionStorage.removeItem(CREDENTIAL);
  sessionStorage.removeItem(SSO);
  document.getElementById("who").textContent = "登录失败: " + err.message;
  document.getElementById("who").className = "error";
}

async function main() {
  if (OFFLINE) return mainOffline();
  const login = await signInSettings();
  wireSignIn(login);
  let failed = null;
  if (login) await finishLogin(login).catch((e) => { failed = e; });
  if (failed) signInFailed(failed);
  else await showWho();
  // MapLibre not unpacked or not found: its script answered the server's problem instead.
  if (typeof maplibregl === "undefined") {
    let message = "MapLibre GL JS did not load";
    try { await json("/static/maplibre/maplibre-gl.js"); } catch (e) { message = e.message; }
    showError("地图无法显示: " + message);
    return;
  }
  const style = await loadStyle();
  // hash: the view (zoom/lat/lon) lives in the address, so a planner can bookmark or send it.
  // Tiles, TileJSON and glyphs from this server carry the credential; nothing else does.
  const transformRequest = (url) => (credential() && url.startsWith(location.origin) ? { url, headers: authorised() } : { url });
  const map = new maplibregl.Map({ container: "map", style, bounds: LISHUI, fitBoundsOptions: { padding: 20 }, attributionControl: false, hash: true, transformRequest });
  window.onemapMap = map;
  map.addControl(new maplibregl.NavigationControl(), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
  registerArchiveProtocol(maplibregl);
  wireArchive(map);
  map.on("load", () => {
    addOverlays(map);
    window.onemapReady = true;
  });
  map.on("click", (e) => {
    if (state.drawing) { state.vertices.push([e.lngLat.lng, e.lngLat.lat]); updateDrawing(map); return; }
    showPopup(map, e);
  });
  map.on("dblclick", (e) => { if (state.drawing) { e.preventDefault(); finishDrawing(map); } });
  document.getElementById("draw").addEventListener("click", () => (state.drawing ? finishDrawing(map) : startDrawing(map)));
  document.getElementById("file").addEventListener("change", (e) => { if (e.target.files[0]) uploadFile(map, e.target.files[0]); e.target.value = ""; });
  document.getElementById("run").addEventListener("click", () => runCheck(map));
  document.getElementById("clear").addEventListener("click", () => {
    setSite(map, null, null, null);
    map.getSource("result").setData({ type: "FeatureCollection", features: [] });
    document.getElementById("result").innerHTML = "";
  });
  buildLayerList(map, style);
}

main().catch((e) => { console.error(e); showError("地图加载失败: " + e.message); });
