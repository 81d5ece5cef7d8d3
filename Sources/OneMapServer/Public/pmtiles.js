// A PMTiles v3 archive read in the browser, for the viewer's offline mode: a file the user
// picked (a tablet in the field with no network) or a URL on a static server or CDN that
// answers range requests. Only what the viewer needs: the header, the metadata, and a tile by
// z/x/y through the root and leaf directories, each read as one slice of the archive.
// Written for OneMap from the PMTiles v3 specification (github.com/protomaps/PMTiles, spec/v3);
// the layout matches OneMap's own writer (Sources/Tiles/PMTilesWriter.swift).
"use strict";

class PMTilesArchive {
  // `source` is a File/Blob or a URL.
  constructor(source) {
    this.source = source;
    this.name = typeof source === "string" ? source : source.name;
    this.leaves = new Map();
  }

  async bytes(offset, length) {
    if (length === 0) return new Uint8Array(0);
    if (typeof this.source !== "string") return new Uint8Array(await this.source.slice(offset, offset + length).arrayBuffer());
    const response = await fetch(this.source, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
    if (!response.ok) throw new Error(`${this.name}: HTTP ${response.status}`);
    const body = new Uint8Array(await response.arrayBuffer());
    // A server that ignores Range sends the whole file (200): take the part asked for.
    if (response.status === 200 && body.length > length) return body.subarray(offset, offset + length);
    return body;
  }

  static async gunzip(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  async decompress(bytes, method) {
    if (method === 1) return bytes;
    if (method === 2) return PMTilesArchive.gunzip(bytes);
    throw new Error(`${this.name}: compression method ${method} is not read here (none and gzip are)`);
  }

  // Reads the header, the metadata and the root directory; throws with what is wrong.
  async open() {
    const h = await this.bytes(0, 127);
    const magic = String.fromCharCode(...h.subarray(0, 7));
    if (h.length < 127 || magic !== "PMTiles") throw new Error(`${this.name}: not a PMTiles archive`);
    if (h[7] !== 3) throw new Error(`${this.name}: PMTiles version ${h[7]}; this page reads version 3`);
    const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
    const u64 = (at) => view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
    const e7 = (at) => view.getInt32(at, true) / 1e7;
    this.header = {
      rootOffset: u64(8), rootLength: u64(16), metadataOffset: u64(24), metadataLength: u64(32),
      leavesOffset: u64(40), dataOffset: u64(56),
      internalCompression: h[97], tileCompression: h[98], tileType: h[99],
      minZoom: h[100], maxZoom: h[101],
      bounds: [e7(102), e7(106), e7(110), e7(114)],
      centerZoom: h[118], center: [e7(119), e7(123)],
    };
    if (this.header.tileType !== 1) throw new Error(`${this.name}: tile type ${this.header.tileType}, not vector tiles`);
    const hd = this.header;
    const metadata = await this.decompress(await this.bytes(hd.metadataOffset, hd.metadataLength), hd.internalCompression);
    this.metadata = JSON.parse(new TextDecoder().decode(metadata));
    this.root = await this.directory(hd.rootOffset, hd.rootLength);
    return this;
  }

  // A directory: entry count, then tile IDs (delta coded), run lengths, lengths and offsets
  // (0: right after the previous entry; otherwise offset + 1), each column as varints.
  async directory(offset, length) {
    const bytes = await this.decompress(await this.bytes(offset, length), this.header.internalCompression);
    let at = 0;
    const varint = () => {
      let value = 0, scale = 1, b;
      do {
        if (at >= bytes.length) throw new Error(`${this.name}: a directory ends in the middle of a number: damaged`);
        b = bytes[at++];
        value += (b & 0x7f) * scale;
        scale *= 128;
      } while (b & 0x80);
      return value;
    };
    const n = varint();
    const entries = Array.from({ length: n }, () => ({ tileId: 0, runLength: 0, length: 0, offset: 0 }));
    let id = 0;
    for (const e of entries) { id += varint(); e.tileId = id; }
    for (const e of entries) e.runLength = varint();
    for (const e of entries) e.length = varint();
    entries.forEach((e, i) => {
      const v = varint();
      e.offset = v === 0 && i > 0 ? entries[i - 1].offset + entries[i - 1].length : v - 1;
    });
    return entries;
  }

  // The tile's place on the PMTiles curve: the tiles of every zoom above, then the Hilbert
  // index within its zoom.
  static tileId(z, x, y) {
    let before = 0;
    for (let k = 0; k < z; k++) before += 4 ** k;
    const n = 2 ** z;
    let d = 0;
    for (let s = n / 2; s >= 1; s /= 2) {
      const rx = (x & s) > 0 ? 1 : 0, ry = (y & s) > 0 ? 1 : 0;
      d += s * s * ((3 * rx) ^ ry);
      if (ry === 0) {
        if (rx === 1) { x = n - 1 - x; y = n - 1 - y; }
        [x, y] = [y, x];
      }
    }
    return before + d;
  }

  // The tile's MVT bytes, uncompressed; null where the archive has no tile.
  async tile(z, x, y) {
    const id = PMTilesArchive.tileId(z, x, y);
    let entries = this.root;
    for (let depth = 0; depth < 4; depth++) {
      let lo = 0, hi = entries.length - 1, found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (entries[mid].tileId <= id) { found = mid; lo = mid + 1; } else hi = mid - 1;
      }
      if (found < 0) return null;
      const e = entries[found];
      if (e.runLength > 0) {
        if (id - e.tileId >= e.runLength) return null;
        const data = await this.bytes(this.header.dataOffset + e.offset, e.length);
        return this.decompress(data, this.header.tileCompression);
      }
      const key = e.offset;
      if (!this.leaves.has(key)) this.leaves.set(key, this.directory(this.header.leavesOffset + e.offset, e.length));
      entries = await this.leaves.get(key);
    }
    throw new Error(`${this.name}: leaf directories nested deeper than 4: damaged`);
  }
}

// MapLibre asks `pmtiles://archive/{z}/{x}/{y}` of the archive opened last.
const ARCHIVE_PROTOCOL = "pmtiles";
let openArchive = null;

function registerArchiveProtocol(maplibregl) {
  maplibregl.addProtocol(ARCHIVE_PROTOCOL, async (params) => {
    const m = /\/(\d+)\/(\d+)\/(\d+)$/.exec(params.url);
    if (!openArchive || !m) throw new Error(`no archive open for ${params.url}`);
    const data = await openArchive.tile(+m[1], +m[2], +m[3]);
    // No tile: an empty one, as a server answers 204.
    return { data: data ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : new ArrayBuffer(0) };
  });
}

// The style to draw an archive with: the one it carries (`onemap:style`, written by
// `onemap tiles export`), its tiles read from the archive; else a plain one from its layers.
function archiveStyle(archive) {
  const source = {
    type: "vector", tiles: [`${ARCHIVE_PROTOCOL}://archive/{z}/{x}/{y}`],
    minzoom: archive.header.minZoom, maxzoom: archive.header.maxZoom, bounds: archive.header.bounds,
  };
  const carried = archive.metadata["onemap:style"];
  if (carried && carried.sources) {
    const style = JSON.parse(JSON.stringify(carried));
    for (const name of Object.keys(style.sources)) style.sources[name] = source;
    return style;
  }
  const layers = [{ id: "background", type: "background", paint: { "background-color": "#f5f5f2" } }];
  for (const v of archive.metadata.vector_layers || []) {
    layers.push({ id: v.id + "-fill", type: "fill", source: "archive", "source-layer": v.id, filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": "#4a7", "fill-opacity": 0.4 } });
    layers.push({ id: v.id + "-line", type: "line", source: "archive", "source-layer": v.id, paint: { "line-color": "#555", "line-width": 1 } });
  }
  return { version: 8, sources: { archive: source }, layers };
}
