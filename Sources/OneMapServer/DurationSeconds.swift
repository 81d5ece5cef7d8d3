extension Duration {
    /// The duration as a number of seconds, for rates and time limits kept as `Double`.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
