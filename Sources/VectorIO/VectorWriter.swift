import CGDAL
import Foundation
import GeoCore

/// Writes features to a new vector dataset with GDAL/OGR, in the formats users exchange:
/// GeoPackage, Shapefile, GeoJSON.
public final class VectorWriter {
    public enum Format: String {
        case geoPackage = "GPKG"
        case shapefile = "ESRI Shapefile"
        case geoJSON = "GeoJSON"
    }

    public let path: String
    private let dataset: GDALDatasetH
    private let layer: OGRLayerH
    private let fields: [FieldDefinition]
    /// Text attributes are recoded from UTF-8 to this before writing, and no .cpg is written:
    /// the way many Chinese Shapefiles arrive.
    private let rawEncoding: String?
    private var closed = false

    /// - Parameters:
    ///   - crs: an "EPSG:n" code.
    ///   - geometryType: "Polygon", "MultiPolygon", "LineString", "MultiLineString", "Point", …
    ///   - rawEncoding: for Shapefiles only, see above.
    public init(
        path: String, format: Format, layerName: String, crs: String, geometryType: String,
        fields: [FieldDefinition], rawEncoding: String? = nil, layerOptions: [String] = []
    ) throws {
        _ = GDAL.ready
        self.path = path
        self.fields = fields
        self.rawEncoding = rawEncoding
        guard let drv = GDALGetDriverByName(format.rawValue) else {
            throw GDAL.lastError("no GDAL driver \(format.rawValue)")
        }
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        guard let ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, nil) else {
            throw GDAL.lastError("cannot create \(path)")
        }
        guard let srs = OSRNewSpatialReference(nil) else { GDALClose(ds); throw GDAL.lastError("spatial reference") }
        defer { OSRDestroySpatialReference(srs) }
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER)
        let code = Int32(crs.split(separator: ":").last.flatMap { Int($0) } ?? 0)
        guard OSRImportFromEPSG(srs, code) == OGRERR_NONE else { GDALClose(ds); throw GDAL.lastError("unknown CRS \(crs)") }
        let codes = ["Point": 1, "LineString": 2, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5, "MultiPolygon": 6]
        guard let typeCode = codes[geometryType] else {
            GDALClose(ds); throw LibraryError("GDAL", "unsupported geometry type \(geometryType)")
        }
        let gtype = OGRwkbGeometryType(rawValue: UInt32(typeCode))
        var options = layerOptions
        if format == .shapefile, rawEncoding != nil { options.append("ENCODING=") }
        let lyr = GDAL.withStringList(options) { GDALDatasetCreateLayer(ds, layerName, srs, gtype, $0) }
        guard let lyr else { GDALClose(ds); throw GDAL.lastError("cannot create layer \(layerName)") }
        for f in fields {
            let type: OGRFieldType
            switch f.type {
            case .integer: type = OFTInteger64
            case .real: type = OFTReal
            case .text: type = OFTString
            }
            let fd = OGR_Fld_Create(f.name, type)
            if format == .shapefile && f.type == .text { OGR_Fld_SetWidth(fd, 80) }
            if format == .shapefile && f.type == .integer { OGR_Fld_SetWidth(fd, 18) }
            let err = OGR_L_CreateField(lyr, fd, 1)
            OGR_Fld_Destroy(fd)
            guard err == OGRERR_NONE else { GDALClose(ds); throw GDAL.lastError("cannot create field \(f.name)") }
        }
        dataset = ds
        layer = lyr
        // One transaction for the whole file: GeoPackage writes are otherwise per feature.
        GDALDatasetStartTransaction(ds, 0)
    }

    deinit { if !closed { GDALClose(dataset) } }

    /// A feature; with no geometry (nil), a row with its attributes alone (a patch that could
    /// not be read, reported with its reason).
    public func write(geometry: Geometry?, attributes: [AttributeValue], fid: Int64? = nil) throws {
        guard let f = OGR_F_Create(OGR_L_GetLayerDefn(layer)) else { throw GDAL.lastError("cannot create feature") }
        defer { OGR_F_Destroy(f) }
        if let fid { OGR_F_SetFID(f, fid) }
        for (i, value) in attributes.enumerated() where i < fields.count {
            let idx = Int32(i)
            switch value {
            case .null: OGR_F_SetFieldNull(f, idx)
            case .integer(let v): OGR_F_SetFieldInteger64(f, idx, v)
            case .real(let v): OGR_F_SetFieldDouble(f, idx, v)
            case .text(let s):
                if let rawEncoding {
                    let recoded = CPLRecode(s, "UTF-8", rawEncoding)
                    OGR_F_SetFieldString(f, idx, recoded)
                    VSIFree(recoded)
                } else {
                    OGR_F_SetFieldString(f, idx, s)
                }
            }
        }
        if let geometry {
            let wkb = WKB.encode(geometry)
            var g: OGRGeometryH? = nil
            let err = wkb.withUnsafeBytes { OGR_G_CreateFromWkb($0.baseAddress, nil, &g, Int32($0.count)) }
            guard err == OGRERR_NONE, let g else { throw GDAL.lastError("cannot build geometry") }
            OGR_F_SetGeometryDirectly(f, g)
        }
        guard OGR_L_CreateFeature(layer, f) == OGRERR_NONE else { throw GDAL.lastError("cannot write feature") }
    }

    /// Commits and closes the file. Must be called; a writer dropped without it leaves a partial file.
    public func close() throws {
        guard !closed else { return }
        closed = true
        GDALDatasetCommitTransaction(dataset)
        CPLErrorReset()
        GDALClose(dataset)
        if CPLGetLastErrorType().rawValue >= CE_Failure.rawValue { throw GDAL.lastError("closing \(path)") }
        if rawEncoding != nil {
            // GDAL still writes a .cpg; files from the field arrive without one.
            let cpg = (path as NSString).deletingPathExtension + ".cpg"
            if FileManager.default.fileExists(atPath: cpg) { try FileManager.default.removeItem(atPath: cpg) }
        }
    }
}
