/// Reads a policy file and everything it includes, enforcing file security
/// and limits, and produces a `Policy`.
public struct PolicyLoader {
    /// Bounds on what a policy may make the helper read and hold.
    public struct Limits: Sendable, Equatable {
        /// Largest accepted file, in bytes.
        public var maximumFileBytes: Int
        /// Deepest chain of nested includes below the top-level file.
        public var maximumIncludeDepth: Int
        /// Most files read in total.
        public var maximumFiles: Int
        /// Most rules in total.
        public var maximumRules: Int

        /// Creates limits; the defaults suit any sane installation.
        public init(maximumFileBytes: Int = 1 << 20, maximumIncludeDepth: Int = 16,
                    maximumFiles: Int = 1000, maximumRules: Int = 1_000_000) {
            self.maximumFileBytes = maximumFileBytes
            self.maximumIncludeDepth = maximumIncludeDepth
            self.maximumFiles = maximumFiles
            self.maximumRules = maximumRules
        }
    }

    /// Where files are read from.
    public let fileSystem: any PolicyFileSystem
    /// Resolves user and group names in rules.
    public let users: any UserDirectory
    /// The uid that, besides root, may own policy files and the directories above them.
    public let trustedOwner: UInt32
    /// Bounds enforced while loading.
    public let limits: Limits

    /// Creates a loader.
    public init(fileSystem: any PolicyFileSystem, users: any UserDirectory, trustedOwner: UInt32 = 0, limits: Limits = .init()) {
        self.fileSystem = fileSystem
        self.users = users
        self.trustedOwner = trustedOwner
        self.limits = limits
    }

    /// Longest path accepted, in bytes: Linux's PATH_MAX (4096) less the NUL. A longer path could
    /// not be opened anyway, and refusing it first keeps the walk over its directories (and the
    /// strings it makes, one per directory) small.
    public static let maximumPathBytes = 4095

    /// Loads the policy at absolute `path` (a file, or a directory of `*.policy` files).
    /// - Throws: the first error met; nothing is partially loaded.
    public func load(path: String) throws(PolicyError) -> Policy {
        guard path.utf8.first == UInt8(ascii: "/") else {
            throw PolicyDiagnostic(file: path, "policy path must be absolute")
        }
        var session = LoadSession(loader: self)
        try session.include(normalizedPath(path), from: nil, chain: [])
        return Policy(files: session.files, rules: session.rules, tapNamePrefix: session.tapPrefixLocation == nil ? nil : session.tapPrefix,
                      vhostDevicePath: session.vhostDeviceLocation == nil ? nil : session.vhostDevice, warnings: session.warnings)
    }
}

/// `path` with empty and "." components removed and ".." applied lexically.
///
/// Lexical ".." is sound here only because every directory on the way is
/// checked with lstat and symlinks are refused.
func normalizedPath(_ path: String) -> String {
    isNormalizedPath(path) ? path : rebuiltPath(path)   // the usual case builds no string at all
}

/// `normalizedPath` the long way: split, apply, join.
func rebuiltPath(_ path: String) -> String {
    // Byte-wise, with no split(), Set or joined(): each generic stdlib facility the helper touches
    // costs it resident pages (see README, Performance).
    var components: [Substring] = []
    let utf8 = path.utf8
    var start = utf8.startIndex
    func endComponent(at end: String.Index) {
        let component = Substring(path.utf8[start..<end])   // no rounding to Character boundaries
        if component.utf8.isEmpty || component.utf8.elementsEqual(".".utf8) { return }
        if component.utf8.elementsEqual("..".utf8) { _ = components.popLast(); return }
        components.append(component)
    }
    var index = start
    while index != utf8.endIndex {
        if utf8[index] == UInt8(ascii: "/") {
            endComponent(at: index)
            start = utf8.index(after: index)
        }
        index = utf8.index(after: index)
    }
    endComponent(at: utf8.endIndex)
    var normalized = ""
    for component in components { normalized += "/" + component }
    return normalized.isEmpty ? "/" : normalized
}

/// Whether absolute `path` is already normal: no empty, "." or ".." component and no trailing "/"
/// (except "/" itself). Bytes only: no generic string operations on the helper's request path.
func isNormalizedPath(_ path: String) -> Bool {
    let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
    var componentLength = -1   // -1 before the leading "/"
    var dots = 0               // how many of the component's bytes so far are "."
    for byte in path.utf8 {
        if byte == slash {
            if componentLength == 0 || (componentLength > 0 && componentLength == dots && dots <= 2) { return false }
            componentLength = 0
            dots = 0
        } else {
            if componentLength < 0 { return false }   // relative
            componentLength += 1
            if byte == dot { dots += 1 }
        }
    }
    if componentLength < 0 { return false }
    if componentLength == 0 { return path.utf8.count == 1 }   // "/" itself, or a trailing "/"
    return !(componentLength == dots && dots <= 2)
}

/// Whether `a` and `b` are the same path, byte for byte. Not `==`: String equality is Unicode
/// canonical equivalence ("caf\u{E9}" == "cafe\u{301}"), but the kernel compares bytes, so
/// those name two different files (and directories, with different owners and modes).
func samePath(_ a: String, _ b: String) -> Bool {
    a.utf8.elementsEqual(b.utf8)
}

/// A path as a Set element: hashed and compared byte for byte (String hashes and compares by
/// canonical equivalence), and hashed in one pass rather than byte by byte.
struct PathBytes: Hashable {
    let bytes: [UInt8]
    init(_ path: String) { bytes = Array(path.utf8) }
    func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
}

/// The directory containing normalised absolute `path` ("/" for "/x").
func parentDirectory(of path: String) -> String {
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")), slash != path.utf8.startIndex else { return "/" }
    return String(decoding: path.utf8[..<slash], as: UTF8.self)
}

/// State of one `load(path:)` call.
private struct LoadSession {
    /// A file's identity across paths and hard links.
    struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64
    }

    /// One file on the current include chain.
    struct ChainLink {
        var path: String
        var identity: FileIdentity
    }

    let loader: PolicyLoader
    var files: [String] = []
    var rules: [Rule] = []
    var warnings: [PolicyDiagnostic] = []
    // Two fields, not an optional (value, location) tuple: that would be destroyed through
    // runtime metadata instantiated on first use (README, Performance).
    var tapPrefix = ""
    var tapPrefixLocation: SourceLocation?
    var vhostDevice = ""
    var vhostDeviceLocation: SourceLocation?
    // Arrays, not Sets: a load reads a handful of files and directories (at most the include
    // limits allow), and linear search keeps hashing out of the helper's start-up.
    private var loadedPaths: [String] = []
    private var loadedIdentities: [FileIdentity] = []
    // Trusted directories: a short array first (a normal load checks a handful, and hashing
    // would cost the helper's start-up), then a Set once it grows: a policy may name up to 1000
    // files, each up to PATH_MAX deep (2048 directories), and a linear search over every
    // directory trusted so far made loading quadratic in that (16 chains of 2031 directories:
    // 3.4 s in a release build). Keyed by bytes, like every path comparison here.
    private var recentTrustedDirectories: [String] = []
    private var trustedDirectories: Set<PathBytes> = []
    private static let linearTrustLimit = 32

    init(loader: PolicyLoader) {
        self.loader = loader
    }

    /// Loads normalised `path`, a file or a directory, named by the include at
    /// `site` (nil for the top-level file) while `chain` is being read.
    /// A file already loaded (a diamond) is skipped; a file on `chain` is a loop.
    mutating func include(_ path: String, from site: SourceLocation?, chain: [ChainLink], isDirectoryEntry: Bool = false) throws(PolicyDiagnostic) {
        guard path.utf8.count <= PolicyLoader.maximumPathBytes else {
            let message = "path is \(path.utf8.count) bytes long; the limit is \(PolicyLoader.maximumPathBytes) bytes"
            throw site.map { PolicyDiagnostic(at: $0, "cannot include: \(message)") } ?? PolicyDiagnostic(file: nil, "policy \(message)")
        }
        if chain.contains(where: { samePath($0.path, path) }) { throw loop(chain, path, at: site) }
        if loadedPaths.contains(where: { samePath($0, path) }) { return }
        if chain.count > loader.limits.maximumIncludeDepth {
            throw problem(path, at: site, "includes are nested more than \(loader.limits.maximumIncludeDepth) deep: \(describe(chain, path))")
        }
        for directory in ancestors(of: path) { try checkDirectory(directory, for: path, at: site) }
        let metadata: FileMetadata
        do throws(FileSystemError) {
            metadata = try loader.fileSystem.metadata(atPath: path)
        } catch {
            throw unreadable(path, at: site, error)
        }
        switch metadata.kind {
        case .directory where isDirectoryEntry:
            throw problem(path, at: site, "refusing directory inside an included directory (directory includes are not recursive)")
        case .directory:
            try includeDirectory(path, from: site, chain: chain)
        case .regular:
            try includeFile(path, from: site, chain: chain)
        case .symlink:
            throw problem(path, at: site, "refusing symlink; policy files must be regular files (name the target instead)")
        case .other:
            throw problem(path, at: site, "refusing policy file that is not a regular file")
        }
    }

    /// Includes the `*.policy` entries of directory `path`, sorted by byte order, skipping dot-files.
    private mutating func includeDirectory(_ path: String, from site: SourceLocation?, chain: [ChainLink]) throws(PolicyDiagnostic) {
        try checkDirectory(path, for: path, at: site)
        let entries: [String]
        do throws(FileSystemError) {
            entries = try loader.fileSystem.directoryEntries(atPath: path)
        } catch {
            throw unreadable(path, at: site, error)
        }
        let names = entries
            // Bytes, not Characters: "x\u{600}.policy" does not end with the Character "." (U+0600
            // joins the next character), ".\u{301}x.policy" does not start with it, yet for the
            // kernel and for ls these are a *.policy file and a dot-file.
            .filter { $0.utf8.first != UInt8(ascii: ".") && $0.utf8.count > 7 && $0.utf8.suffix(7).elementsEqual(".policy".utf8) }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for name in names {
            try include(path == "/" ? "/" + name : path + "/" + name, from: site, chain: chain, isDirectoryEntry: true)
        }
    }

    /// Reads, checks and parses regular file `path`, then applies its statements.
    private mutating func includeFile(_ path: String, from site: SourceLocation?, chain: [ChainLink]) throws(PolicyDiagnostic) {
        let limits = loader.limits
        let contents: FileContents
        do throws(FileSystemError) {
            contents = try loader.fileSystem.readFile(atPath: path, maxBytes: limits.maximumFileBytes)
        } catch {
            if error.code == .symlink {
                throw problem(path, at: site, "refusing symlink; policy files must be regular files (name the target instead)")
            }
            throw unreadable(path, at: site, error)
        }
        let metadata = contents.metadata, bytes = contents.bytes
        // Check what was opened, not what lstat saw: the path may have changed since.
        guard metadata.kind == .regular else {
            throw problem(path, at: site, "refusing policy file that is not a regular file")
        }
        try checkOwnership(metadata, of: path, what: "policy file", at: site)
        let identity = FileIdentity(device: metadata.device, inode: metadata.inode)
        if chain.contains(where: { $0.identity == identity }) { throw loop(chain, path, identity: identity, at: site) }
        if loadedIdentities.contains(identity) { return }
        guard bytes.count <= limits.maximumFileBytes else {
            throw problem(path, at: site, "file is larger than the limit of \(limits.maximumFileBytes) bytes")
        }
        guard files.count < limits.maximumFiles else {
            throw problem(path, at: site, "more than \(limits.maximumFiles) policy files")
        }
        files.append(path)
        loadedPaths.append(path)
        loadedIdentities.append(identity)

        var parser = Parser(file: path, users: loader.users)
        let statements = try parser.parse(bytes)
        warnings += parser.warnings
        let chain = chain + [ChainLink(path: path, identity: identity)]
        for statement in statements {
            switch statement {
            case let .include(target, location):
                let absolute = target.utf8.first == UInt8(ascii: "/")   // not hasPrefix: "/\u{301}" is not the Character "/"
                let resolved = normalizedPath(absolute ? target : parentDirectory(of: path) + "/" + target)
                try include(resolved, from: location, chain: chain)
            case let .rule(rule):
                guard rules.count < limits.maximumRules else {
                    throw PolicyDiagnostic(at: rule.location, "more than \(limits.maximumRules) rules")
                }
                rules.append(rule)
            case let .setTapPrefix(value, location):
                if let earlier = tapPrefixLocation {
                    guard tapPrefix == value else {
                        throw PolicyDiagnostic(at: location, "tap-prefix \(quoted(value)) conflicts with tap-prefix \(quoted(tapPrefix)) set at \(earlier)")
                    }
                } else {
                    (tapPrefix, tapPrefixLocation) = (value, location)
                }
            case let .setVhostDevice(value, location):
                if let earlier = vhostDeviceLocation {
                    guard samePath(vhostDevice, value) else {
                        throw PolicyDiagnostic(at: location, "vhost-device \(quoted(value)) conflicts with vhost-device \(quoted(vhostDevice)) set at \(earlier)")
                    }
                } else {
                    (vhostDevice, vhostDeviceLocation) = (value, location)
                }
            }
        }
    }

    /// Every directory above normalised absolute `path`, from "/" down.
    private func ancestors(of path: String) -> [String] {
        // Prefixes ending before each "/" after the first, in order: no reversed() view, whose
        // generic type the Swift runtime would have to instantiate on the helper's request path.
        var result = ["/"]
        let utf8 = path.utf8
        var index = utf8.index(after: utf8.startIndex)
        while index != utf8.endIndex {
            if utf8[index] == UInt8(ascii: "/") {
                result.append(String(decoding: utf8[..<index], as: UTF8.self))
            }
            index = utf8.index(after: index)
        }
        return result
    }

    /// Throws unless `directory` is a real directory owned by the trusted
    /// owner and not writable by group or others. Sticky world-writable
    /// directories such as /tmp are refused too: anyone could create the
    /// policy file there first. Checked once per directory per load.
    private mutating func checkDirectory(_ directory: String, for path: String, at site: SourceLocation?) throws(PolicyDiagnostic) {
        if isTrusted(directory) { return }
        let metadata: FileMetadata
        do throws(FileSystemError) {
            metadata = try loader.fileSystem.metadata(atPath: directory)
        } catch {
            throw unreadable(path, at: site, error)
        }
        switch metadata.kind {
        case .directory:
            try checkOwnership(metadata, of: directory, what: "directory", at: site)
        case .symlink:
            throw problem(directory, at: site, "refusing symlinked directory; policy paths must not go through symlinks (use the real path)")
        case .regular, .other:
            throw unreadable(path, at: site, FileSystemError(.notADirectory))
        }
        if recentTrustedDirectories.count < Self.linearTrustLimit {
            recentTrustedDirectories.append(directory)
        } else {
            trustedDirectories.insert(PathBytes(directory))
        }
    }

    /// Whether `directory` already passed `checkDirectory` in this load.
    private func isTrusted(_ directory: String) -> Bool {
        if recentTrustedDirectories.contains(where: { samePath($0, directory) }) { return true }
        return !trustedDirectories.isEmpty && trustedDirectories.contains(PathBytes(directory))
    }

    /// Throws unless `metadata` is owned by root or the trusted owner (root
    /// can change anything anyway) and is not writable by group or others.
    private func checkOwnership(_ metadata: FileMetadata, of path: String, what: String, at site: SourceLocation?) throws(PolicyDiagnostic) {
        // The requirement is spelled out only when it is violated (no string work when it is met).
        func requirement() -> String {
            let owners = loader.trustedOwner == 0 ? "root" : "root or \(userDescription(loader.trustedOwner))"
            return "it must be owned by \(owners) and not writable by group or others"
        }
        guard metadata.owner == 0 || metadata.owner == loader.trustedOwner else {
            throw problem(path, at: site, "refusing \(what) owned by \(userDescription(metadata.owner)); \(requirement())")
        }
        guard metadata.mode & 0o022 == 0 else {
            let octal = String(metadata.mode & 0o7777, radix: 8)
            let mode = String(repeating: "0", count: max(0, 4 - octal.count)) + octal
            throw problem(path, at: site, "refusing \(what) writable by group or others (mode \(mode)); \(requirement())")
        }
    }

    /// "root" or "uid 1000 (alice)" or "uid 1000".
    private func userDescription(_ uid: UInt32) -> String {
        if uid == 0 { return "root" }
        return loader.users.userName(forID: uid).map { "uid \(uid) (\(displayPath($0)))" } ?? "uid \(uid)"
    }

    /// "/a -> /b -> path".
    private func describe(_ chain: [ChainLink], _ path: String) -> String {
        (chain.map { $0.path } + [path]).map(displayPath).joined(separator: " -> ")
    }

    /// An include loop closing at `path` (identified by path or, for hard
    /// links, by `identity`), reported at the include that closes it.
    private func loop(_ chain: [ChainLink], _ path: String, identity: FileIdentity? = nil, at site: SourceLocation?) -> PolicyDiagnostic {
        let start = chain.firstIndex { samePath($0.path, path) || $0.identity == identity } ?? 0
        let cycle = chain[start...].map { $0.path } + [path]
        let message = "include loop: \(cycle.map(displayPath).joined(separator: " -> "))"
        return site.map { PolicyDiagnostic(at: $0, message) } ?? PolicyDiagnostic(file: path, message)
    }

    /// A failure to read `path`: at the include that named it, or about the top-level file.
    private func unreadable(_ path: String, at site: SourceLocation?, _ error: FileSystemError) -> PolicyDiagnostic {
        if let site { return PolicyDiagnostic(at: site, "cannot include \(quoted(path)): \(error.detail)") }
        return PolicyDiagnostic(file: path, "cannot read policy: \(error.detail)")
    }

    /// A problem with `path`: at the include that led to it, naming `path`;
    /// or, for the top-level file, as "PATH: MESSAGE".
    private func problem(_ path: String, at site: SourceLocation?, _ message: String) -> PolicyDiagnostic {
        if let site { return PolicyDiagnostic(at: site, "\(displayPath(path)): \(message)") }
        return PolicyDiagnostic(file: path, message)
    }
}
