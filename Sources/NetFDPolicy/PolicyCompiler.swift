/// Compiles a policy into `CompiledPolicyFormat`: loads it exactly as the helper would (same
/// loader, same checks, same errors), records every file and directory the load depended on,
/// and lays the rules out for lookup. Makes no system calls itself: the file system, the user
/// directory and the clock are given (`netfd-policy compile` passes the real ones).
public struct PolicyCompiler {
    /// Where the policy is read from.
    public let fileSystem: any PolicyFileSystem
    /// Resolves user and group names in rules.
    public let users: any UserDirectory
    /// The files `users` reads, recorded as sources when the policy names a user or group.
    public let userDatabasePaths: [String]
    /// As for `PolicyLoader`.
    public let trustedOwner: UInt32

    /// Creates a compiler.
    public init(fileSystem: any PolicyFileSystem, users: any UserDirectory,
                userDatabasePaths: [String] = ["/etc/passwd", "/etc/group"], trustedOwner: UInt32 = 0) {
        self.fileSystem = fileSystem
        self.users = users
        self.userDatabasePaths = userDatabasePaths
        self.trustedOwner = trustedOwner
    }

    /// The result of one attempt.
    public enum Outcome {
        /// The compiled file's bytes, and the policy they were made from.
        case compiled([UInt8], Policy)
        /// `path` changed at `changed`, less than `CompiledPolicyFormat.settleSeconds` before the
        /// attempt started (or during it): a later edit could carry the same timestamp, so the
        /// caller compiles again once the clock has passed `changed + settleSeconds`.
        case unsettled(path: String, changed: FileTimestamp)
    }

    /// Compiles the policy at absolute `path`; `started` is the clock's time before this call.
    /// - Throws: the policy's first error, as `PolicyLoader.load` reports it; or that a source
    ///   cannot be tracked (a user database that is missing or not a regular file).
    public func compile(path: String, started: FileTimestamp) throws(PolicyError) -> Outcome {
        let recordingFileSystem = RecordingFileSystem(fileSystem)
        let recordingUsers = RecordingUserDirectory(users)
        let policy = try PolicyLoader(fileSystem: recordingFileSystem, users: recordingUsers, trustedOwner: trustedOwner).load(path: path)
        var sources: [CompiledPolicyFormat.Source] = []
        // Stated after the load: a file replaced or edited while it was read shows up here.
        var observed = recordingFileSystem.observed
        if recordingUsers.consulted {
            observed += userDatabasePaths.map { (CompiledPolicyFormat.SourceRole.userDatabase, $0) }
        }
        for (role, sourcePath) in observed {
            let metadata: FileMetadata
            do throws(FileSystemError) {
                metadata = try fileSystem.metadata(atPath: sourcePath)
            } catch {
                guard role == .userDatabase else { return .unsettled(path: sourcePath, changed: started) }
                throw PolicyDiagnostic(file: sourcePath, "cannot compile: the policy names users or groups, and their database cannot be read: \(error.detail)")
            }
            switch role {
            case .ancestorDirectory, .includedDirectory:
                guard metadata.kind == .directory else { return .unsettled(path: sourcePath, changed: started) }
            case .policyFile:
                guard metadata.kind == .regular, let read = recordingFileSystem.readIdentities[PathBytes(sourcePath)],
                      read.device == metadata.device, read.inode == metadata.inode else {
                    return .unsettled(path: sourcePath, changed: started)
                }
            case .userDatabase:
                guard metadata.kind == .regular else {
                    throw PolicyDiagnostic(file: sourcePath, "cannot compile: the policy names users or groups, and this is not a regular file whose changes could be noticed")
                }
            }
            if role != .ancestorDirectory && started.adding(seconds: -CompiledPolicyFormat.settleSeconds) <= metadata.changed {
                return .unsettled(path: sourcePath, changed: metadata.changed)
            }
            sources.append(CompiledPolicyFormat.Source(role: role, path: sourcePath, metadata: metadata))
        }
        return .compiled(Self.encode(policy, path: normalizedPath(path), sources: sources, trustedOwner: trustedOwner), policy)
    }

    /// The file's bytes for `policy` loaded from normalised `path`.
    static func encode(_ policy: Policy, path: String, sources: [CompiledPolicyFormat.Source], trustedOwner: UInt32) -> [UInt8] {
        typealias Format = CompiledPolicyFormat
        var fileIndices: [PathBytes: UInt32] = [:]
        for (index, file) in policy.files.enumerated() where fileIndices[PathBytes(file)] == nil {
            fileIndices[PathBytes(file)] = UInt32(index)
        }
        var text: [UInt8] = []
        var records: [[UInt8]] = []
        for (ruleIndex, rule) in policy.rules.enumerated() {
            let subject: Format.SubjectKind, id: UInt32
            switch rule.subject {
            case .anyone: (subject, id) = (.anyone, 0)
            case .user(let uid): (subject, id) = (.user, uid)
            case .group(let gid): (subject, id) = (.group, gid)
            case .unknownUser, .unknownGroup: continue   // matches nobody
            }
            let target: Format.TargetKind, name: String?, pattern: [UInt8]
            switch rule.target {
            case .any: (target, name, pattern) = (.any, nil, [])
            case .glob(let glob): (target, name, pattern) = (.glob, nil, Array(glob.pattern.utf8))
            case .exact(let exact): (target, name, pattern) = (.exact, exact.value, [])
            }
            var record = Format.key(kind: rule.kind, subject: subject, id: id, target: target, name: name, ruleIndex: UInt32(ruleIndex))
            record.append(rule.effect == .deny ? 1 : 0)
            record += Format.optionBytes(rule.options)
            let macText = Format.macText(rule.options.macPatterns)
            var fields = ByteWriter()
            fields.u32(fileIndices[PathBytes(rule.location.file)] ?? 0)
            fields.u32(UInt32(clamping: rule.location.line))
            fields.u32(UInt32(clamping: rule.location.column))
            fields.u32(UInt32(text.count))
            fields.u32(UInt32(pattern.count))
            fields.u32(UInt32(macText.count))
            fields.u32(UInt32(rule.source.count))
            fields.u32(UInt32(rule.options.quota ?? 0))
            text += pattern
            text += macText
            text += rule.source
            record += fields.bytes
            assert(record.count == Format.recordSize)
            records.append(record)
        }
        records.sort { precedes($0[0..<Format.keySize], $1[0..<Format.keySize]) }

        var head = ByteWriter()
        head.raw(Format.magic)
        head.u32(Format.formatVersion)
        let headLengthField = head.bytes.count
        head.u32(0)
        head.u32(UInt32(records.count))
        let recordsOffsetField = head.bytes.count
        head.u32(0)
        let textOffsetField = head.bytes.count
        head.u32(0)
        head.u32(UInt32(text.count))
        head.string(Format.netfdVersion)
        head.string(path)
        head.u32(trustedOwner)
        head.u8(policy.tapNamePrefix == nil ? 0 : 1)
        head.string(policy.tapNamePrefix ?? "")
        head.u8(policy.vhostDevicePath == nil ? 0 : 1)
        head.string(policy.vhostDevicePath ?? "")
        head.u32(UInt32(policy.files.count))
        for file in policy.files { head.string(file) }
        head.u32(UInt32(sources.count))
        for source in sources {
            head.u8(source.role.rawValue)
            head.string(source.path)
            head.u64(source.metadata.device)
            head.u64(source.metadata.inode)
            head.u64(source.metadata.size)
            head.timestamp(source.metadata.modified)
            head.timestamp(source.metadata.changed)
        }
        head.u32(UInt32((records.count + Format.blockRecords - 1) / Format.blockRecords))
        for first in stride(from: 0, to: records.count, by: Format.blockRecords) { head.raw(Array(records[first][0..<Format.keySize])) }
        let headLength = head.bytes.count
        head.patch(UInt32(headLength), at: headLengthField)
        head.patch(UInt32(headLength), at: recordsOffsetField)
        head.patch(UInt32(headLength + records.count * Format.recordSize), at: textOffsetField)
        var bytes = head.bytes
        bytes.reserveCapacity(headLength + records.count * Format.recordSize + text.count)
        for record in records { bytes += record }
        return bytes + text
    }
}

/// Whether key bytes `a` sort before `b` (byte order; equal-length keys).
func precedes(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
    var i = a.startIndex, j = b.startIndex
    while i != a.endIndex && j != b.endIndex {
        if a[i] != b[j] { return a[i] < b[j] }
        i += 1
        j += 1
    }
    return i == a.endIndex && j != b.endIndex
}

/// A `PolicyFileSystem` that notes what a load looked at: every directory it checked (an
/// ancestor, or an included directory once its entries were listed) and every file it read,
/// with the identity of what was read. In order of first use, each path once.
private final class RecordingFileSystem: PolicyFileSystem {
    let inner: any PolicyFileSystem
    private(set) var observed: [(CompiledPolicyFormat.SourceRole, String)] = []
    private(set) var readIdentities: [PathBytes: (device: UInt64, inode: UInt64)] = [:]
    private var positions: [PathBytes: Int] = [:]

    init(_ inner: any PolicyFileSystem) { self.inner = inner }

    /// Records `path` in `role`; an ancestor seen again as an included directory is promoted.
    private func note(_ path: String, _ role: CompiledPolicyFormat.SourceRole) {
        let key = PathBytes(path)
        if let position = positions[key] {
            if role.rawValue > observed[position].0.rawValue { observed[position].0 = role }
            return
        }
        positions[key] = observed.count
        observed.append((role, path))
    }

    func metadata(atPath path: String) throws(FileSystemError) -> FileMetadata {
        let metadata = try inner.metadata(atPath: path)
        if metadata.kind == .directory { note(path, .ancestorDirectory) }
        return metadata
    }

    func readFile(atPath path: String, maxBytes: Int) throws(FileSystemError) -> FileContents {
        let contents = try inner.readFile(atPath: path, maxBytes: maxBytes)
        note(path, .policyFile)
        readIdentities[PathBytes(path)] = (contents.metadata.device, contents.metadata.inode)
        return contents
    }

    func directoryEntries(atPath path: String) throws(FileSystemError) -> [String] {
        let entries = try inner.directoryEntries(atPath: path)
        note(path, .includedDirectory)
        return entries
    }
}

/// A `UserDirectory` that notes whether the load asked it anything at all.
private final class RecordingUserDirectory: UserDirectory {
    let inner: any UserDirectory
    private(set) var consulted = false

    init(_ inner: any UserDirectory) { self.inner = inner }

    func userID(named name: String) -> UInt32? { consulted = true; return inner.userID(named: name) }
    func groupID(named name: String) -> UInt32? { consulted = true; return inner.groupID(named: name) }
    func userName(forID id: UInt32) -> String? { consulted = true; return inner.userName(forID: id) }
    func groupName(forID id: UInt32) -> String? { consulted = true; return inner.groupName(forID: id) }
    func primaryGroup(ofUserID id: UInt32) -> UInt32? { consulted = true; return inner.primaryGroup(ofUserID: id) }
    func supplementaryGroups(ofUser name: String) -> [UInt32] { consulted = true; return inner.supplementaryGroups(ofUser: name) }
}
