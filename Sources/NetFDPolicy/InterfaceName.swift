/// A validated Linux network interface name.
///
/// qemu-bridge-helper truncated long names with `strncpy`, so a request for a
/// long name could match a rule written for its prefix (CVE-2019-13164).
/// An `InterfaceName` is therefore never truncated: anything the kernel would
/// not accept verbatim is rejected, and names compare by whole-string equality.
public struct InterfaceName: Hashable, Sendable, CustomStringConvertible {
    /// The name exactly as validated.
    public let value: String

    /// The longest name the kernel accepts, in bytes: IFNAMSIZ (16) minus the NUL.
    public static let maximumLength = 15

    /// Validates `text` as an interface name.
    ///
    /// Accepts 1...15 bytes of `[A-Za-z0-9._+-]` that are not "." or ".." and do
    /// not start with "-" (it would look like an option to tools such as `ip`).
    /// - Throws: the first problem found, in the order: empty, too long,
    ///   "."/"..", invalid character, leading "-".
    public init(validating text: String) throws(InterfaceNameError) {
        let length = text.utf8.count
        if length == 0 { throw .empty }
        if length > Self.maximumLength { throw .tooLong(name: text, length: length) }
        if text == "." || text == ".." { throw .reserved(name: text) }
        if let offset = text.utf8.firstIndex(where: { !Self.isNameByte($0) }) {
            // Every byte before `offset` is ASCII, so it starts a scalar.
            let character = text.unicodeScalars[offset]
            throw .invalidCharacter(name: text, character: character, offset: text.utf8.distance(from: text.utf8.startIndex, to: offset) + 1)
        }
        if text.utf8.first == UInt8(ascii: "-") { throw .leadingDash(name: text) }
        value = text
    }

    /// The name itself.
    public var description: String { value }

    /// Whether `byte` may appear in an interface name: `[A-Za-z0-9._+-]`.
    ///
    /// Deliberately narrower than the kernel's rules (which allow anything but
    /// '/', ':' and whitespace) so names are safe in messages, paths and shells.
    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}

/// Why a string is not a valid interface name.
public enum InterfaceNameError: Error, Equatable, CustomStringConvertible {
    /// The name is the empty string.
    case empty
    /// The name is longer than `InterfaceName.maximumLength` bytes.
    case tooLong(name: String, length: Int)
    /// The name is "." or "..", which the kernel refuses.
    case reserved(name: String)
    /// `character` is not in `[A-Za-z0-9._+-]`; `offset` is its 1-based byte offset.
    case invalidCharacter(name: String, character: Unicode.Scalar, offset: Int)
    /// The name starts with "-".
    case leadingDash(name: String)

    /// A one-line explanation naming the offending input, quoted as the policy language quotes.
    public var description: String { describe(quoting: quoted) }

    /// The explanation with names quoted by `quote`: the command line shows non-ASCII bytes
    /// escaped, the policy language shows printable Unicode as written.
    public func describe(quoting quoted: (String) -> String) -> String {
        switch self {
        case .empty:
            return "interface name is empty"
        case let .tooLong(name, length):
            return "interface name \(quoted(name)) is \(length) bytes long; the limit is \(InterfaceName.maximumLength) bytes (names are never truncated)"
        case let .reserved(name):
            return "interface name \(quoted(name)) is not allowed"
        case let .invalidCharacter(name, character, offset):
            return "interface name \(quoted(name)) contains \(quoted(String(Character(character)))) at offset \(offset); only A-Z a-z 0-9 . _ + - are allowed"
        case let .leadingDash(name):
            return "interface name \(quoted(name)) must not start with \"-\""
        }
    }
}
