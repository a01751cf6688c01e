/// A shell-style pattern (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`) matched against
/// a whole interface name, never a prefix of it.
public struct Glob: Sendable, Equatable {
    /// The pattern as written after `glob:`.
    public let pattern: String
    private let elements: [Element]

    /// One position of a compiled pattern.
    private enum Element: Sendable, Equatable {
        case byte(UInt8)
        case anyByte
        case anyRun
        case set(ranges: [ClosedRange<UInt8>], negated: Bool)

        /// Whether this single-byte element accepts `byte`; `anyRun` is handled by the matcher.
        func accepts(_ byte: UInt8) -> Bool {
            switch self {
            case .byte(let expected): return byte == expected
            case .anyByte: return true
            case .anyRun: return false
            case let .set(ranges, negated): return ranges.contains { $0.contains(byte) } != negated
            }
        }
    }

    /// Compiles `pattern`.
    ///
    /// Every literal byte and class member must be one that can occur in an
    /// interface name, so a pattern that could never match is an error
    /// rather than a silently dead rule.
    /// - Throws: a `GlobSyntaxError` with the 0-based byte offset of the problem.
    public init(_ pattern: String) throws(GlobSyntaxError) {
        let bytes = Array(pattern.utf8)
        guard !bytes.isEmpty else { throw GlobSyntaxError(offset: 0, message: "empty glob pattern") }
        var elements: [Element] = []
        elements.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "*"):
                if elements.last != .anyRun { elements.append(.anyRun) }  // "**" is "*"
                index += 1
            case UInt8(ascii: "?"):
                elements.append(.anyByte)
                index += 1
            case UInt8(ascii: "["):
                let (element, next) = try Self.parseSet(bytes, openingAt: index)
                elements.append(element)
                index = next
            default:
                try Self.requireNameByte(bytes, at: index)
                elements.append(.byte(byte))
                index += 1
            }
        }
        self.pattern = pattern
        self.elements = elements
    }

    /// Parses the bracket expression starting at `open`; returns it and the index after its "]".
    private static func parseSet(_ bytes: [UInt8], openingAt open: Int) throws(GlobSyntaxError) -> (Element, Int) {
        var index = open + 1
        let negated = index < bytes.count && bytes[index] == UInt8(ascii: "!")
        if negated { index += 1 }
        var ranges: [ClosedRange<UInt8>] = []
        while index < bytes.count, bytes[index] != UInt8(ascii: "]") {
            try requireNameByte(bytes, at: index)
            let low = bytes[index]
            // "a-z" is a range; a "-" first or last in the set is literal.
            if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "-"), bytes[index + 2] != UInt8(ascii: "]") {
                try requireNameByte(bytes, at: index + 2)
                let high = bytes[index + 2]
                guard low <= high else {
                    throw GlobSyntaxError(offset: index, message: "reversed range \"\(Character(Unicode.Scalar(low)))-\(Character(Unicode.Scalar(high)))\" in glob pattern")
                }
                ranges.append(low...high)
                index += 3
            } else {
                ranges.append(low...low)
                index += 1
            }
        }
        guard index < bytes.count else {
            throw GlobSyntaxError(offset: open, message: "unterminated \"[\" in glob pattern")
        }
        guard !ranges.isEmpty else {
            throw GlobSyntaxError(offset: open, message: "empty \"[]\" in glob pattern")
        }
        return (.set(ranges: ranges, negated: negated), index + 1)
    }

    /// Throws unless `bytes[index]` can occur in an interface name.
    private static func requireNameByte(_ bytes: [UInt8], at index: Int) throws(GlobSyntaxError) {
        guard InterfaceName.isNameByte(bytes[index]) else {
            let shown = bytes[index] < 0x80 ? quoted(String(Unicode.Scalar(bytes[index]))) : "a non-ASCII character"
            throw GlobSyntaxError(offset: index, message: "glob pattern contains \(shown), which cannot occur in an interface name")
        }
    }

    /// Whether the whole of `name` matches the pattern.
    public func matches(_ name: InterfaceName) -> Bool {
        if let result = name.value.utf8.withContiguousStorageIfAvailable({ matches($0) }) {
            return result
        }
        return matches(Array(name.value.utf8)[...])
    }

    /// Classic single-backtrack wildcard matching: on a mismatch, retry from
    /// the most recent `*` consuming one more byte. Linear for one `*`,
    /// O(pattern × name) at worst, and names are at most 15 bytes.
    private func matches<Bytes: RandomAccessCollection>(_ name: Bytes) -> Bool where Bytes.Element == UInt8, Bytes.Index == Int {
        var element = 0, position = name.startIndex
        var lastRun = -1, lastRunPosition = position
        while position < name.endIndex {
            if element < elements.count {
                if elements[element] == .anyRun {
                    lastRun = element
                    lastRunPosition = position
                    element += 1
                    continue
                }
                if elements[element].accepts(name[position]) {
                    element += 1
                    position += 1
                    continue
                }
            }
            guard lastRun >= 0 else { return false }
            element = lastRun + 1
            lastRunPosition += 1
            position = lastRunPosition
        }
        while element < elements.count, elements[element] == .anyRun { element += 1 }
        return element == elements.count
    }
}

/// Why a `glob:` pattern is invalid.
public struct GlobSyntaxError: Error, Sendable, Equatable {
    /// 0-based byte offset of the problem within the pattern.
    public var offset: Int
    /// What is wrong.
    public var message: String
}
