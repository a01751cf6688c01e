// MacAddress.swift - Ethernet addresses, the MAC patterns of macvtap rules, and macvtap modes.

/// A 48-bit Ethernet address.
public struct MacAddress: Sendable, Equatable, CustomStringConvertible {
    /// The six octets, most significant first (as written).
    public let bytes: [UInt8]

    /// An address from exactly 6 octets; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    /// Parses "52:54:00:12:34:56": exactly 6 octets of two hexadecimal digits (any case)
    /// separated by colons, nothing else. nil if `text` is anything else.
    public init?(parsing text: String) {
        guard case .exact(let address) = parseMacPattern(Array(text.utf8)[...], allowPrefix: false) else { return nil }
        self = address
    }

    /// Whether the address is a group (multicast or broadcast) address: the first octet's lowest bit.
    public var isMulticast: Bool { bytes[0] & 1 == 1 }

    /// Whether every octet is zero, which no interface may have.
    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    /// Lower-case hexadecimal octets separated by colons: "52:54:00:12:34:56".
    public var description: String { formatOctets(bytes[...]) }

    /// A unicast, locally administered address made from the first 6 of `random` (missing
    /// bytes count as zero): the first octet's multicast bit cleared and its locally
    /// administered bit set, so it can clash with no vendor's address.
    public static func locallyAdministered(random: [UInt8]) -> MacAddress {
        var bytes = [UInt8](repeating: 0, count: 6)
        for index in 0..<min(6, random.count) { bytes[index] = random[index] }
        bytes[0] = (bytes[0] & 0xFC) | 0x02
        return MacAddress(uncheckedBytes: bytes)
    }

    /// An address from bytes already known to be 6.
    init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}

/// Which addresses a macvtap rule lets a request choose (`mac=PATTERN`).
public enum MacPattern: Sendable, Equatable, CustomStringConvertible {
    /// `any`: every unicast address.
    case any
    /// A full address, e.g. `52:54:00:12:34:56`.
    case exact(MacAddress)
    /// 1 to 5 leading octets, written `52:54:00:*`.
    case prefix([UInt8])

    /// Whether `address` is one the pattern covers.
    public func matches(_ address: MacAddress) -> Bool {
        switch self {
        case .any: return true
        case .exact(let exact): return exact == address
        case .prefix(let octets): return address.bytes.starts(with: octets)
        }
    }

    /// Whether the pattern can match only multicast addresses, which a guest may not have.
    var isMulticastOnly: Bool {
        switch self {
        case .any: return false
        case .exact(let address): return address.isMulticast
        case .prefix(let octets): return octets[0] & 1 == 1
        }
    }

    /// The pattern as written in a policy, hexadecimal in lower case.
    public var description: String {
        switch self {
        case .any: return "any"
        case .exact(let address): return address.description
        case .prefix(let octets): return formatOctets(octets[...]) + ":*"
        }
    }

    /// Parses one pattern as a policy writes it.
    /// - Returns: the pattern, or the 0-based byte offset of the first byte that cannot
    ///   continue a valid pattern (`text.count` if it ends too early).
    static func parse(_ text: ArraySlice<UInt8>) -> MacPatternParse {
        parseMacPattern(text, allowPrefix: true)
    }
}

/// The result of parsing a MAC pattern. An enum, not a Result or an optional tuple: those would
/// be generic types instantiated at run time on the helper's path (README, Performance).
enum MacPatternParse {
    case any
    case exact(MacAddress)
    case prefix([UInt8])
    /// The pattern is invalid at this 0-based byte offset.
    case invalid(offset: Int)

    /// The pattern, if it parsed.
    var pattern: MacPattern? {
        switch self {
        case .any: return .any
        case .exact(let address): return .exact(address)
        case .prefix(let octets): return .prefix(octets)
        case .invalid: return nil
        }
    }
}

/// Parses `any` (when `allowPrefix`), a full address, or (when `allowPrefix`) 1 to 5 octets and
/// `:*`. Octets are exactly two hexadecimal digits of either case.
private func parseMacPattern(_ text: ArraySlice<UInt8>, allowPrefix: Bool) -> MacPatternParse {
    if allowPrefix && text.elementsEqual("any".utf8) { return .any }
    var octets: [UInt8] = []
    var index = text.startIndex
    func offset(_ position: Int) -> Int { position - text.startIndex }
    while true {
        guard index < text.endIndex, let high = hexValue(text[index]) else { return .invalid(offset: offset(index)) }
        guard index + 1 < text.endIndex, let low = hexValue(text[index + 1]) else { return .invalid(offset: offset(index + 1)) }
        octets.append(high << 4 | low)
        index += 2
        if octets.count == 6 {
            return index == text.endIndex ? .exact(MacAddress(uncheckedBytes: octets)) : .invalid(offset: offset(index))
        }
        guard index < text.endIndex, text[index] == UInt8(ascii: ":") else { return .invalid(offset: offset(index)) }
        index += 1
        if allowPrefix, index < text.endIndex, text[index] == UInt8(ascii: "*") {
            return index + 1 == text.endIndex ? .prefix(octets) : .invalid(offset: offset(index + 1))
        }
    }
}

/// The value of hexadecimal digit `byte`, or nil.
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}

/// "52:54:00": two lower-case hexadecimal digits per octet, separated by colons.
private func formatOctets(_ octets: ArraySlice<UInt8>) -> String {
    let digits: StaticString = "0123456789abcdef"
    var text: [UInt8] = []
    text.reserveCapacity(octets.count * 3)
    for octet in octets {
        if !text.isEmpty { text.append(UInt8(ascii: ":")) }
        text.append(digits.utf8Start[Int(octet >> 4)])
        text.append(digits.utf8Start[Int(octet & 0xF)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// How a macvtap forwards between its siblings on one lower link (`mode=`).
public enum MacvtapMode: String, Sendable, CaseIterable {
    /// Siblings talk directly; frames to the outside go out the lower link.
    case bridge
    /// Every frame goes out to the external switch, which may reflect it (802.1Qbg).
    case vepa
    /// Like vepa, but frames between siblings are dropped even if reflected.
    case `private`
    /// The only macvtap on the link, which it takes over (its MAC and promiscuity).
    case passthru

    /// The mode `bytes` spell, compared byte for byte; nil for anything else.
    init?(bytes: ArraySlice<UInt8>) {
        for mode in MacvtapMode.allCases where mode.rawValue.utf8.elementsEqual(bytes) {
            self = mode
            return
        }
        return nil
    }
}
