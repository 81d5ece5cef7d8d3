import CGDAL
import Foundation

/// Converting text between UTF-8 and the legacy encodings Chinese exchange files use
/// (GBK/GB18030), through GDAL's iconv.
public enum TextEncoding {
    /// Decodes `bytes` from `encoding` (e.g. "GB18030"); nil if they are not valid in it.
    public static func decode(_ bytes: [UInt8], from encoding: String) -> String? {
        _ = GDAL.ready
        if bytes.isEmpty { return "" }
        if bytes.contains(0) { return nil }
        return (bytes + [0]).withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { GDAL.recode($0.baseAddress!, from: encoding) }
        }
    }

    /// Encodes `text` into `encoding` (e.g. "GBK"); nil if it has characters the encoding lacks.
    public static func encode(_ text: String, to encoding: String) -> [UInt8]? {
        _ = GDAL.ready
        CPLErrorReset()
        let out = CPLRecode(text, "UTF-8", encoding)
        defer { VSIFree(out) }
        guard CPLGetLastErrorType() == CE_None else { CPLErrorReset(); return nil }
        return Array(UnsafeBufferPointer(start: UnsafeRawPointer(out).assumingMemoryBound(to: UInt8.self), count: strlen(out)))
    }
}

/// GDAL configuration options that change how files are written.
public enum VectorConfig {
    /// Makes GDAL's output reproducible: fixed timestamps, single-threaded index builds.
    public static func makeOutputDeterministic(date: String) {
        _ = GDAL.ready
        CPLSetConfigOption("OGR_CURRENT_DATE", date)
        CPLSetConfigOption("OGR_GPKG_ALLOW_THREADED_RTREE", "NO")
    }
}
