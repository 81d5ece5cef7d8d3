import Foundation
import GRDB
import LayerStore

/// Draws the geometry of records that wait for it, on a thread of its own, when no check
/// is under way: drawing beside a check would take a core and the database's one writer
/// from it. Under steady load, when more than `backlogLimit` records wait, it draws anyway,
/// so the backlog stays bounded. What it has not drawn when the process ends is in the
/// pending table, and is drawn by the next process, or at once by whatever reads it.
final class GeometryBackfill: @unchecked Sendable {  // @unchecked: every var is used only with `condition` held (a Mutex cannot wait)
    let store: Store
    let checker: ConflictChecker
    let commit: GroupCommit
    /// How long no check must have run before drawing starts.
    let quietNanoseconds: UInt64
    let backlogLimit: Int

    private let condition = NSCondition()
    private var running = false
    /// Records known to wait (an estimate between reads of the table).
    private var backlog = 0
    private var checksUnderWay = 0
    private var lastCheckEnded: UInt64 = 0
    /// Records that failed to draw, each reported once and not retried by this process (a
    /// reader still gets the error).
    private var failed: Set<String> = []

    init(store: Store, checker: ConflictChecker, commit: GroupCommit, quietNanoseconds: UInt64 = 30_000_000, backlogLimit: Int = 64) {
        self.store = store; self.checker = checker; self.commit = commit
        self.quietNanoseconds = quietNanoseconds; self.backlogLimit = backlogLimit
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// A check is starting: drawing waits for it.
    func checkStarted() {
        condition.lock(); checksUnderWay += 1; condition.unlock()
    }

    /// A check ended, having left `pending` records to draw (0 or 1).
    func checkEnded(pending: Int) {
        condition.lock()
        checksUnderWay -= 1
        lastCheckEnded = Self.now()
        backlog += pending
        startIfNeeded()
        condition.broadcast()
        condition.unlock()
    }

    /// Draws whatever a previous process left, once the checks let it.
    func resume() {
        condition.lock()
        backlog = max(backlog, 1)
        startIfNeeded()
        condition.unlock()
    }

    /// With `condition` held. The thread ends when nothing is left, so an idle process (or a
    /// test's) keeps none.
    private func startIfNeeded() {
        guard !running, backlog > 0 else { return }
        running = true
        Blocking.startBackgroundThread(named: "onemap-geometry", nice: 10) { [self] in run() }
    }

    private func run() {
        while true {
            condition.lock()
            waitForQuiet()
            let skip = failed
            condition.unlock()
            let ids: [String]
            do {
                ids = try store.snapshot { db in try CheckGeometry.pending(db, limit: 8 + skip.count) }.filter { !skip.contains($0) }
            } catch {
                ids = []
            }
            guard !ids.isEmpty else {
                condition.lock()
                backlog = 0
                running = false
                condition.unlock()
                return
            }
            drawAndKeep(ids.prefix(8))
        }
    }

    /// With `condition` held: returns once no check has run for the quiet period, or at once
    /// when the backlog is over the limit.
    private func waitForQuiet() {
        while backlog <= backlogLimit {
            let quietFor = Self.now() &- lastCheckEnded
            if checksUnderWay == 0 && quietFor >= quietNanoseconds { return }
            let wait = checksUnderWay > 0 ? quietNanoseconds : quietNanoseconds - quietFor
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wait) / 1e9))
        }
    }

    private func drawAndKeep(_ ids: ArraySlice<String>) {
        var drawn: [(String, Data)] = []
        for id in ids {
            do {
                drawn.append((id, try store.snapshot { db in try CheckGeometry.draw(id, db: db, checker: checker) }))
            } catch {
                condition.lock(); failed.insert(id); condition.unlock()
                FileHandle.standardError.write(Data("onemap: the conflict geometry of check \(id) could not be drawn: \(error)\n".utf8))
            }
        }
        guard !drawn.isEmpty else { return }
        do {
            try commit.write { [drawn] db in for (id, geojson) in drawn { try CheckGeometry.keep(id, geojson, db: db) } }
            condition.lock(); backlog = max(0, backlog - drawn.count); condition.unlock()
        } catch {
            FileHandle.standardError.write(
                Data("onemap: the conflict geometry of \(drawn.count) checks could not be stored: \(error)\n".utf8))
            condition.lock(); for (id, _) in drawn { failed.insert(id) }; condition.unlock()
        }
    }
}
