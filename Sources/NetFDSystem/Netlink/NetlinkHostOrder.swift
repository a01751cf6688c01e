// Netlink is host-endian, so integers are copied through their in-memory representation (`withUnsafeBytes`)
// rather than assembled byte by byte, which would hard-code one endianness.

extension Array where Element == UInt8 {
    /// Appends `value` in host byte order.
    mutating func appendHostOrder<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value) { append(contentsOf: $0) }
    }

    /// Overwrites the bytes at `offset` with `value` in host byte order. Traps if they are out of bounds.
    mutating func storeHostOrder<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        Swift.withUnsafeBytes(of: value) { replaceSubrange(offset..<offset + $0.count, with: $0) }
    }
}

extension Collection where Element == UInt8, Index == Int {
    /// Reads a host-order `T` at `offset` bytes past `startIndex`. Callers check bounds first; overruns trap.
    func hostOrderInteger<T: FixedWidthInteger>(at offset: Int, as _: T.Type = T.self) -> T {
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { raw in
            for byte in raw.indices { raw[byte] = self[startIndex + offset + byte] }
        }
        return value
    }
}
