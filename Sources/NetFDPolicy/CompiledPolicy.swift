/// A policy's compiled form (`CompiledPolicyFormat`), used only while it provably says what the
/// text says: `open` checks the file like a policy file (regular, not a symlink, owned by root
/// or the trusted owner, not writable by group or others), then every source the compiler
/// recorded (same inode, size and times for files and included directories; directories above
/// them still trusted, as the loader checks them). A decision then reads only the records that
/// can match the caller: a few binary searches, one pread of 4 KiB each.
///
/// Anything unexpected falls back to the text: `open` says why it did not use the file, and a
/// record found malformed during `decide` makes it load the text with `fallback` and decide there.
public final class CompiledPolicy: PolicyDecider {
    /// Why a compiled file was not used. The helper then reads the text; `check` prints this.
    public enum Unusable: Error, Equatable, CustomStringConvertible {
        /// There is no compiled file.
        case missing
        /// It exists but could not be opened or read.
        case unreadable(String)
        /// Its owner, mode or type would not pass as a policy file.
        case untrusted(String)
        /// Written by another version of netfd, or for another policy path or trusted owner.
        case mismatched(String)
        /// Its contents are not a compiled policy.
        case malformed(String)
        /// A source changed since it was compiled.
        case stale(path: String, reason: String)

        public var description: String {
            switch self {
            case .missing: return "there is no compiled form"
            case .unreadable(let detail): return "the compiled form cannot be read: \(detail)"
            case .untrusted(let detail): return "the compiled form is not trusted: \(detail)"
            case .mismatched(let detail): return "the compiled form does not apply: \(detail)"
            case .malformed(let detail): return "the compiled form is malformed: \(detail)"
            case let .stale(path, reason): return "the compiled form is out of date: \(displayPath(path)) \(reason)"
            }
        }
    }

    public let tapNamePrefix: String?
    public let vhostDevicePath: String?
    public var mainFile: String? { files.first }
    /// The policy files in load order (rules name them by index).
    public let files: [String]
    private let file: any RandomAccessFile
    private let recordCount: Int
    private let recordsOffset: UInt64
    private let textOffset: UInt64
    private let textLength: Int
    /// The head's bytes, which hold the block index in place: the first key of each block of
    /// `CompiledPolicyFormat.blockRecords` records (an array of slices would cost the request
    /// path runtime metadata for its element type; README, Performance).
    private let headBytes: [UInt8]
    private let blockKeysOffset: Int
    private let blockCount: Int
    private let fallback: () throws(PolicyError) -> Policy
    /// The last block read (index -1: none yet): a run of matching records rarely leaves its block.
    private var cachedBlockIndex = -1
    private var cachedBlockBytes: [UInt8] = []

    private init(file: any RandomAccessFile, head: Head, fallback: @escaping () throws(PolicyError) -> Policy) {
        self.file = file
        self.tapNamePrefix = head.tapNamePrefix
        self.vhostDevicePath = head.vhostDevicePath
        self.files = head.files
        self.recordCount = head.recordCount
        self.recordsOffset = head.recordsOffset
        self.textOffset = head.textOffset
        self.textLength = head.textLength
        self.headBytes = head.bytes
        self.blockKeysOffset = head.blockKeysOffset
        self.blockCount = head.blockCount
        self.fallback = fallback
    }

    /// Opens the compiled form of the policy at absolute `policyPath` if it is current.
    /// - Parameter fallback: loads the text; called only if a record turns out malformed.
    /// - Returns: the policy.
    /// - Throws: why the compiled form cannot stand in for the text. (Typed throws, not a Result:
    ///   a Result of these types needs runtime metadata instantiated on the request path.)
    public static func open(policyPath: String, fileSystem: any PolicyFileSystem, trustedOwner: UInt32 = 0,
                            fallback: @escaping () throws(PolicyError) -> Policy) throws(Unusable) -> CompiledPolicy {
        guard policyPath.utf8.first == UInt8(ascii: "/"), policyPath.utf8.count <= PolicyLoader.maximumPathBytes else {
            throw .mismatched("the policy path is not absolute")
        }
        let path = normalizedPath(policyPath)
        let compiledPath = CompiledPolicyFormat.compiledPath(for: path)
        let opened: OpenedFile
        do throws(FileSystemError) {
            opened = try fileSystem.openForRandomAccess(atPath: compiledPath)
        } catch {
            switch error.code {
            case .notFound: throw .missing
            case .symlink: throw .untrusted("a symlink")
            default: throw .unreadable(error.detail)
            }
        }
        let metadata = opened.metadata, file = opened.file
        guard metadata.kind == .regular else { throw .untrusted("not a regular file") }
        guard metadata.owner == 0 || metadata.owner == trustedOwner else {
            throw .untrusted("owned by uid \(metadata.owner)")
        }
        guard metadata.mode & 0o022 == 0 else { throw .untrusted("writable by group or others") }
        let head = try Head.read(file, size: metadata.size)
        guard head.netfdVersion == CompiledPolicyFormat.netfdVersion else {
            throw .mismatched("written by netfd \(head.netfdVersion), this is \(CompiledPolicyFormat.netfdVersion)")
        }
        guard samePath(head.policyPath, path) else { throw .mismatched("compiled for \(displayPath(head.policyPath))") }
        guard head.trustedOwner == trustedOwner else { throw .mismatched("compiled for another trusted owner") }
        // The compiled file's own directory must be one the load checked.
        let directory = parentDirectory(of: compiledPath)
        var directoryIsSource = false
        try head.forEachSource { source in
            directoryIsSource = directoryIsSource || (source.role != .policyFile && source.role != .userDatabase && samePath(source.path, directory))
        }
        guard directoryIsSource else { throw .malformed("its directory is not among its sources") }
        try head.forEachSource { source throws(Unusable) in
            if let reason = staleness(of: source, fileSystem: fileSystem, trustedOwner: trustedOwner) {
                throw .stale(path: source.path, reason: reason)
            }
        }
        return CompiledPolicy(file: file, head: head, fallback: fallback)
    }

    /// Why `source` no longer is what the compiler saw, or nil if it still is.
    private static func staleness(of source: CompiledPolicyFormat.Source, fileSystem: any PolicyFileSystem, trustedOwner: UInt32) -> String? {
        let now: FileMetadata
        do throws(FileSystemError) {
            now = try fileSystem.metadata(atPath: source.path)
        } catch {
            return "cannot be read: \(error.detail)"
        }
        let then = source.metadata
        switch source.role {
        case .ancestorDirectory, .includedDirectory:
            guard now.kind == .directory else { return "is no longer a directory" }
        case .policyFile, .userDatabase:
            guard now.kind == .regular else { return "is no longer a regular file" }
        }
        guard now.device == then.device && now.inode == then.inode else { return "was replaced" }
        if source.role != .userDatabase {
            // As the loader would check it now.
            guard now.owner == 0 || now.owner == trustedOwner else { return "is owned by uid \(now.owner)" }
            guard now.mode & 0o022 == 0 else { return "is writable by group or others" }
        }
        guard source.role != .ancestorDirectory else { return nil }
        guard now.changed == then.changed && now.modified == then.modified && (source.role == .includedDirectory || now.size == then.size) else {
            return source.role == .includedDirectory ? "has changed entries" : "has changed"
        }
        return nil
    }

    public func decide(_ request: PolicyRequest, for identity: Identity) throws(PolicyError) -> Decision {
        do throws(Malformed) {
            return try lookUp(request, for: identity)
        } catch {
            return try fallback().decide(request, for: identity)
        }
    }

    /// A record that does not hold together; the text decides instead.
    private struct Malformed: Error {}

    /// The decision from the matching records: they are gathered, put back in load order and
    /// decided by `Policy.decide` itself, so both forms share one definition of the outcome.
    private func lookUp(_ request: PolicyRequest, for identity: Identity) throws(Malformed) -> Decision {
        typealias Format = CompiledPolicyFormat
        let kind = request.kind, target = request.target
        // Parallel arrays of prespecialised and shared element types, not an array of subject or
        // (index, rule) tuples: each tuple type and array of it is runtime metadata built on the
        // request path (README, Performance).
        var matchIndices: [UInt32] = []
        var matchedRules: [Rule] = []
        /// Gathers the rules of one subject the caller is: its `any` and glob targets, then its
        /// exact target equal to the bridge or link.
        func gather(_ subject: Format.SubjectKind, _ id: UInt32) throws(Malformed) {
            let anyTarget = Format.key(kind: kind, subject: subject, id: id, target: .any, name: nil, ruleIndex: 0)
            var position = try lowerBound(anyTarget)
            while position < recordCount {
                let record = try self.record(at: position)
                guard record.key.prefix(6).elementsEqual(anyTarget.prefix(6)), record.target != .exact else { break }
                if let rule = try rule(record, subject: subject, id: id, matching: target) {
                    matchIndices.append(record.index)
                    matchedRules.append(rule)
                }
                position += 1
            }
            let exactTarget = Format.key(kind: kind, subject: subject, id: id, target: .exact, name: target.value, ruleIndex: 0)
            position = try lowerBound(exactTarget)
            while position < recordCount {
                let record = try self.record(at: position)
                guard record.key.prefix(23).elementsEqual(exactTarget.prefix(23)) else { break }
                if let rule = try rule(record, subject: subject, id: id, matching: target) {
                    matchIndices.append(record.index)
                    matchedRules.append(rule)
                }
                position += 1
            }
        }
        try gather(.anyone, 0)
        try gather(.user, identity.uid)
        try gather(.group, identity.gid)
        let groups = identity.supplementaryGroups
        for position in groups.indices where groups[position] != identity.gid && !groups[..<position].contains(groups[position]) {
            try gather(.group, groups[position])
        }
        // Back in load order.
        let order = matchIndices.indices.sorted { matchIndices[$0] < matchIndices[$1] }
        let policy = Policy(files: files, rules: order.map { matchedRules[$0] }, tapNamePrefix: tapNamePrefix,
                            vhostDevicePath: vhostDevicePath, warnings: [])
        return policy.decide(request, for: identity)
    }

    /// The rule `record` stands for if it covers `name` (the bridge or link), else nil.
    private func rule(_ record: Record, subject: CompiledPolicyFormat.SubjectKind, id: UInt32, matching name: InterfaceName) throws(Malformed) -> Rule? {
        // One read for the record's glob pattern, MAC patterns and statement text.
        let chunk = try text(record.textOffset..<record.textOffset + record.patternLength + record.macLength + record.sourceLength)
        let macStart = record.patternLength, sourceStart = macStart + record.macLength
        let target: NamePattern
        switch record.target {
        case .any:
            target = .any
        case .glob:
            let pattern = String(decoding: chunk[..<macStart], as: UTF8.self)
            guard let glob = try? Glob(pattern) else { throw Malformed() }
            guard glob.matches(name) else { return nil }
            target = .glob(glob)
        case .exact:
            let nameBytes = record.key.dropFirst(7).prefix(InterfaceName.maximumLength + 1).prefix { $0 != 0 }
            guard let exact = try? InterfaceName(validating: String(decoding: nameBytes, as: UTF8.self)), exact == name else { throw Malformed() }
            target = .exact(exact)
        }
        let ruleSubject: Subject
        switch subject {
        case .anyone: ruleSubject = .anyone
        case .user: ruleSubject = .user(id)
        case .group: ruleSubject = .group(id)
        }
        guard record.fileIndex < files.count, record.line > 0, record.column > 0,
              let options = CompiledPolicyFormat.options(record.optionBytes, quota: record.quota, macText: chunk[macStart..<sourceStart]) else { throw Malformed() }
        let location = SourceLocation(file: files[record.fileIndex], line: record.line, column: record.column)
        return Rule(effect: record.isDeny ? .deny : .allow, subject: ruleSubject, kind: record.kind, target: target,
                    options: options, location: location, source: chunk[sourceStart...])
    }

    /// The bytes of `range` in the text section.
    private func text(_ range: Range<Int>) throws(Malformed) -> [UInt8] {
        guard range.lowerBound >= 0, range.upperBound <= textLength else { throw Malformed() }
        if range.isEmpty { return [] }
        guard let bytes = try? file.read(at: textOffset + UInt64(range.lowerBound), count: range.count),
              bytes.count == range.count else { throw Malformed() }
        return bytes
    }

    /// The position of the first record whose key is not below `key` (`recordCount` if none).
    private func lowerBound(_ key: [UInt8]) throws(Malformed) -> Int {
        // Blocks whose first key is below `key`: every record before the last of them is below it,
        // and every record from the next block on is not.
        var low = 0, high = blockCount
        while low < high {
            let middle = (low + high) / 2
            if precedes(blockKey(middle), key[...]) { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return 0 }
        // Then a binary search of that block's keys, compared in place (no record decoded).
        let block = low - 1
        var first = block * CompiledPolicyFormat.blockRecords
        var end = min(recordCount, first + CompiledPolicyFormat.blockRecords)
        while first < end {
            let middle = (first + end) / 2
            if precedes(try self.key(at: middle), key[...]) { first = middle + 1 } else { end = middle }
        }
        return first
    }

    /// The key of the record at `position` (its first `keySize` bytes), read with its block.
    private func key(at position: Int) throws(Malformed) -> ArraySlice<UInt8> {
        let bytes = try block(containing: position)
        let start = (position % CompiledPolicyFormat.blockRecords) * CompiledPolicyFormat.recordSize
        return bytes[start..<start + CompiledPolicyFormat.keySize]
    }

    /// The first key of block `index`, from the head's block index.
    private func blockKey(_ index: Int) -> ArraySlice<UInt8> {
        let start = blockKeysOffset + index * CompiledPolicyFormat.keySize
        return headBytes[start..<start + CompiledPolicyFormat.keySize]
    }

    /// The record at `position`, read with its block.
    private func record(at position: Int) throws(Malformed) -> Record {
        typealias Format = CompiledPolicyFormat
        let bytes = try block(containing: position)
        let start = (position % Format.blockRecords) * Format.recordSize
        guard let record = Record(bytes[start..<start + Format.recordSize]) else { throw Malformed() }
        return record
    }

    /// The bytes of the block holding record `position`: one pread, unless it is the last block read.
    private func block(containing position: Int) throws(Malformed) -> [UInt8] {
        typealias Format = CompiledPolicyFormat
        let block = position / Format.blockRecords
        if cachedBlockIndex != block {
            let count = min(Format.blockRecords, recordCount - block * Format.blockRecords) * Format.recordSize
            guard let read = try? file.read(at: recordsOffset + UInt64(block * Format.blockRecords * Format.recordSize), count: count),
                  read.count == count else { throw Malformed() }
            (cachedBlockIndex, cachedBlockBytes) = (block, read)
        }
        return cachedBlockBytes
    }

    /// One decoded record (layout: `CompiledPolicyFormat`).
    private struct Record {
        var key: ArraySlice<UInt8>
        var kind: RuleKind
        var target: CompiledPolicyFormat.TargetKind
        var index: UInt32
        var isDeny: Bool
        /// Bytes 28...31, decoded with the MAC patterns by `CompiledPolicyFormat.options`.
        var optionBytes: ArraySlice<UInt8>
        var fileIndex: Int
        var line: Int
        var column: Int
        var textOffset: Int
        var patternLength: Int
        var macLength: Int
        var sourceLength: Int
        var quota: UInt32

        /// Decodes 64 bytes; nil if a field is out of its domain.
        init?(_ bytes: ArraySlice<UInt8>) {
            typealias Format = CompiledPolicyFormat
            key = bytes.prefix(Format.keySize)
            guard let kind = Format.kind(code: key[key.startIndex]),
                  Format.SubjectKind(rawValue: key[key.startIndex + 1]) != nil,
                  let target = Format.TargetKind(rawValue: key[key.startIndex + 6]) else { return nil }
            self.kind = kind
            self.target = target
            index = key[(key.startIndex + 23)...].reduce(0) { $0 << 8 | UInt32($1) }
            let base = bytes.startIndex + Format.keySize
            guard bytes[base] <= 1 else { return nil }
            isDeny = bytes[base] == 1
            optionBytes = bytes[(base + 1)..<(base + 5)]
            var fields = ByteReader(Array(bytes), at: 32)
            guard let file = fields.u32(), let line = fields.u32(), let column = fields.u32(),
                  let textOffset = fields.u32(), let patternLength = fields.u32(), let macLength = fields.u32(),
                  let sourceLength = fields.u32(), let quota = fields.u32() else { return nil }
            fileIndex = Int(file)
            self.line = Int(line)
            self.column = Int(column)
            self.textOffset = Int(textOffset)
            self.patternLength = Int(patternLength)
            self.macLength = Int(macLength)
            self.sourceLength = Int(sourceLength)
            self.quota = quota
        }
    }

    /// The head, decoded and checked for consistency.
    private struct Head {
        var recordCount: Int
        var recordsOffset: UInt64
        var textOffset: UInt64
        var textLength: Int
        var netfdVersion: String
        var policyPath: String
        var trustedOwner: UInt32
        var tapNamePrefix: String?
        var vhostDevicePath: String?
        var files: [String]
        /// The head itself: the sources and the block index are read from it in place.
        var bytes: [UInt8]
        var sourcesOffset: Int
        var sourceCount: Int
        var blockKeysOffset: Int
        var blockCount: Int

        /// Calls `body` with each source the compiler recorded, in order (`read` checked that
        /// they all decode), until it throws. A visitor rather than an array of sources: that
        /// array's types would be runtime metadata built on the request path.
        func forEachSource(_ body: (CompiledPolicyFormat.Source) throws(Unusable) -> Void) throws(Unusable) {
            var reader = ByteReader(bytes, at: sourcesOffset)
            for _ in 0..<sourceCount {
                let source: CompiledPolicyFormat.Source
                do throws(ByteReader.Truncated) { source = try reader.source() } catch { return }
                try body(source)
            }
        }

        /// Reads the head of a compiled file of `size` bytes: 8 KiB first, which holds all of it
        /// for most policies, then the rest if it is longer.
        static func read(_ file: any RandomAccessFile, size: UInt64) throws(Unusable) -> Head {
            typealias Format = CompiledPolicyFormat
            func malformed(_ what: String) -> Unusable { .malformed(what) }
            var bytes: [UInt8]
            do throws(FileSystemError) {
                bytes = try file.read(at: 0, count: 8192)
            } catch {
                throw .unreadable(error.detail)
            }
            var reader = ByteReader(bytes)
            guard reader.raw(8).map({ $0.elementsEqual(Format.magic) }) == true else { throw malformed("no compiled-policy signature") }
            guard reader.u32() == Format.formatVersion else { throw .mismatched("another layout version") }
            guard let headLength = reader.u32(), UInt64(headLength) <= size else { throw malformed("truncated head") }
            if Int(headLength) > bytes.count {
                do throws(FileSystemError) {
                    bytes += try file.read(at: UInt64(bytes.count), count: Int(headLength) - bytes.count)
                } catch {
                    throw .unreadable(error.detail)
                }
                guard bytes.count >= Int(headLength) else { throw malformed("truncated head") }
                let offset = reader.offset
                reader = ByteReader(bytes, at: offset)
            }
            guard let recordCount = reader.u32(), let recordsOffset = reader.u32(), let textOffset = reader.u32(),
                  let textLength = reader.u32(),
                  UInt64(recordsOffset) + UInt64(recordCount) * UInt64(Format.recordSize) == UInt64(textOffset),
                  UInt64(textOffset) + UInt64(textLength) == size else { throw malformed("sections do not add up to the file") }
            guard let version = reader.string(), let policyPath = reader.string(), let trustedOwner = reader.u32(),
                  let hasPrefix = reader.u8(), hasPrefix <= 1, let prefix = reader.string(),
                  let hasVhostDevice = reader.u8(), hasVhostDevice <= 1, let vhostDevice = reader.string(),
                  let fileCount = reader.u32() else { throw malformed("truncated head") }
            var files: [String] = []
            for _ in 0..<fileCount {
                guard let file = reader.string() else { throw malformed("truncated file list") }
                files.append(file)
            }
            guard let sourceCount = reader.u32() else { throw malformed("truncated head") }
            let sourcesOffset = reader.offset
            for _ in 0..<sourceCount {
                do throws(ByteReader.Truncated) { _ = try reader.source() } catch { throw malformed("truncated source list") }
            }
            guard let blockCount = reader.u32(),
                  Int(blockCount) == (Int(recordCount) + Format.blockRecords - 1) / Format.blockRecords else { throw malformed("bad block index") }
            let blockKeysOffset = reader.offset
            guard reader.raw(Int(blockCount) * Format.keySize) != nil else { throw malformed("truncated block index") }
            guard reader.offset == Int(headLength), headLength == recordsOffset else { throw malformed("head length does not match") }
            return Head(recordCount: Int(recordCount), recordsOffset: UInt64(recordsOffset), textOffset: UInt64(textOffset),
                        textLength: Int(textLength), netfdVersion: version, policyPath: policyPath, trustedOwner: trustedOwner,
                        tapNamePrefix: hasPrefix == 1 ? prefix : nil, vhostDevicePath: hasVhostDevice == 1 ? vhostDevice : nil, files: files, bytes: bytes, sourcesOffset: sourcesOffset,
                        sourceCount: Int(sourceCount), blockKeysOffset: blockKeysOffset, blockCount: Int(blockCount))
        }
    }
}
