import CGDAL
import Foundation
import GeoCore

/// One feature as read from a source: its OGR FID, attributes (UTF-8) and geometry
/// in the source's CRS (nil when the feature has none).
public struct SourceFeature: Sendable {
    public var fid: Int64
    public var attributes: [AttributeValue]
    public var geometry: Geometry?
}

public struct SourceError: Error, CustomStringConvertible {
    public let file: String
    public let layer: String?
    public let message: String
    public var description: String {
        "\(file)\(layer.map { " (layer \($0))" } ?? ""): \(message)"
    }
}

/// A layer of any vector dataset GDAL/OGR reads, streamed feature by feature.
public final class VectorSource {
    public let path: String
    public let layerName: String
    public let driver: String
    public let fields: [FieldDefinition]
    /// The CRS the source declares ("EPSG:n" or WKT2), nil if it declares none.
    public let declaredCRS: String?
    /// OGR's geometry type name for the layer, e.g. "Multi Polygon"; "None" for a table.
    public let geometryTypeName: String
    public let hasGeometry: Bool
    /// The feature count when the driver knows it cheaply, else nil.
    public let featureCountHint: Int?
    /// How attribute text was decoded, for the import report.
    public let encodingNote: String

    private let dataset: GDALDatasetH
    private let layer: OGRLayerH
    /// When set, raw bytes are decoded here: valid UTF-8 is kept, anything else is read as this.
    private let fallbackEncoding: String?
    /// When set, every string is recoded from this encoding (non-Shapefile sources).
    private let forcedEncoding: String?

    /// Lists the layers of a dataset.
    public static func layerNames(path: String) throws -> [String] {
        _ = GDAL.ready
        guard let ds = GDALOpenEx(path, UInt32(GDAL_OF_VECTOR | GDAL_OF_READONLY), nil, nil, nil) else {
            throw SourceError(file: path, layer: nil, message: "cannot open as a vector dataset: \(GDAL.lastError("open").message)")
        }
        defer { GDALClose(ds) }
        return (0..<GDALDatasetGetLayerCount(ds)).compactMap { i in
            OGR_L_GetName(GDALDatasetGetLayer(ds, i)).map { String(cString: $0) }
        }
    }

    /// Opens `layer` of `path` (the first layer when nil). `encoding` is the attribute
    /// encoding to assume, e.g. "GBK"; without it, a Shapefile that declares none
    /// (no .cpg, no code page in the .dbf) is read as UTF-8 where valid, else as GB18030
    /// (a superset of GBK), which is how Chinese exchange files arrive.
    public init(path: String, layer wanted: String? = nil, encoding: String? = nil) throws {
        _ = GDAL.ready
        self.path = path
        guard FileManager.default.fileExists(atPath: path) || path.hasPrefix("/vsi") else {
            throw SourceError(file: path, layer: wanted, message: "no such file")
        }
        let isShape = Self.isShapefile(path)
        var openOptions: [String] = []
        var fallback: String? = nil
        var forced: String? = nil
        var note = "UTF-8"
        if isShape {
            if let encoding {
                openOptions.append("ENCODING=\(encoding)")
                note = "\(encoding) (from the catalog)"
            } else if !Self.shapefileDeclaresEncoding(path) {
                openOptions.append("ENCODING=")  // raw bytes; we decide per value
                fallback = "GB18030"
                note = "undeclared: UTF-8 where valid, else GBK/GB18030"
            } else {
                note = "as declared by the .cpg/.dbf"
            }
        } else if let encoding, !["UTF-8", "UTF8"].contains(encoding.uppercased()) {
            forced = encoding
            note = "\(encoding) (from the catalog)"
        }
        let ds = GDAL.withStringList(openOptions) {
            GDALOpenEx(path, UInt32(GDAL_OF_VECTOR | GDAL_OF_READONLY), nil, GDAL.constList($0), nil)
        }
        guard let ds else {
            throw SourceError(file: path, layer: wanted, message: "cannot open as a vector dataset: \(GDAL.lastError("open").message)")
        }
        let lyr: OGRLayerH?
        if let wanted {
            lyr = GDALDatasetGetLayerByName(ds, wanted)
        } else {
            lyr = GDALDatasetGetLayerCount(ds) > 0 ? GDALDatasetGetLayer(ds, 0) : nil
        }
        guard let lyr else {
            let names = (0..<GDALDatasetGetLayerCount(ds)).compactMap {
                OGR_L_GetName(GDALDatasetGetLayer(ds, $0)).map { String(cString: $0) }
            }
            GDALClose(ds)
            throw SourceError(
                file: path, layer: wanted,
                message: wanted == nil ? "the dataset has no layers" : "no such layer; it has: \(names.joined(separator: ", "))")
        }
        dataset = ds
        layer = lyr
        fallbackEncoding = fallback
        forcedEncoding = forced
        encodingNote = note
        layerName = String(cString: OGR_L_GetName(lyr))
        driver = String(cString: GDALGetDriverShortName(GDALGetDatasetDriver(ds)))
        let defn = OGR_L_GetLayerDefn(lyr)
        var fs: [FieldDefinition] = []
        for i in 0..<OGR_FD_GetFieldCount(defn) {
            let fd = OGR_FD_GetFieldDefn(defn, i)
            let rawName = OGR_Fld_GetNameRef(fd)!
            let name = Self.decode(rawName, fallback: fallback, forced: forced)
            let type: AttributeType
            switch OGR_Fld_GetType(fd) {
            case OFTInteger, OFTInteger64: type = .integer
            case OFTReal: type = .real
            default: type = .text
            }
            fs.append(FieldDefinition(name: name, type: type))
        }
        fields = fs
        let gtype = OGR_L_GetGeomType(lyr)
        geometryTypeName = String(cString: OGRGeometryTypeToName(gtype))
        hasGeometry = gtype != wkbNone && OGR_FD_GetGeomFieldCount(defn) > 0
        declaredCRS = crsString(OGR_L_GetSpatialRef(lyr))
        let count = OGR_L_GetFeatureCount(lyr, 0)
        featureCountHint = count >= 0 ? Int(count) : nil
    }

    deinit { GDALClose(dataset) }

    static func isShapefile(_ path: String) -> Bool {
        let ext = (path as NSString).pathExtension.lowercased()
        return ext == "shp" || ext == "dbf"
    }

    /// True when a .cpg sits beside the .shp, or the .dbf header names a code page (LDID).
    static func shapefileDeclaresEncoding(_ path: String) -> Bool {
        let base = (path as NSString).deletingPathExtension
        for ext in ["cpg", "CPG"] where FileManager.default.fileExists(atPath: "\(base).\(ext)") { return true }
        for ext in ["dbf", "DBF"] {
            guard let h = FileHandle(forReadingAtPath: "\(base).\(ext)") else { continue }
            defer { try? h.close() }
            let header = (try? h.read(upToCount: 32)) ?? Data()
            return header.count > 29 && header[29] != 0
        }
        return false
    }

    static func decode(_ raw: UnsafePointer<CChar>, fallback: String?, forced: String?) -> String {
        if let forced { return GDAL.recode(raw, from: forced) ?? String(cString: raw) }
        if let s = String(validatingCString: raw) { return s }
        if let fallback, let s = GDAL.recode(raw, from: fallback) { return s }
        // Never store invalid UTF-8: repair with U+FFFD rather than lose the row.
        return String(cString: raw)
    }

    /// Reads the next feature, or nil at the end. Curves are linearised, Z and M dropped.
    public func next() throws -> SourceFeature? {
        guard let f = OGR_L_GetNextFeature(layer) else {
            if CPLGetLastErrorType().rawValue >= CE_Failure.rawValue {
                throw SourceError(file: path, layer: layerName, message: GDAL.lastError("reading features").message)
            }
            return nil
        }
        defer { OGR_F_Destroy(f) }
        let fid = OGR_F_GetFID(f)
        var attrs: [AttributeValue] = []
        attrs.reserveCapacity(fields.count)
        for (i, field) in fields.enumerated() {
            let idx = Int32(i)
            guard OGR_F_IsFieldSetAndNotNull(f, idx) != 0 else { attrs.append(.null); continue }
            switch field.type {
            case .integer: attrs.append(.integer(OGR_F_GetFieldAsInteger64(f, idx)))
            case .real: attrs.append(.real(OGR_F_GetFieldAsDouble(f, idx)))
            case .text: attrs.append(.text(Self.decode(OGR_F_GetFieldAsString(f, idx), fallback: fallbackEncoding, forced: forcedEncoding)))
            }
        }
        var geometry: Geometry? = nil
        if let g = OGR_F_GetGeometryRef(f), OGR_G_IsEmpty(g) == 0 {
            geometry = try wkbGeometry(g, fid: fid)
        }
        return SourceFeature(fid: fid, attributes: attrs, geometry: geometry)
    }

    private func wkbGeometry(_ g: OGRGeometryH, fid: Int64) throws -> Geometry {
        var geom = g
        var linear: OGRGeometryH? = nil
        if OGR_GT_IsNonLinear(OGR_G_GetGeometryType(g)) != 0 {
            linear = OGR_G_GetLinearGeometry(g, 0, nil)
            guard let linear else { throw SourceError(file: path, layer: layerName, message: "feature \(fid): cannot linearise curve") }
            geom = linear
        }
        defer { if let linear { OGR_G_DestroyGeometry(linear) } }
        let size = Int(OGR_G_WkbSize(geom))
        var bytes = [UInt8](repeating: 0, count: size)
        let err = bytes.withUnsafeMutableBufferPointer { OGR_G_ExportToIsoWkb(geom, wkbNDR, $0.baseAddress) }
        guard err == OGRERR_NONE else {
            throw SourceError(file: path, layer: layerName, message: "feature \(fid): cannot export geometry (OGR error \(err))")
        }
        do {
            return try WKB.decode(bytes)
        } catch {
            throw SourceError(file: path, layer: layerName, message: "feature \(fid): \(error)")
        }
    }
}
