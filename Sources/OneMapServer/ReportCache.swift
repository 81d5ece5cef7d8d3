/// Check reports, rendered once and kept. A record never changes, so neither does its
/// report; rendering a large one decodes the whole result and its GeoJSON, which is the
/// costly part. Requests for a report being rendered wait for that rendering rather than
/// start their own, and the reports kept are bounded by bytes, least recently asked first out.
actor ReportCache {
    let capacityBytes: Int
    private var kept: [String: [UInt8]] = [:]
    /// Ids from least to most recently asked.
    private var order: [String] = []
    private var bytes = 0
    private var rendering: [String: Task<[UInt8], Error>] = [:]
    /// Renders started since the server started: what `/metrics` shows, and how a test knows
    /// that eight concurrent asks for one report rendered it once.
    private(set) var renders = 0

    init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    var bytesKept: Int { bytes }

    func report(_ id: String, render: @escaping @Sendable () async throws -> [UInt8]) async throws -> [UInt8] {
        if let html = kept[id] {
            touch(id)
            return html
        }
        let task: Task<[UInt8], Error>
        if let running = rendering[id] {
            task = running
        } else {
            task = Task { try await render() }
            renders += 1
            rendering[id] = task
        }
        let html: [UInt8]
        do {
            html = try await task.value
        } catch {
            if rendering[id] == task { rendering[id] = nil }
            throw error
        }
        if rendering[id] == task {
            rendering[id] = nil
            keep(id, html)
        }
        return html
    }

    private func touch(_ id: String) {
        if let i = order.firstIndex(of: id) { order.remove(at: i) }
        order.append(id)
    }

    private func keep(_ id: String, _ html: [UInt8]) {
        guard html.count <= capacityBytes, kept[id] == nil else { return }
        while bytes + html.count > capacityBytes, !order.isEmpty {
            let oldest = order.removeFirst()
            bytes -= kept.removeValue(forKey: oldest)?.count ?? 0
        }
        kept[id] = html
        order.append(id)
        bytes += html.count
    }
}
