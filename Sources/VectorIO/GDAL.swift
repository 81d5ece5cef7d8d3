import CGDAL
import GeoCore

/// Process-wide GDAL set-up and the translation of its errors.
enum GDAL {
    /// Registers the drivers once and keeps GDAL from printing to stderr:
    /// its messages reach the user inside our errors instead.
    static let ready: Void = {
        GDALAllRegister()
        CPLSetErrorHandler(CPLQuietErrorHandler)
        // Never try the network: machines and government networks are offline.
        CPLSetConfigOption("GDAL_HTTP_TIMEOUT", "1")
    }()

    static func lastError(_ context: String) -> LibraryError {
        let msg = String(cString: CPLGetLastErrorMsg())
        CPLErrorReset()
        return LibraryError("GDAL", msg.isEmpty ? context : "\(context): \(msg)")
    }

    /// A NULL-terminated `char**` list for GDAL options, freed after `body`.
    static func withStringList<R>(_ items: [String], _ body: (CSLConstList?) throws -> R) rethrows -> R {
        var list: CSLConstList? = nil
        for item in items { list = CSLAddString(list, item) }
        defer { CSLDestroy(list) }
        return try body(list)
    }

    /// The same list typed `const char* const*`, as some GDAL calls declare it.
    static func constList(_ list: CSLConstList?) -> UnsafePointer<UnsafePointer<CChar>?>? {
        guard let list else { return nil }
        return UnsafeRawPointer(list).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
    }

    /// Recodes bytes between encodings with GDAL's iconv; nil if they are not valid in `from`.
    static func recode(_ bytes: UnsafePointer<CChar>, from: String, to: String = "UTF-8") -> String? {
        CPLErrorReset()
        let out = CPLRecode(bytes, from, to)
        defer { VSIFree(out) }
        if CPLGetLastErrorType() != CE_None { CPLErrorReset(); return nil }
        return String(validatingCString: out)
    }
}

/// The CRS of a dataset, as a string PROJ accepts: "EPSG:n" when GDAL can identify it, else WKT2.
func crsString(_ srs: OGRSpatialReferenceH?) -> String? {
    guard let srs else { return nil }
    if let name = OSRGetAuthorityName(srs, nil), let code = OSRGetAuthorityCode(srs, nil) {
        return "\(String(cString: name)):\(String(cString: code))"
    }
    // An ESRI .prj often carries no authority: try to recognise it, on a copy.
    if let clone = OSRClone(srs) {
        defer { OSRDestroySpatialReference(clone) }
        if OSRAutoIdentifyEPSG(clone) == OGRERR_NONE,
            let name = OSRGetAuthorityName(clone, nil), let code = OSRGetAuthorityCode(clone, nil)
        {
            return "\(String(cString: name)):\(String(cString: code))"
        }
    }
    var wkt: UnsafeMutablePointer<CChar>? = nil
    let err = GDAL.withStringList(["FORMAT=WKT2_2019"]) { OSRExportToWktEx(srs, &wkt, GDAL.constList($0)) }
    defer { VSIFree(wkt) }
    guard err == OGRERR_NONE, let wkt else { return nil }
    return String(cString: wkt)
}
