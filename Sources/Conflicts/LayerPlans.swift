import LayerStore

/// The plans of one set of layer versions, with what every check of all layers takes from
/// them, worked out once: filtering the layers and filling a dictionary of their versions
/// would otherwise weigh on every check with few candidates.
struct LayerPlans {
    let all: [LayerPlan]
    /// The layers with a rule, in catalog order: what a check without a layer list checks.
    let ruled: [LayerPlan]
    /// Their versions, and the land-use layer's, as such a check's outcome records them:
    /// made once, not copied and added to in every check.
    let checkedVersions: [String: LayerVersionRef]

    /// The first ruled layer whose rule its version cannot satisfy: what fails every check of all layers.
    let firstUnevaluable: LayerPlan?
    /// The land-use layer (the first of kind land_use): every check that covers it says how
    /// much of each 地类 the site takes.
    let landUse: LayerPlan?
    /// The 永久基本农田 layer (the first of kind farmland): what `farmlandByCode` overlays.
    let farmland: LayerPlan?

    init(all: [LayerPlan]) {
        self.all = all
        landUse = all.first { $0.layer.spec.kind == .landUse }
        farmland = all.first { $0.layer.spec.kind == .farmland }
        ruled = all.filter { $0.rule != nil }
        var versions = Dictionary(uniqueKeysWithValues: ruled.map { ($0.name, $0.versionRef) })
        if let landUse { versions[landUse.name] = landUse.versionRef }
        checkedVersions = versions
        firstUnevaluable = ruled.first { $0.unevaluable != nil }
    }

    /// The layers a check applies its rules to: every ruled layer, or those asked for. A
    /// check never answers without one of them: a layer asked for with no rule, no ruled
    /// layer at all, or a rule its version cannot satisfy is an error, not a silent pass.
    func checked(_ wanted: [String]?) throws -> [LayerPlan] {
        let layers: [LayerPlan]
        let broken: LayerPlan?
        if let wanted {
            if let unruled = all.first(where: { $0.rule == nil && $0 !== landUse && wanted.contains($0.name) }) {
                throw StoreError.invalidRequest(
                    "layer '\(unruled.name)' has no rule, so a check cannot apply it; layers with rules: "
                        + ruled.map { $0.name }.joined(separator: ", "))
            }
            layers = ruled.filter { wanted.contains($0.name) }
            broken = layers.first { $0.unevaluable != nil }
        } else {
            layers = ruled
            broken = firstUnevaluable
        }
        // A check of the land-use layer alone (用地预审 without the control lines) is one.
        guard !layers.isEmpty || (landUse.map { wanted?.contains($0.name) ?? false } ?? false) else {
            throw StoreError.cannotCheck(
                "no loaded layer has a rule, so there is nothing to check a site against; load the catalog (onemap load)")
        }
        if let broken {
            throw StoreError.cannotCheck(
                "layer '\(broken.name)' version \(broken.versionRef.version) (\(broken.versionRef.label)): "
                    + "its rule cannot be applied, \(broken.unevaluable!); load a version that fits the rule")
        }
        return layers
    }
}
