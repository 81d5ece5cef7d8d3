// Vector tiles: tile grids, MVT encoding, generalisation, cache.
//
// The pipeline, one file per step:
//
//   TileService           which layers (public only, for now), cache lookup by
//                         (grid, layer@version…, z/x/y), strong ETag, composites
//   StoreLayerSource      one layer version in the store: candidates by R*Tree, or for
//                         large layers from memory (ResidentLayer: FeatureSummary's boxes,
//                         FeatureShapes' outlines, FeatureAttributes), tiny polygons straight
//                         to coverage, the rest encoded
//   FeatureGeometryEncoder  project → clip to the buffered tile → simplify (Douglas–Peucker,
//                         1 tile unit) → snap to the grid → MVT ring rules, GEOS MakeValid
//                         for the rare ring snapping broke
//   Coverage              polygons too small to draw, kept as area: one square per cell
//   LayerTileAssembler    the layer within its byte budget (attributes, vertices, cells)
//   MVTEncoder, Protobuf  the wire format, by hand
//   TileMatrixSet         WebMercatorQuad and the CGCS2000 (EPSG:4490) 天地图 matrix set
//
// Generalisation, in short: at every zoom a polygon whose box is under `minFeatureSize`
// tile units (24, 3 pixels of a 512-pixel tile) is not drawn as an outline; its area goes
// to the 32-unit cell holding its centre, and each cell is drawn as one square of the summed
// area, so the ground a layer covers is kept exactly (to the rounding of the squares) while
// a z8 tile of 150,000 parcels becomes a few thousand squares. Larger polygons are simplified
// to the tile's resolution. A layer tile over its budget (450 KiB) first sheds attributes
// that are unique per feature, then vertices, then its densest cells. See Coverage.swift
// and LayerTileAssembler.swift.
