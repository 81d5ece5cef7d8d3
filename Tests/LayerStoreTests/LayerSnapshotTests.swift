import Testing

@testable import LayerStore

/// What consumers derive from a layer snapshot: built once per owner, and gone with its owner.
struct LayerSnapshotTests {
    final class Owner: Sendable {}

    @Test func derivedOncePerOwnerAndDroppedWithIt() {
        let snapshot = LayerSnapshot(signature: "a:1", layers: [])
        let first = Owner()
        var builds = 0
        #expect(
            snapshot.derived(first) {
                builds += 1; return 7
            } == 7)
        #expect(
            snapshot.derived(first) {
                builds += 1; return 8
            } == 7)
        #expect(builds == 1)
        // Another owner gets its own.
        let second = Owner()
        #expect(snapshot.derived(second) { 9 } == 9)
        // An owner gone: a new one (even at a reused address) builds again, never gets the old value.
        weak var gone: Owner?
        do {
            let temporary = Owner()
            gone = temporary
            #expect(snapshot.derived(temporary) { 10 } == 10)
        }
        #expect(gone == nil)
        for _ in 0..<100 {
            let fresh = Owner()
            #expect(snapshot.derived(fresh) { 11 } == 11)
        }
        #expect(snapshot.derived(first) { 0 } == 7)
    }
}
