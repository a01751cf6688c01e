// FuzzSupport.swift - shared by both fuzz targets (compiled into each): the oracle helpers.
// Not part of any shipped module.
#if canImport(Glibc)
import Glibc
#endif

/// Stops the run with `message` when `condition` is false; libFuzzer records the input as a crash.
/// Used for properties the code documents (one-line errors, order independence, round trips),
/// so that a wrong answer is a finding just like a trap.
@inline(never)
func fuzzRequire(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if condition() { return }
    let text = "\nFUZZ ORACLE FAILED: " + message() + "\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    abort()
}

/// Whether `scalar` would break a message out of its single line, drive a terminal or reorder
/// what is shown: C0 controls other than tab, DEL, C1 controls (NEL U+0085, CSI U+009B...), the
/// Unicode line and paragraph separators, and the bidirectional embeddings, overrides and isolates.
func isLineBreaking(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09: return false
    case 0x00...0x1F, 0x7F...0x9F, 0x2028...0x202E, 0x2066...0x2069: return true
    default: return false
    }
}

/// The first line-breaking scalar of `text`, or nil.
func lineBreakingScalar(in text: String) -> Unicode.Scalar? {
    text.unicodeScalars.first(where: isLineBreaking)
}

/// `text` with every non-printable-ASCII byte as \xNN, for oracle messages.
func escaped(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") {
            out.unicodeScalars.append(Unicode.Scalar(byte))
        } else {
            let hex = String(byte, radix: 16)
            out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    return out
}

/// Requires `text` to be one clean line (what netfd.policy(5) and netfd-helper(8) promise for
/// every error message).
func requireOneLine(_ text: String, _ what: @autoclosure () -> String) {
    if let scalar = lineBreakingScalar(in: text) {
        fuzzRequire(false, "\(what()) contains U+\(String(scalar.value, radix: 16, uppercase: true)): \(escaped(text))")
    }
}

/// Findings already reported and not yet fixed, from NETFD_FUZZ_KNOWN (comma-separated names,
/// see Fuzz/README.md). Their oracles are relaxed so that a long run can find something new.
/// Empty by default: then every known bug is found again, as it should be until it is fixed.
let knownFindings: Set<String> = {
    guard let value = getenv("NETFD_FUZZ_KNOWN") else { return [] }
    return Set(String(cString: value).split(separator: ",").map(String.init))
}()

/// Whether `needle` occurs in `haystack` directly followed by a non-ASCII byte.
func occursBeforeNonASCII(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard haystack.count > needle.count else { return false }
    return (0..<(haystack.count - needle.count)).contains {
        haystack[$0..<($0 + needle.count)].elementsEqual(needle) && haystack[$0 + needle.count] >= 0x80
    }
}
