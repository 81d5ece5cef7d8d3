import Foundation
import Hummingbird
import HummingbirdTesting
import Identity
import LayerStore
import OneMapServer
import Testing

/// What the suites of signed-in requests share: the two-county store (`scopedStore`), a test
/// issuer, and a server that takes that issuer's tokens.
struct SignInFixture {
    let store: Store
    let idp: TestIssuer
    let verifier: TokenVerifier

    init() async throws {
        store = try scopedStore()
        idp = try await TestIssuer.make()
        verifier = try await TokenVerifier.make(idp.configuration())
    }

    func app() -> some ApplicationProtocol {
        var configuration = ServerConfiguration()
        configuration.tokens = verifier
        return buildApplication(store: store, configuration: configuration)
    }

    static func json(_ r: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
    }
}
