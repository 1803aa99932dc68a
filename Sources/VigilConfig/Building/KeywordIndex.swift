/// Where each keyword may stand, across the whole schema: the answer to "is this keyword misplaced?".
struct KeywordIndex: Sendable {
    static let shared = KeywordIndex(root: .keepalived)

    private let contextsByName: [String: [String]]

    /// Keywords whose value is the rest of the line, read with shell-like quoting (and `regex`, which is read so too).
    static let scriptKeywords: Set<String> = {
        var names: Set<String> = ["regex"]
        var visited = Set<ObjectIdentifier>()
        func walk(_ schema: BlockSchema) {
            guard visited.insert(ObjectIdentifier(schema)).inserted else { return }
            for (name, keyword) in schema.keywords {
                if keyword.shape == .script { names.insert(name) }
                if let children = keyword.children { walk(children) }
            }
        }
        walk(.keepalived)
        return names
    }()

    init(root: BlockSchema) {
        var table = [String: [String]]()
        var visited = Set<ObjectIdentifier>()
        func walk(_ schema: BlockSchema) {
            guard visited.insert(ObjectIdentifier(schema)).inserted else { return }
            for (name, keyword) in schema.keywords {
                if !(table[name, default: []].contains(schema.context)) {
                    table[name, default: []].append(schema.context)
                }
                if let children = keyword.children { walk(children) }
            }
        }
        walk(root)
        contextsByName = table.mapValues { $0.sorted() }
    }

    func contexts(of name: String) -> [String] { contextsByName[name] ?? [] }

    /// The closest known keyword, when it is close enough to be a likely typo.
    static func suggestion(for word: String, among candidates: some Collection<String>) -> String? {
        let lowered = word.lowercased()
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, candidate.lowercased())
            if best == nil || distance < best!.distance || (distance == best!.distance && candidate < best!.name) {
                best = (candidate, distance)
            }
        }
        guard let best else { return nil }
        let limit = max(2, word.count / 3)
        return best.distance <= limit ? best.name : nil
    }

    /// Levenshtein distance, with a transposition of neighbours counting as one edit.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previousPrevious[j - 2] + 1)
                }
            }
            previousPrevious = previous
            previous = current
        }
        return previous[b.count]
    }
}
