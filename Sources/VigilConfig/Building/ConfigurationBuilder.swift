/// Turns the statement tree into a typed `Configuration`, reporting everything it cannot read. Every keyword is
/// checked against keepalived 2.2.7's schema first: unknown and misplaced keywords, blocks where none belong and
/// missing blocks are reported here, once, so the typed readers only see well-formed statements.
struct ConfigurationBuilder {
    var diagnostics: [Diagnostic] = []
    var configuration = Configuration()
    /// Where `table`, `protocol`, `scope`, `realms`, `tos` and `sup_group` names are looked up.
    let routingNames: RoutingNames
    /// The preference the next rule written without one gets, per family (keepalived's count-down).
    var nextRulePreference: [IPAddress.Family: UInt32] = [:]
    /// The `vrrp_instance` names read so far (a duplicate is refused; searching the instances was quadratic).
    var instanceNames = Set<String>()

    static func build(_ statements: [Statement], routingNames: RoutingNames) -> (Configuration, [Diagnostic]) {
        var builder = ConfigurationBuilder(routingNames: routingNames)
        builder.buildTopLevel(statements)
        return (builder.configuration, builder.diagnostics)
    }

    // MARK: - Reporting

    mutating func report(
        _ severity: Diagnostic.Severity, _ code: Diagnostic.Code, _ location: SourceLocation, _ message: String
    ) {
        diagnostics.append(Diagnostic(severity, code, at: location, message))
    }

    mutating func error(_ code: Diagnostic.Code, _ location: SourceLocation, _ message: String) {
        report(.error, code, location, message)
    }

    mutating func warning(_ code: Diagnostic.Code, _ location: SourceLocation, _ message: String) {
        report(.warning, code, location, message)
    }

    // MARK: - Keywords against the schema

    /// The statements of a block that the schema knows, each with its schema entry and its canonical name.
    /// Everything else is reported and dropped.
    /// `reportingSupport`: false inside a block whose own keyword was reported as not supported (one warning for the
    /// block, not one per line).
    mutating func known(
        _ statements: [Statement], in schema: BlockSchema, reportingSupport: Bool = true
    ) -> [(name: String, statement: Statement)] {
        var result = [(name: String, statement: Statement)]()
        result.reserveCapacity(statements.count)
        for statement in statements {
            guard let keyword = schema[statement.name] else {
                reportUnknown(statement, in: schema)
                continue
            }
            switch keyword.deprecation {
            case .warning(let advice):
                warning(.deprecatedKeyword, statement.location, "`\(keyword.name)` is deprecated; \(advice)")
            case .note(let advice):
                report(.note, .deprecatedKeyword, statement.location, "`\(keyword.name)` is deprecated; \(advice)")
            case nil:
                break
            }
            if reportingSupport, let diagnostic = keyword.support?.diagnostic(for: statement.name, at: statement.location) {
                diagnostics.append(diagnostic)
            }
            switch keyword.shape {
            case .block, .list:
                guard statement.block != nil else {
                    error(
                        .missingBlock, statement.location,
                        "`\(keyword.name)` needs a block: write `\(keyword.name)\(statement.arguments.isEmpty ? "" : " ...") { ... }`"
                    )
                    continue
                }
            case .flag, .bool, .value, .script:
                if let brace = statement.openBrace {
                    error(
                        .unexpectedBlock, brace,
                        "`\(keyword.name)` does not open a block; the block after it is ignored")
                    let stripped = statement.with(block: nil, openBrace: nil, closeBrace: nil)
                    result.append((keyword.canonicalName ?? keyword.name, stripped))
                    continue
                }
            }
            result.append((keyword.canonicalName ?? keyword.name, statement))
        }
        return result
    }

    /// Says so when Vigil does not act on a keyword as keepalived does (`KeywordInventory`). `except`: this use is
    /// the exception a `worksExcept` keyword names.
    mutating func reportSupport(
        _ canonical: String, as written: String, in context: String, _ location: SourceLocation, except: Bool = false
    ) {
        let support = KeywordInventory.support(canonical, in: context)
        if except, case .worksExcept(_, let exception) = support {
            warning(.notSupported, location, "`\(written)` is only partly supported: \(exception)")
        } else if let diagnostic = support?.diagnostic(for: written, at: location) {
            diagnostics.append(diagnostic)
        }
    }

    private mutating func reportUnknown(_ statement: Statement, in schema: BlockSchema) {
        let name = statement.name
        let place = schema.context == "top level" ? "at the top level" : "in `\(schema.context)`"
        let ignored = statement.block != nil ? "; this line and its block are ignored" : "; this line is ignored"
        let elsewhere = KeywordIndex.shared.contexts(of: name).filter { $0 != schema.context }
        if !elsewhere.isEmpty {
            let places = Self.list(elsewhere.map { $0 == "top level" ? "the top level" : "`\($0)`" })
            let effect = statement.block != nil ? "this block has no effect" : "this line has no effect"
            warning(
                .misplacedKeyword, statement.location,
                "`\(name)` is only meaningful \(elsewhere == ["top level"] ? "at" : "inside") \(places); \(place) \(effect). Move it there"
            )
            return
        }
        var message = "unknown keyword `\(name)` \(place)\(ignored)"
        if let suggestion = KeywordIndex.suggestion(for: name, among: schema.keywords.keys) {
            message += ". Did you mean `\(suggestion)`?"
        }
        warning(.unknownKeyword, statement.location, message)
    }

    /// "a", "a or b", "a, b or c".
    static func list(_ items: [String], conjunction: String = "or") -> String {
        switch items.count {
        case 0: return ""
        case 1: return items[0]
        default: return items.dropLast().joined(separator: ", ") + " \(conjunction) " + items.last!
        }
    }
}
