/// A word of a policy line: a run of non-blank bytes or a double-quoted string.
///
/// A token is a slice of the file's bytes (or of its unescaped copy, if quoted), not a String:
/// a 10,000-rule policy is lexed without creating a String per word.
struct Token {
    /// The word's UTF-8 bytes, with quotes removed and `\"`, `\\` unescaped.
    var bytes: ArraySlice<UInt8>
    /// Byte offset of the first byte (the opening quote, if quoted) in the file.
    var start: Int
    /// Byte offset just past the last byte (the closing quote, if quoted).
    var end: Int
    /// 1-based byte column of `start`.
    var column: Int

    /// The word as a String (for names, paths and messages).
    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Whether the word is exactly `word` (an ASCII keyword), compared byte by byte.
    func `is`(_ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        var keyword = word.utf8Start
        for byte in bytes {
            guard byte == keyword.pointee else { return false }
            keyword += 1
        }
        return true
    }

    /// Whether the word contains `byte`.
    func contains(_ byte: UInt8) -> Bool { bytes.contains(byte) }
}

/// Splits a policy file into lines of tokens, working on UTF-8 bytes.
///
/// `#` starts a comment where a token could start; blanks are spaces and
/// tabs, and a `\r` right before a newline. Control characters outside
/// comments are errors, so nothing invisible can hide in a rule.
struct Lexer {
    private let bytes: [UInt8]
    private let file: String
    private var offset = 0
    /// 1-based number of the line most recently returned by `nextLine`.
    private(set) var lineNumber = 0

    /// Prepares to lex `bytes`, which must have passed `validateEncoding`.
    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    /// Throws at the first NUL byte or invalid UTF-8 sequence in `bytes`.
    static func validateEncoding(_ bytes: [UInt8], file: String) throws(PolicyDiagnostic) {
        var line = 1, lineStart = 0, index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= 0x01 && byte < 0x80 {
                if byte == UInt8(ascii: "\n") { line += 1; lineStart = index + 1 }
                index += 1
                continue
            }
            let location = SourceLocation(file: file, line: line, column: index - lineStart + 1)
            if byte == 0 { throw PolicyDiagnostic(at: location, "NUL byte in policy file") }
            let length = utf8SequenceLength(bytes, at: index)
            guard length > 0 else {
                throw PolicyDiagnostic(at: location, "invalid UTF-8 (byte 0x\(hex(UInt32(byte), width: 2)))")
            }
            index += length
        }
    }

    /// Length of the well-formed UTF-8 sequence starting at `index`, or 0 if
    /// it is ill-formed (overlong, surrogate, beyond U+10FFFF, or truncated).
    private static func utf8SequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xE1...0xEF: length = 3
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: return 0
        }
        guard index + length <= bytes.count, secondRange.contains(bytes[index + 1]) else { return 0 }
        for continuation in bytes[(index + 2)..<(index + length)] where continuation & 0xC0 != 0x80 {
            return 0
        }
        return length
    }

    /// Replaces `tokens` with those of the next line, which may be none.
    /// - Returns: false when the input is exhausted.
    mutating func nextLine(into tokens: inout [Token]) throws(PolicyDiagnostic) -> Bool {
        guard offset < bytes.count else { return false }
        tokens.removeAll(keepingCapacity: true)
        lineNumber += 1
        let lineStart = offset
        var index = offset
        scan: while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\n"):
                break scan
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                index += 1
            case UInt8(ascii: "\r") where isLineEnd(index + 1):
                index += 1
            case UInt8(ascii: "#"):
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
                break scan
            case UInt8(ascii: "\""):
                tokens.append(try quotedString(at: index, lineStart: lineStart))
                index = tokens[tokens.count - 1].end
            default:
                tokens.append(try word(at: index, lineStart: lineStart))
                index = tokens[tokens.count - 1].end
            }
        }
        offset = index + 1
        return true
    }

    /// The source bytes from the start of `first` to the end of `last`.
    func source(from first: Token, through last: Token) -> ArraySlice<UInt8> {
        bytes[first.start..<last.end]
    }

    /// Whether `index` is the end of a line: a newline or the end of input.
    private func isLineEnd(_ index: Int) -> Bool {
        index == bytes.count || bytes[index] == UInt8(ascii: "\n")
    }

    /// Whether the byte at `index` ends a token (blank, `\r\n`, newline or end of input).
    private func isTokenEnd(_ index: Int) -> Bool {
        if isLineEnd(index) { return true }
        switch bytes[index] {
        case UInt8(ascii: " "), UInt8(ascii: "\t"): return true
        case UInt8(ascii: "\r"): return isLineEnd(index + 1)
        default: return false
        }
    }

    /// Lexes an unquoted word starting at `start`.
    private func word(at start: Int, lineStart: Int) throws(PolicyDiagnostic) -> Token {
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            // Fast path: printable ASCII continues the word; UTF-8 (validated already) is checked below.
            if byte > 0x20 && byte < 0x7F { index += 1; continue }
            if isTokenEnd(index) { break }
            try rejectControlCharacter(at: index, lineStart: lineStart)
            index += 1
        }
        return Token(bytes: bytes[start..<index], start: start, end: index, column: start - lineStart + 1)
    }

    /// Lexes a double-quoted string whose opening quote is at `start`.
    private func quotedString(at start: Int, lineStart: Int) throws(PolicyDiagnostic) -> Token {
        var text: [UInt8] = []
        var index = start + 1
        while true {
            guard !isLineEnd(index) else {
                throw error(at: start, lineStart: lineStart, "unterminated string; expected a closing \"")
            }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count,
                      bytes[index + 1] == UInt8(ascii: "\"") || bytes[index + 1] == UInt8(ascii: "\\") else {
                    throw error(at: index, lineStart: lineStart, "unknown escape in string; only \\\" and \\\\ are allowed")
                }
                index += 1
            } else {
                try rejectControlCharacter(at: index, lineStart: lineStart)
            }
            text.append(bytes[index])
            index += 1
        }
        let end = index + 1
        guard isTokenEnd(end) || bytes[end] == UInt8(ascii: "#") else {
            throw error(at: end, lineStart: lineStart, "expected a blank after the closing quote")
        }
        return Token(bytes: text[...], start: start, end: end, column: start - lineStart + 1)
    }

    /// Throws if the character at `index` is a control character or otherwise invisible or
    /// line-breaking: ASCII controls, and the Unicode control (C1, e.g. NEL U+0085), format
    /// (bidi overrides U+202E, zero-width joiner U+200D, U+0600...) and line or paragraph
    /// separator (U+2028, U+2029) characters.
    private func rejectControlCharacter(at index: Int, lineStart: Int) throws(PolicyDiagnostic) {
        let byte = bytes[index]
        if byte < 0x20 || byte == 0x7F {
            throw error(at: index, lineStart: lineStart, "control character 0x\(hex(UInt32(byte), width: 2)) in policy text")
        }
        guard byte >= 0xC0 else { return }   // ASCII, or a continuation byte of a checked lead byte
        var decoder = Unicode.UTF8()
        var iterator = bytes[index...].makeIterator()
        guard case .scalarValue(let scalar) = decoder.decode(&iterator) else { return }   // validated already
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator:
            throw error(at: index, lineStart: lineStart, "invisible or control character U+\(hex(scalar.value, width: 4)) in policy text")
        default:
            return
        }
    }

    /// A diagnostic at byte `index` of the line starting at `lineStart`.
    private func error(at index: Int, lineStart: Int, _ message: String) -> PolicyDiagnostic {
        PolicyDiagnostic(at: SourceLocation(file: file, line: lineNumber, column: index - lineStart + 1), message)
    }
}
