/// Turns one policy file into statements, resolving user and group names.
///
/// Grammar (one statement per line):
///
///     include PATH
///     set tap-prefix PREFIX
///     allow|deny NAME                      (bridge.conf: any user, tap, bridge NAME or all)
///     allow|deny SUBJECT KIND [TARGET] [KEY=VALUE...]
///     SUBJECT := user NAME|UID | group NAME|GID | any
///     TARGET  := bridge NAME|glob:PATTERN|all
struct Parser {
    /// Absolute path of the file, used in locations.
    let file: String
    /// Resolves `user` and `group` names.
    let users: any UserDirectory
    /// Unknown user and group names met so far.
    private(set) var warnings: [PolicyDiagnostic] = []

    /// Option keys reserved for later versions; using one is an error.
    private static let reservedOptions: Set<String> = ["queues", "mac", "mtu", "mode", "vhost", "quota"]

    /// Creates a parser for the file at absolute path `file`.
    init(file: String, users: any UserDirectory) {
        self.file = file
        self.users = users
    }

    /// Parses a whole file; `warnings` then holds its warnings.
    /// - Throws: the first syntax or semantic error, located at its token.
    mutating func parse(_ bytes: [UInt8]) throws(PolicyDiagnostic) -> [Statement] {
        try Lexer.validateEncoding(bytes, file: file)
        var lexer = Lexer(bytes: bytes, file: file)
        var tokens: [Token] = []
        var statements: [Statement] = []
        while try lexer.nextLine(into: &tokens) {
            guard !tokens.isEmpty else { continue }
            var line = Line(tokens: tokens, number: lexer.lineNumber, file: file)
            statements.append(try statement(&line, lexer: lexer))
        }
        return statements
    }

    /// Parses the statement on `line`, which has at least one token.
    private mutating func statement(_ line: inout Line, lexer: Lexer) throws(PolicyDiagnostic) -> Statement {
        let keyword = line.next()
        if keyword.is("include") {
            let path = try line.expect("a path after \"include\"")
            guard !path.text.isEmpty else { throw line.error(at: path, "empty include path") }
            try line.expectEnd("after the include path")
            return .include(path: path.text, location: line.location(of: path))
        }
        if keyword.is("set") { return try setting(&line) }
        let allow = keyword.is("allow")
        guard allow || keyword.is("deny") else {
            throw line.error(at: keyword, "unknown statement \(quoted(keyword.text)); expected \"allow\", \"deny\", \"include\" or \"set\"")
        }
        let source = lexer.source(from: keyword, through: line.tokens[line.tokens.count - 1])
        return .rule(try rule(allow ? .allow : .deny, &line, source: source, location: line.location(of: keyword)))
    }

    /// Parses `set NAME VALUE`; `set` has been consumed.
    private func setting(_ line: inout Line) throws(PolicyDiagnostic) -> Statement {
        let name = try line.expect("a setting name after \"set\" (settings: tap-prefix)")
        guard name.is("tap-prefix") else {
            throw line.error(at: name, "unknown setting \(quoted(name.text)); known settings: tap-prefix")
        }
        let value = try line.expect("a name prefix after \"tap-prefix\"")
        try line.expectEnd("after the setting")
        let prefix = value.text, length = prefix.utf8.count
        guard (1...12).contains(length) else {
            throw line.error(at: value, "tap prefix \(quoted(prefix)) is \(length) bytes long; it must be 1 to 12 bytes so that the kernel's number fits in \(InterfaceName.maximumLength) bytes")
        }
        for (offset, byte) in prefix.utf8.enumerated() where !InterfaceName.isNameByte(byte) {
            throw line.error(at: value, plus: offset, "tap prefix \(quoted(prefix)) contains a character other than A-Z a-z 0-9 . _ + - at offset \(offset + 1)")
        }
        guard prefix.utf8.first != UInt8(ascii: "-") else {
            throw line.error(at: value, "tap prefix \(quoted(prefix)) must not start with \"-\"")
        }
        return .setTapPrefix(prefix, location: line.location(of: value))
    }

    /// Parses the rest of an `allow`/`deny` statement; the effect word has been consumed.
    private mutating func rule(_ effect: Rule.Effect, _ line: inout Line, source: ArraySlice<UInt8>, location: SourceLocation) throws(PolicyDiagnostic) -> Rule {
        // Exactly two tokens is qemu-bridge-helper's bridge.conf form, so
        // `allow user` means the bridge named "user", as it does for qemu.
        if line.tokens.count == 2 {
            let target = try namePattern(line.next(), line, allowGlob: false)
            return Rule(effect: effect, subject: .anyone, kind: .tap, target: target, location: location, source: source)
        }
        let subject = try self.subject(&line, effect: effect)
        let kind = try self.kind(&line)
        let target = try tapTarget(&line)
        let options = try self.options(&line, effect: effect)
        return Rule(effect: effect, subject: subject, kind: kind, target: target, options: options, location: location, source: source)
    }

    /// Parses `user NAME|UID`, `group NAME|GID` or `any`.
    private mutating func subject(_ line: inout Line, effect: Rule.Effect) throws(PolicyDiagnostic) -> Subject {
        let word = try line.expect("a bridge name or a subject (user, group or any) after \"\(effect.rawValue)\"")
        if word.is("any") { return .anyone }
        if word.is("user") {
            let name = try line.expect("a user name or number after \"user\"")
            if let uid = try number(name, line, what: "user ID") { return .user(uid) }
            if let uid = users.userID(named: name.text) { return .user(uid) }
            warnings.append(line.error(at: name, "unknown user \(quoted(name.text)); the rule matches nobody"))
            return .unknownUser(name.text)
        }
        if word.is("group") {
            let name = try line.expect("a group name or number after \"group\"")
            if let gid = try number(name, line, what: "group ID") { return .group(gid) }
            if let gid = users.groupID(named: name.text) { return .group(gid) }
            warnings.append(line.error(at: name, "unknown group \(quoted(name.text)); the rule matches nobody"))
            return .unknownGroup(name.text)
        }
        throw line.error(at: word, "expected \"user\", \"group\" or \"any\" after \"\(effect.rawValue)\", found \(quoted(word.text))")
    }

    /// The numeric ID `token` spells, or nil if it is a name.
    /// - Throws: if it is signed or does not fit in 32 bits.
    private func number(_ token: Token, _ line: Line, what: String) throws(PolicyDiagnostic) -> UInt32? {
        var digits = token.bytes
        let signed = digits.first == UInt8(ascii: "-") || digits.first == UInt8(ascii: "+")
        if signed { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        var value: UInt64 = 0
        for digit in digits where value <= UInt64(UInt32.max) { value = value * 10 + UInt64(digit - UInt8(ascii: "0")) }
        guard !signed, value <= UInt64(UInt32.max) else {
            throw line.error(at: token, "\(what) \(quoted(token.text)) is not an unsigned 32-bit decimal number")
        }
        return UInt32(value)
    }

    /// Parses the kind; only `tap` is supported, the reserved kinds are errors.
    private func kind(_ line: inout Line) throws(PolicyDiagnostic) -> RuleKind {
        let word = try line.expect("a kind (tap) after the subject")
        if word.is("tap") { return .tap }
        if RuleKind.reserved.contains(word.text) {
            throw line.error(at: word, "kind \(quoted(word.text)) is not supported by this version of netfd (supported: tap)")
        }
        throw line.error(at: word, "unknown kind \(quoted(word.text)); expected tap (reserved for later versions: \(RuleKind.reserved.joined(separator: ", ")))")
    }

    /// Parses the optional `bridge PATTERN` of a tap rule; absent means any bridge.
    private func tapTarget(_ line: inout Line) throws(PolicyDiagnostic) -> NamePattern {
        guard !line.isAtEnd, !line.peek().contains(UInt8(ascii: "=")) else { return .any }
        let word = line.peek()
        if word.is("bridge") {
            _ = line.next()
            return try namePattern(try line.expect("a bridge name, glob:PATTERN or \"all\" after \"bridge\""), line, allowGlob: true)
        }
        if word.is("link") { throw line.error(at: word, "tap rules take \"bridge\", not \"link\"") }
        throw line.error(at: word, "expected \"bridge\" after kind \"tap\", found \(quoted(word.text))")
    }

    /// Parses an interface name pattern: `all`, `glob:PATTERN` (when
    /// `allowGlob`) or an exact, validated name.
    private func namePattern(_ token: Token, _ line: Line, allowGlob: Bool) throws(PolicyDiagnostic) -> NamePattern {
        if token.is("all") { return .any }
        let text = token.text
        // Quoted words have the quote before the text.
        let textColumnOffset = token.end - token.start == text.utf8.count ? 0 : 1
        if allowGlob, text.utf8.starts(with: "glob:".utf8) {
            do throws(GlobSyntaxError) {
                // Bytes, not Characters: dropFirst(5) on the String would also drop combining marks after ":".
                return .glob(try Glob(String(decoding: token.bytes.dropFirst(5), as: UTF8.self)))
            } catch {
                throw line.error(at: token, plus: textColumnOffset + 5 + error.offset, error.message)
            }
        }
        if text.utf8.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }) {
            let hint = allowGlob ? "write \(quoted("glob:" + text)) to match a pattern" : "bridge.conf lines take exact names; use a full rule with \(quoted("bridge glob:" + text))"
            throw line.error(at: token, "\(quoted(text)) contains glob characters; \(hint)")
        }
        do throws(InterfaceNameError) {
            return .exact(try InterfaceName(validating: text))
        } catch {
            if case let .invalidCharacter(_, _, offset) = error {
                throw line.error(at: token, plus: textColumnOffset + offset - 1, error.description)
            }
            throw line.error(at: token, error.description)
        }
    }

    /// Parses the `key=value` options; a deny rule may have none.
    private func options(_ line: inout Line, effect: Rule.Effect) throws(PolicyDiagnostic) -> RuleOptions {
        var options = RuleOptions()
        var seenVnetHeader = false
        while !line.isAtEnd {
            let word = line.next()
            let text = word.text
            guard let equals = text.utf8.firstIndex(of: UInt8(ascii: "=")) else {
                throw line.error(at: word, "unexpected \(quoted(text)) after the rule")
            }
            guard effect == .allow else {
                throw line.error(at: word, "deny rules take no options; a deny refuses the whole request")
            }
            // Bytes, not Characters: index(after:) on the String would step over a combining mark after "=".
            let key = String(text[..<equals]), value = String(decoding: text.utf8[text.utf8.index(after: equals)...], as: UTF8.self)
            switch key {
            case "vnet-hdr":
                guard !seenVnetHeader else { throw line.error(at: word, "option \(quoted(key)) is given more than once") }
                seenVnetHeader = true
                switch value {
                case "yes": options.vnetHeader = true
                case "no": options.vnetHeader = false
                default:
                    throw line.error(at: word, plus: key.utf8.count + 1, "expected \"yes\" or \"no\" after \"vnet-hdr=\", found \(quoted(String(value)))")
                }
            case _ where Self.reservedOptions.contains(key):
                throw line.error(at: word, "option \(quoted(key)) is not supported by this version of netfd (supported: vnet-hdr)")
            default:
                throw line.error(at: word, "unknown option \(quoted(key)); valid options for tap rules: vnet-hdr")
            }
        }
        return options
    }
}

/// The tokens of one line with a read position, and located errors.
private struct Line {
    let tokens: [Token]
    let number: Int
    let file: String
    private var position = 0

    init(tokens: [Token], number: Int, file: String) {
        self.tokens = tokens
        self.number = number
        self.file = file
    }

    // No `Token?` here: an Optional of a struct this large is destroyed through its generic
    // runtime metadata, and instantiating that was a measurable part of the helper's start-up.

    /// Whether every token has been consumed.
    var isAtEnd: Bool { position == tokens.count }

    /// The next token without consuming it; only when `!isAtEnd`.
    func peek() -> Token { tokens[position] }

    /// Consumes and returns the next token; only when `!isAtEnd`.
    mutating func next() -> Token {
        defer { position += 1 }
        return tokens[position]
    }

    /// Consumes the next token; at end of line throws "expected WHAT, found end of line".
    /// `what` is an autoclosure so that the message costs nothing on success.
    mutating func expect(_ what: @autoclosure () -> String) throws(PolicyDiagnostic) -> Token {
        guard !isAtEnd else {
            throw PolicyDiagnostic(at: endLocation, "expected \(what()), found end of line")
        }
        return next()
    }

    /// Throws "unexpected X CONTEXT" unless every token has been consumed.
    func expectEnd(_ context: String) throws(PolicyDiagnostic) {
        if !isAtEnd { throw error(at: peek(), "unexpected \(quoted(peek().text)) \(context)") }
    }

    /// Where `token` starts.
    func location(of token: Token) -> SourceLocation {
        SourceLocation(file: file, line: number, column: token.column)
    }

    /// Just after the last token, for "found end of line".
    private var endLocation: SourceLocation {
        let last = tokens[tokens.count - 1]
        return SourceLocation(file: file, line: number, column: last.column + (last.end - last.start))
    }

    /// A diagnostic `offset` bytes into `token`.
    func error(at token: Token, plus offset: Int = 0, _ message: String) -> PolicyDiagnostic {
        PolicyDiagnostic(at: SourceLocation(file: file, line: number, column: token.column + offset), message)
    }
}
