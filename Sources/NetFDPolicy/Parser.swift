/// Turns one policy file into statements, resolving user and group names.
///
/// Grammar (one statement per line):
///
///     include PATH
///     set tap-prefix PREFIX
///     set vhost-device PATH
///     allow|deny NAME                      (bridge.conf: any user, tap, bridge NAME or all)
///     allow|deny SUBJECT KIND [TARGET] [KEY=VALUE...]     (deny: no options)
///     SUBJECT := user NAME|UID | group NAME|GID | any
///     KIND    := tap | macvtap | raw
///     TARGET  := bridge PATTERN (tap) | link PATTERN (macvtap, raw)
///     PATTERN := NAME | glob:PATTERN | all
struct Parser {
    /// Absolute path of the file, used in locations.
    let file: String
    /// Resolves `user` and `group` names.
    let users: any UserDirectory
    /// Unknown user and group names met so far.
    private(set) var warnings: [PolicyDiagnostic] = []

    /// Option keys reserved for later versions; using one is an error.
    private static let reservedOptions = ["mtu"]

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
        let name = try line.expect("a setting name after \"set\" (settings: tap-prefix, vhost-device)")
        if name.is("vhost-device") { return try vhostDevice(&line) }
        guard name.is("tap-prefix") else {
            throw line.error(at: name, "unknown setting \(quoted(name.text)); known settings: tap-prefix, vhost-device")
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

    /// Parses the value of `set vhost-device PATH`: an absolute path of at most PATH_MAX - 1
    /// bytes. (The lexer has refused NUL and control characters already.)
    private func vhostDevice(_ line: inout Line) throws(PolicyDiagnostic) -> Statement {
        let value = try line.expect("a device path after \"vhost-device\"")
        try line.expectEnd("after the setting")
        let path = value.text
        guard path.utf8.first == UInt8(ascii: "/") else {
            throw line.error(at: value, "vhost device \(quoted(path)) is not an absolute path")
        }
        guard path.utf8.count <= PolicyLoader.maximumPathBytes else {
            throw line.error(at: value, "vhost device path is \(path.utf8.count) bytes long; the limit is \(PolicyLoader.maximumPathBytes) bytes")
        }
        return .setVhostDevice(path, location: line.location(of: value))
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
        let target = try self.target(&line, kind: kind)
        let options = try self.options(&line, effect: effect, kind: kind)
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

    /// Parses the kind; `routed-tap` is reserved, and `vhost` (an option now) gets a hint.
    private func kind(_ line: inout Line) throws(PolicyDiagnostic) -> RuleKind {
        let word = try line.expect("a kind (tap, macvtap or raw) after the subject")
        if word.is("tap") { return .tap }
        if word.is("macvtap") { return .macvtap }
        if word.is("raw") { return .raw }
        if word.is("routed-tap") {
            throw line.error(at: word, "kind \(quoted(word.text)) is not supported by this version of netfd (supported: tap, macvtap, raw)")
        }
        if word.is("vhost") {
            throw line.error(at: word, "unknown kind \"vhost\"; vhost-net is an option of tap and macvtap rules: vhost=yes")
        }
        throw line.error(at: word, "unknown kind \(quoted(word.text)); expected tap, macvtap or raw (reserved for later versions: \(RuleKind.reserved.joined(separator: ", ")))")
    }

    /// Parses the optional `bridge PATTERN` of a tap rule or `link PATTERN` of a macvtap or raw
    /// rule; absent means every bridge or link.
    private func target(_ line: inout Line, kind: RuleKind) throws(PolicyDiagnostic) -> NamePattern {
        guard !line.isAtEnd, !line.peek().contains(UInt8(ascii: "=")) else { return .any }
        let word = line.peek()
        let isTap = kind == .tap
        if isTap ? word.is("bridge") : word.is("link") {
            _ = line.next()
            return try namePattern(try line.expect("a \(kind.targetWord) name, glob:PATTERN or \"all\" after \"\(kind.targetWord)\""), line, allowGlob: true)
        }
        if isTap ? word.is("link") : word.is("bridge") {
            throw line.error(at: word, "\(kind.rawValue) rules take \"\(kind.targetWord)\", not \(quoted(word.text))")
        }
        throw line.error(at: word, "expected \"\(kind.targetWord)\" after kind \"\(kind.rawValue)\", found \(quoted(word.text))")
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

    /// The option keys a rule of `kind` may have, in documentation order.
    static func optionKeys(for kind: RuleKind) -> String {
        switch kind {
        case .tap: return "vnet-hdr, queues, vhost, quota"
        case .macvtap: return "vnet-hdr, queues, vhost, mode, mac, quota"
        case .raw: return "vnet-hdr, promisc"
        }
    }

    /// One option key, which rule kinds take it, and the bit that notes it was given.
    private enum OptionKey: UInt8 {
        case vnetHeader = 1, queues = 2, vhost = 4, mode = 8, mac = 16, promisc = 32, quota = 64

        /// The key `text` spells (compared byte for byte), or nil.
        init?(_ text: ArraySlice<UInt8>) {
            if text.elementsEqual("vnet-hdr".utf8) { self = .vnetHeader }
            else if text.elementsEqual("queues".utf8) { self = .queues }
            else if text.elementsEqual("vhost".utf8) { self = .vhost }
            else if text.elementsEqual("mode".utf8) { self = .mode }
            else if text.elementsEqual("mac".utf8) { self = .mac }
            else if text.elementsEqual("promisc".utf8) { self = .promisc }
            else if text.elementsEqual("quota".utf8) { self = .quota }
            else { return nil }
        }

        /// Whether a rule of `kind` may have the key.
        func applies(to kind: RuleKind) -> Bool {
            switch self {
            case .vnetHeader: return true
            case .queues, .vhost, .quota: return kind != .raw
            case .mode, .mac: return kind == .macvtap
            case .promisc: return kind == .raw
            }
        }
    }

    /// Parses the `key=value` options of a rule of `kind`; a deny rule may have none.
    private func options(_ line: inout Line, effect: Rule.Effect, kind: RuleKind) throws(PolicyDiagnostic) -> RuleOptions {
        var options = RuleOptions()
        var seen: UInt8 = 0
        while !line.isAtEnd {
            let word = line.next()
            guard let equals = word.bytes.firstIndex(of: UInt8(ascii: "=")) else {
                throw line.error(at: word, "unexpected \(quoted(word.text)) after the rule")
            }
            guard effect == .allow else {
                throw line.error(at: word, "deny rules take no options; a deny refuses the whole request")
            }
            // Bytes, not Characters: splitting the String would let a combining mark after "=" join it.
            let keyBytes = word.bytes[..<equals], value = word.bytes[(equals + 1)...]
            let key = String(decoding: keyBytes, as: UTF8.self)
            // Where the value starts in the line: after the key, "=" and an opening quote if any.
            let valueOffset = (word.end - word.start == word.bytes.count ? 0 : 1) + keyBytes.count + 1
            guard let option = OptionKey(keyBytes) else {
                if Self.reservedOptions.contains(where: { $0.utf8.elementsEqual(keyBytes) }) {
                    throw line.error(at: word, "option \(quoted(key)) is not supported by this version of netfd (valid options for \(kind.rawValue) rules: \(Self.optionKeys(for: kind)))")
                }
                throw line.error(at: word, "unknown option \(quoted(key)); valid options for \(kind.rawValue) rules: \(Self.optionKeys(for: kind))")
            }
            guard option.applies(to: kind) else {
                throw line.error(at: word, "option \(quoted(key)) does not apply to \(kind.rawValue) rules; valid options for \(kind.rawValue) rules: \(Self.optionKeys(for: kind))")
            }
            guard seen & option.rawValue == 0 else { throw line.error(at: word, "option \(quoted(key)) is given more than once") }
            seen |= option.rawValue
            /// An error `offset` bytes into the value.
            func invalid(_ message: String, at offset: Int = 0) -> PolicyDiagnostic {
                line.error(at: word, plus: valueOffset + offset, message)
            }
            func yesNo() throws(PolicyDiagnostic) -> Bool {
                if value.elementsEqual("yes".utf8) { return true }
                if value.elementsEqual("no".utf8) { return false }
                throw invalid("expected \"yes\" or \"no\" after \(quoted(key + "=")), found \(quoted(String(decoding: value, as: UTF8.self)))")
            }
            switch option {
            case .vnetHeader: options.vnetHeader = try yesNo()
            case .vhost: options.vhost = try yesNo()
            case .promisc: options.promiscuous = try yesNo()
            case .queues:
                guard let number = decimal(value, in: 1...RuleOptions.queueLimit) else {
                    throw invalid("expected a number from 1 to \(RuleOptions.queueLimit) after \"queues=\", found \(quoted(String(decoding: value, as: UTF8.self)))")
                }
                options.maximumQueues = number
            case .quota:
                guard let number = decimal(value, in: 1...RuleOptions.quotaLimit) else {
                    throw invalid("expected a number from 1 to \(RuleOptions.quotaLimit) after \"quota=\", found \(quoted(String(decoding: value, as: UTF8.self)))")
                }
                options.quota = number
            case .mode:
                options.modes = []
                for element in commaSeparated(value) {
                    let offset = element.startIndex - value.startIndex
                    guard let mode = MacvtapMode(bytes: element) else {
                        let found = element.isEmpty ? "an empty list element" : quoted(String(decoding: element, as: UTF8.self))
                        throw invalid("expected a mode (bridge, vepa, private or passthru), found \(found)", at: offset)
                    }
                    guard !options.modes.contains(mode) else { throw invalid("mode \"\(mode.rawValue)\" is listed twice", at: offset) }
                    options.modes.append(mode)
                }
            case .mac:
                for element in commaSeparated(value) {
                    let offset = element.startIndex - value.startIndex
                    let text = String(decoding: element, as: UTF8.self)
                    let pattern: MacPattern
                    switch MacPattern.parse(element) {
                    case .any: pattern = .any
                    case .exact(let address): pattern = .exact(address)
                    case .prefix(let octets): pattern = .prefix(octets)
                    case .invalid(let at):
                        let found = element.isEmpty ? "an empty list element" : quoted(text)
                        throw invalid("expected a MAC address (52:54:00:12:34:56), 1 to 5 octets and \":*\" (52:54:00:*) or \"any\", found \(found)", at: offset + at)
                    }
                    guard !pattern.isMulticastOnly else {
                        throw invalid("MAC pattern \(quoted(text)) can only match multicast addresses (the first octet is odd); a guest needs a unicast address", at: offset)
                    }
                    guard !options.macPatterns.contains(pattern) else { throw invalid("MAC pattern \(quoted(text)) is listed twice", at: offset) }
                    options.macPatterns.append(pattern)
                }
            }
        }
        return options
    }
}

/// The elements of a comma-separated list, empty ones included ("a,,b" has three).
private func commaSeparated(_ value: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
    var elements: [ArraySlice<UInt8>] = []
    var start = value.startIndex
    for index in value.indices where value[index] == UInt8(ascii: ",") {
        elements.append(value[start..<index])
        start = index + 1
    }
    elements.append(value[start...])
    return elements
}

/// The number `text` spells if it is plain decimal (no sign, no leading zero) within `range`.
func decimal(_ text: ArraySlice<UInt8>, in range: ClosedRange<Int>) -> Int? {
    guard let first = text.first, first != UInt8(ascii: "0") || text.count == 1, text.count <= 9 else { return nil }
    var value = 0
    for byte in text {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
    }
    return range.contains(value) ? value : nil
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
