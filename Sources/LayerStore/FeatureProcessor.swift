import Foundation
import GeoCore
import VectorIO

/// Turns one source feature into the row OneMap stores: CGCS2000 lon/lat, closed rings,
/// valid (repaired with MakeValid if need be), multi-typed, with its box, ellipsoidal area
/// and length, encoded as a SpatiaLite blob. One processor per thread: it owns a GEOS
/// context and a PROJ transform, neither of which may be shared.
package final class FeatureProcessor {
    /// How a row's geometry is encoded for its store.
    package enum Encoding: Sendable {
        /// A SpatiaLite blob.
        case spatiaLite
        /// PostGIS's extended WKB, with the SRID.
        case extendedWKB
    }

    package struct Row {
        package var id: String
        package var fid: Int64
        package var area: Double
        package var length: Double
        package var box: BoundingBox
        package var attributes: [AttributeValue]
        /// The geometry, encoded as the processor's `encoding` says.
        package var blob: Data
        package var label: String
        /// GEOS's reason when the geometry was repaired.
        var repair: String?
        /// What breaks the 三调 rules, for a land-use layer's 图斑 (see `LandUseValidation`).
        var landUseProblems: [String]
    }

    struct Failure: Error {
        let feature: String?
        let message: String
    }

    let transform: CoordinateTransform?
    let crs: String
    let idIndex: Int?
    let idField: String?
    let dimension: Int
    let encoding: Encoding
    /// A land-use layer's rules, checked here beside the geometry work rather than on the
    /// thread that writes the rows, which is what a city's load waits on.
    let landUse: LandUseValidation?
    let engine = GeometryEngine()
    let ellipsoid = Ellipsoid.cgcs2000

    init(
        crs: String, idIndex: Int?, idField: String?, dimension: Int, landUse: LandUseValidation? = nil, encoding: Encoding = .spatiaLite
    ) throws {
        self.crs = crs
        self.encoding = encoding
        self.landUse = landUse
        self.idIndex = idIndex
        self.idField = idField
        self.dimension = dimension
        transform = crs == LayerImporter.storageCRS ? nil : try CoordinateTransform(from: crs, to: LayerImporter.storageCRS)
    }

    func process(_ feature: SourceFeature) -> Result<Row, Failure> {
        let fidText = "FID \(feature.fid)"
        let id: String
        if let idIndex {
            guard let v = feature.attributes[idIndex].stringValue, !v.isEmpty else {
                return .failure(Failure(feature: fidText, message: "id field '\(idField ?? "")' is empty"))
            }
            id = v
        } else {
            id = String(feature.fid)
        }
        let label = idIndex == nil ? fidText : "\(idField ?? "id")=\(id) (\(fidText))"
        guard var g = feature.geometry else { return .failure(Failure(feature: label, message: "has no geometry")) }
        if let transform {
            do { g = try transform.transform(g) } catch { return .failure(Failure(feature: label, message: "\(error)")) }
        }
        guard g.hasValidLonLat else {
            return .failure(
                Failure(
                    feature: label,
                    message: "coordinates fall outside longitude/latitude range after transforming from \(crs): is the CRS right?"))
        }
        guard g.dimension == dimension else {
            return .failure(
                Failure(
                    feature: label,
                    message:
                        "is a \(g.typeName), but the layer holds \(LayerImporter.dimensionName(dimension)); mixed geometry types cannot be stored in one layer"
                ))
        }
        var repair: String? = nil
        if dimension > 0 {
            g = g.closingRings
            if !Self.certainlyValid(g) {
                do {
                    let eg = try engine.make(g)
                    if let reason = try engine.invalidityReason(eg) {
                        let fixed = try engine.makeValid(eg).value().parts(ofDimension: dimension)
                        guard !fixed.isEmpty else {
                            return .failure(Failure(feature: label, message: "invalid (\(reason)) and nothing is left after repair"))
                        }
                        g = fixed
                        repair = reason
                    }
                } catch let e as LibraryError {
                    return .failure(Failure(feature: label, message: "geometry cannot be built or repaired: \(e.message)"))
                } catch {
                    return .failure(Failure(feature: label, message: "\(error)"))
                }
            }
        }
        g = g.promotedToMulti
        guard let box = g.boundingBox else { return .failure(Failure(feature: label, message: "has an empty geometry")) }
        return .success(
            Row(
                id: id, fid: feature.fid, area: ellipsoid.area(g), length: ellipsoid.length(g), box: box,
                attributes: feature.attributes,
                blob: encoding == .spatiaLite
                    ? SpatiaLiteGeometry.encode(g, srid: LayerImporter.storageSRID, box: box)
                    : Data(WKB.encodeExtended(g, srid: UInt32(LayerImporter.storageSRID))),
                label: label, repair: repair, landUseProblems: landUse?.problems(feature.attributes) ?? []))
    }

    /// Single-ring polygons whose ring is plainly simple need no GEOS check (most parcels).
    static func certainlyValid(_ g: Geometry) -> Bool {
        switch g {
        case .polygon(let p): return p.rings.count == 1 && RingValidity.isCertainlySimple(p.rings[0])
        case .multiPolygon(let ps): return ps.count == 1 && ps[0].rings.count == 1 && RingValidity.isCertainlySimple(ps[0].rings[0])
        default: return false
        }
    }
}

/// Reads and processes features on other threads while the caller writes them: a bounded
/// queue of batches between a producer (GDAL reads, then the batch is processed on every
/// core) and the SQLite writer. Memory stays at a few batches, whatever the layer's size.
final class ImportPipeline: @unchecked Sendable {  // @unchecked: every var is used only with `condition` held (a Mutex cannot wait)
    typealias Batch = [Result<FeatureProcessor.Row, FeatureProcessor.Failure>]

    private let condition = NSCondition()
    private var queue: [Batch] = []
    private var finished = false
    private var readError: Error?
    private var cancelled = false
    private let capacity = 3

    /// Starts producing. `read` returns the next source feature or nil at the end.
    func start(read: @escaping () throws -> SourceFeature?, processors: [FeatureProcessor], batchSize: Int = 2048) {
        let owned = ProducerOwned(read: read, processors: processors)
        let thread = Thread { [self] in
            let (read, processors) = (owned.read, owned.processors)
            do {
                while true {
                    var features: [SourceFeature] = []
                    features.reserveCapacity(batchSize)
                    while features.count < batchSize, let f = try read() { features.append(f) }
                    if features.isEmpty || isCancelled { break }
                    var out = Batch(repeating: .failure(.init(feature: nil, message: "not processed")), count: features.count)
                    let workers = processors.count
                    let input = features
                    out.withUnsafeMutableBufferPointer { buffer in
                        let shared = WorkerShared(slots: buffer, processors: processors)
                        DispatchQueue.concurrentPerform(iterations: workers) { w in
                            var i = w
                            while i < input.count {
                                shared.slots[i] = shared.processors[w].process(input[i])
                                i += workers
                            }
                        }
                    }
                    put(out)
                    if features.count < batchSize { break }
                }
            } catch {
                condition.lock(); readError = error; condition.unlock()
            }
            condition.lock(); finished = true; condition.broadcast(); condition.unlock()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    private var isCancelled: Bool { condition.lock(); defer { condition.unlock() }; return cancelled }

    private func put(_ batch: Batch) {
        condition.lock()
        while queue.count >= capacity && !cancelled { condition.wait() }
        if !cancelled { queue.append(batch) }
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch in source order, nil at the end; rethrows a read error.
    func next() throws -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !finished { condition.wait() }
        if !queue.isEmpty {
            let b = queue.removeFirst()
            condition.broadcast()
            return b
        }
        if let readError { throw readError }
        return nil
    }

    /// The reader and the processors, given up by the caller of `start` to the producer
    /// thread. @unchecked: only that thread uses them from then on (`cancel` waits for it).
    private struct ProducerOwned: @unchecked Sendable {
        let read: () throws -> SourceFeature?
        let processors: [FeatureProcessor]
    }

    /// What the workers of one batch share. @unchecked: worker w writes only the slots
    /// i ≡ w (mod workers) and uses only `processors[w]` (and so its GEOS context), so no two
    /// workers touch the same slot or processor.
    private struct WorkerShared: @unchecked Sendable {
        let slots: UnsafeMutableBufferPointer<Result<FeatureProcessor.Row, FeatureProcessor.Failure>>
        let processors: [FeatureProcessor]
    }

    /// Stops the producer (after an error) and waits for it to let go of the source.
    func cancel() {
        condition.lock()
        cancelled = true
        queue.removeAll()
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
