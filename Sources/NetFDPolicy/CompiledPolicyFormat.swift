/// The compiled policy file (`POLICY.compiled`, written by `netfd-policy compile`): what it
/// holds and how it is laid out. Little-endian throughout; one version of netfd writes and reads
/// it, and any mismatch makes the helper read the text instead.
///
///     head     magic, counts and offsets; netfd's version; the policy path; the tap prefix; the
///              vhost-net device; the policy files in load order; the sources (every file and
///              directory the load depended on, with its identity); the block index (the key of
///              every 64th record)
///     records  one 64-byte record per rule that can match someone, sorted by key
///     text     each record's glob pattern, MAC patterns and statement text, in that order
///
/// A record's key orders rules by kind, subject, target kind, exact target name and load order,
/// so the rules one caller can match on one bridge or link are a few short runs found by binary
/// search. A record:
///
///     0   key (27 bytes): kind, subject kind, subject id (u32 BE), target kind,
///         exact target name (16 bytes, zero-padded), rule index (u32 BE)
///     27  effect: 0 allow, 1 deny
///     28  flags: 1 vnet-hdr, 2 vhost, 4 promisc
///     29  maximum queues (1...64)
///     30  modes in the order written, 2 bits each from the lowest (`modeCode`)
///     31  how many modes (1...4)
///     32  u32 LE each: file index, line, column, offset of the record's text, glob pattern
///         length, MAC patterns length (written as in a policy, comma-separated), statement
///         text length, quota (0: none)
///
/// Every rule kind and option is represented, so decisions through the compiled form are those
/// of the text for every request.
public enum CompiledPolicyFormat {
    /// The first 8 bytes.
    static let magic: [UInt8] = Array("NETFDPC\n".utf8)
    /// Bumped whenever the layout changes.
    static let formatVersion: UInt32 = 2
    /// netfd's version: a compiled policy is used only by the version that wrote it, so a change
    /// in how policies are read or decided can never meet a file compiled under the old rules.
    public static let netfdVersion = "0.1.0"
    /// The compiled form of absolute `policyPath` lives next to it (`.` and `..` resolved first).
    public static func compiledPath(for policyPath: String) -> String { normalizedPath(policyPath) + ".compiled" }

    /// Bytes per record.
    static let recordSize = 64
    /// Records per index block: one pread of 4 KiB reads a block.
    static let blockRecords = 64
    /// Bytes of a record's key.
    static let keySize = 27
    /// A change within this many seconds before compiling could share its timestamp with a
    /// later edit (coarse file system clocks; FAT keeps 2 s), so `compile` waits it out first.
    public static let settleSeconds: Int64 = 2

    /// What a source is, which says what about it must be unchanged.
    enum SourceRole: UInt8 {
        /// A directory above a policy file: still a directory (same inode), owned by root or the
        /// trusted owner and not writable by group or others (checked again, as the loader does).
        case ancestorDirectory = 0
        /// An included directory: as above, and the same entries (same modification and change time).
        case includedDirectory = 1
        /// A policy file: same inode, size, modification and change time; its owner and mode
        /// are checked again.
        case policyFile = 2
        /// /etc/passwd or /etc/group, when the policy named a user or group: same inode, size and times.
        case userDatabase = 3
    }

    /// What is known about one source.
    struct Source: Equatable {
        var role: SourceRole
        var path: String
        var metadata: FileMetadata
    }

    /// Target kinds in key order: `any` and globs of a subject come before its exact names.
    enum TargetKind: UInt8 {
        case any = 0, glob = 1, exact = 2
    }

    /// Subject kinds in key order.
    enum SubjectKind: UInt8 {
        case anyone = 0, user = 1, group = 2
    }

    /// Rule kinds in key order.
    static func code(_ kind: RuleKind) -> UInt8 {
        switch kind {
        case .tap: return 0
        case .macvtap: return 1
        case .raw: return 2
        }
    }

    /// The rule kind `code` stands for, or nil.
    static func kind(code: UInt8) -> RuleKind? {
        switch code {
        case 0: return .tap
        case 1: return .macvtap
        case 2: return .raw
        default: return nil
        }
    }

    /// A macvtap mode's 2-bit code.
    static func modeCode(_ mode: MacvtapMode) -> UInt8 {
        switch mode {
        case .bridge: return 0
        case .vepa: return 1
        case .private: return 2
        case .passthru: return 3
        }
    }

    /// Record bytes 28...31 for `options`: flags, maximum queues, modes, mode count.
    static func optionBytes(_ options: RuleOptions) -> [UInt8] {
        var flags: UInt8 = 0
        if options.vnetHeader { flags |= 1 }
        if options.vhost { flags |= 2 }
        if options.promiscuous { flags |= 4 }
        var modes: UInt8 = 0
        for (position, mode) in options.modes.prefix(4).enumerated() { modes |= modeCode(mode) << (2 * position) }
        return [flags, UInt8(clamping: options.maximumQueues), modes, UInt8(clamping: options.modes.count)]
    }

    /// The MAC patterns as a policy writes them, comma-separated ("" for none).
    static func macText(_ patterns: [MacPattern]) -> [UInt8] {
        var text: [UInt8] = []
        for pattern in patterns {
            if !text.isEmpty { text.append(UInt8(ascii: ",")) }
            text += pattern.description.utf8
        }
        return text
    }

    /// The options record bytes 28...31 (`optionBytes`), `quota` and `macText` stand for; nil if
    /// any is out of its domain.
    static func options(_ bytes: ArraySlice<UInt8>, quota: UInt32, macText: ArraySlice<UInt8>) -> RuleOptions? {
        let base = bytes.startIndex
        let flags = bytes[base], queues = Int(bytes[base + 1]), packed = bytes[base + 2], count = Int(bytes[base + 3])
        guard flags <= 7, (1...RuleOptions.queueLimit).contains(queues), (1...4).contains(count),
              count == 4 || packed >> (2 * count) == 0, quota <= UInt32(RuleOptions.quotaLimit) else { return nil }
        var modes: [MacvtapMode] = []
        for position in 0..<count {
            let mode: MacvtapMode
            switch (packed >> (2 * position)) & 3 {
            case 0: mode = .bridge
            case 1: mode = .vepa
            case 2: mode = .private
            default: mode = .passthru
            }
            guard !modes.contains(mode) else { return nil }
            modes.append(mode)
        }
        var patterns: [MacPattern] = []
        if !macText.isEmpty {
            var start = macText.startIndex
            for index in macText.startIndex...macText.endIndex where index == macText.endIndex || macText[index] == UInt8(ascii: ",") {
                guard let pattern = MacPattern.parse(macText[start..<index]).pattern else { return nil }
                patterns.append(pattern)
                start = index + 1
            }
        }
        return RuleOptions(vnetHeader: flags & 1 != 0, maximumQueues: queues, vhost: flags & 2 != 0, modes: modes,
                           macPatterns: patterns, promiscuous: flags & 4 != 0, quota: quota == 0 ? nil : Int(quota))
    }

    /// The key of a rule, or of the first rule a search could find (`ruleIndex` 0).
    /// Numbers are big-endian and names zero-padded, so byte order is key order.
    static func key(kind: RuleKind, subject: SubjectKind, id: UInt32, target: TargetKind, name: String?, ruleIndex: UInt32) -> [UInt8] {
        var key = [UInt8](repeating: 0, count: keySize)
        key[0] = code(kind)
        key[1] = subject.rawValue
        storeBigEndian(id, into: &key, at: 2)
        key[6] = target.rawValue
        if let name {
            for (offset, byte) in name.utf8.prefix(InterfaceName.maximumLength + 1).enumerated() { key[7 + offset] = byte }
        }
        storeBigEndian(ruleIndex, into: &key, at: 23)
        return key
    }

    /// Writes `value` big-endian at `offset`.
    static func storeBigEndian(_ value: UInt32, into bytes: inout [UInt8], at offset: Int) {
        for shift in 0..<4 { bytes[offset + shift] = UInt8(truncatingIfNeeded: value >> (24 - 8 * shift)) }
    }
}

/// Appends little-endian fields to a byte buffer.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u32(_ value: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) } }
    mutating func u64(_ value: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) } }
    mutating func raw(_ data: [UInt8]) { bytes += data }
    /// A length-prefixed string (u32 length, then its UTF-8 bytes).
    mutating func string(_ text: String) {
        u32(UInt32(text.utf8.count))
        bytes += text.utf8
    }
    mutating func timestamp(_ time: FileTimestamp) {
        u64(UInt64(bitPattern: time.seconds))
        u32(time.nanoseconds)
    }
    /// Overwrites the u32 at `offset` (a field whose value is known only later).
    mutating func patch(_ value: UInt32, at offset: Int) {
        for shift in 0..<4 { bytes[offset + shift] = UInt8(truncatingIfNeeded: value >> (8 * shift)) }
    }
}

/// Reads little-endian fields from bytes, failing (nil) instead of reading past the end.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], at offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    mutating func u8() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u32() -> UInt32? {
        guard offset <= bytes.count - 4 else { return nil }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[offset + index]) << (8 * index) }
        offset += 4
        return value
    }

    mutating func u64() -> UInt64? {
        guard let low = u32(), let high = u32() else { return nil }
        return UInt64(low) | UInt64(high) << 32
    }

    mutating func raw(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, offset <= bytes.count - count else { return nil }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func string() -> String? {
        guard let length = u32(), let data = raw(Int(length)) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The bytes ran out, or a field was out of its domain.
    struct Truncated: Error {}

    /// One source record of a compiled head: role, path, device, inode, size, modified, changed.
    /// Throws rather than returning an optional: a `Source?` is destroyed through runtime
    /// metadata built on first use (README, Performance).
    mutating func source() throws(Truncated) -> CompiledPolicyFormat.Source {
        typealias Format = CompiledPolicyFormat
        guard let roleCode = u8(), let role = Format.SourceRole(rawValue: roleCode), let path = string(),
              let device = u64(), let inode = u64(), let size = u64(),
              let modified = timestamp(), let changed = timestamp() else { throw Truncated() }
        let metadata = FileMetadata(kind: role == .policyFile || role == .userDatabase ? .regular : .directory, owner: 0, group: 0,
                                    mode: 0, device: device, inode: inode, size: size, modified: modified, changed: changed)
        return Format.Source(role: role, path: path, metadata: metadata)
    }

    mutating func timestamp() -> FileTimestamp? {
        guard let seconds = u64(), let nanoseconds = u32(), nanoseconds < 1_000_000_000 else { return nil }
        return FileTimestamp(seconds: Int64(bitPattern: seconds), nanoseconds: nanoseconds)
    }
}
