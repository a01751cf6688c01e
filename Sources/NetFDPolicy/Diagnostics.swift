/// A position in a policy file: 1-based line and column; columns count bytes.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    /// Absolute, normalised path of the file.
    public var file: String
    /// 1-based line number.
    public var line: Int
    /// 1-based byte offset within the line.
    public var column: Int

    /// Creates a location; `line` and `column` are 1-based.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// "FILE:LINE:COL", the form editors and compilers use.
    public var description: String { "\(displayPath(file)):\(line):\(column)" }
}

/// An error or warning about a policy, in the one-line form
/// "FILE:LINE:COL: MESSAGE" (or "FILE: MESSAGE" without a position).
public struct PolicyDiagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is, when it is at a token.
    public var location: SourceLocation?
    /// The file concerned; equals `location?.file` when there is a location.
    public var file: String?
    /// What is wrong and, where useful, what was expected. One line.
    public var message: String

    /// A diagnostic pointing at a token.
    public init(at location: SourceLocation, _ message: String) {
        self.location = location
        self.file = location.file
        self.message = message
    }

    /// A diagnostic about a whole file (or about no file when `file` is nil).
    public init(file: String?, _ message: String) {
        self.location = nil
        self.file = file
        self.message = message
    }

    /// The one-line form shown to administrators.
    public var description: String {
        if let location { return "\(location): \(message)" }
        if let file { return "\(displayPath(file)): \(message)" }
        return message
    }
}

/// Errors are diagnostics; the name reads better at throwing sites.
public typealias PolicyError = PolicyDiagnostic

/// `text` in double quotes, with control, format and other invisible
/// characters escaped so that a message always shows what was written.
func quoted(_ text: String) -> String {
    "\"" + escapingInvisible(text, quotes: true) + "\""
}

/// A file name as messages show it: without quotes, but with control, format and other
/// invisible characters escaped like `quoted` does. Paths come from directory entries and the
/// command line too, not only from policy text, so they can hold anything but "/" and NUL;
/// unescaped, a newline or an escape sequence in a name would forge or hide output.
public func displayPath(_ path: String) -> String {
    escapingInvisible(path, quotes: false)
}

/// `text` with invisible characters escaped, and `"` and `\` too if `quotes`.
private func escapingInvisible(_ text: String, quotes: Bool) -> String {
    var result = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"" where quotes: result += "\\\""
        case "\\" where quotes: result += "\\\\"
        case "\t": result += "\\t"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        default:
            if isPrintable(scalar) {
                result.unicodeScalars.append(scalar)
            } else if scalar.value < 0x100 {
                result += "\\x" + hex(scalar.value, width: 2)
            } else {
                result += "\\u{" + hex(scalar.value, width: 4) + "}"
            }
        }
    }
    return result
}

/// Whether `scalar` shows up as a visible glyph (or a plain space).
private func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
    if scalar == " " { return true }
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned,
         .spaceSeparator, .lineSeparator, .paragraphSeparator:
        return false
    default:
        return true
    }
}

/// Upper-case hexadecimal digits of `value`, zero-padded to `width`.
func hex(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
