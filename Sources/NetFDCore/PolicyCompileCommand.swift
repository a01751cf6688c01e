// PolicyCompileCommand.swift - `netfd-policy compile`: write the compiled form of a policy,
// which the helper uses while it is current (CompiledPolicy) and ignores otherwise.
// syscalls: those of PolicyFiles (loading), FileReplacement (writing, the clock, sleeping)
import NetFDPolicy
import NetFDSystem

/// What one invocation of netfd-policy does.
public enum PolicyToolCommand: Equatable, Sendable {
    /// `compile [--policy PATH]`.
    case compile(policyPath: String)
    case help
    case version

    /// Parses netfd-policy's argv (without argv[0]); exact options, none given twice.
    public static func parse(_ arguments: [String], defaultPolicy: String) throws(HelperFailure) -> PolicyToolCommand {
        guard let verb = arguments.first else { throw .usage("missing command; see netfd-policy --help") }
        switch verb {
        case "--help" where arguments.count == 1, "-h" where arguments.count == 1: return .help
        case "--version" where arguments.count == 1: return .version
        case "compile": break
        default: throw .usage("unknown command \(quoted(verb)); see netfd-policy --help")
        }
        var policy: String?
        var rest = arguments.dropFirst()
        while let argument = rest.popFirst() {
            let (name, inline) = HelperCommand.splitOption(argument)
            guard name == "--policy" else { throw .usage("unknown argument \(quoted(argument)); see netfd-policy --help") }
            guard policy == nil else { throw .usage("--policy given twice") }
            guard let value = inline ?? rest.popFirst() else { throw .usage("--policy needs a value: --policy PATH") }
            policy = try HelperCommand.parsePolicyPath(value)
        }
        return .compile(policyPath: policy ?? defaultPolicy)
    }
}

/// Compiles and writes a policy's compiled form, waiting for recent changes to settle.
public struct PolicyCompilation {
    public var fileSystem: any PolicyFileSystem
    public var users: any UserDirectory
    /// The clock file times are stamped by (CLOCK_REALTIME).
    public var clock: () -> FileTimestamp
    /// Sleeps until the clock has passed the given time.
    public var sleepUntil: (FileTimestamp) -> Void
    /// Replaces the file at the path with the bytes (mode 0644), atomically.
    public var write: (_ path: String, _ bytes: [UInt8]) throws(Errno) -> Void

    /// Attempts before giving up on files that keep changing.
    static let attempts = 5

    public init(fileSystem: any PolicyFileSystem, users: any UserDirectory, clock: @escaping () -> FileTimestamp,
                sleepUntil: @escaping (FileTimestamp) -> Void, write: @escaping (_ path: String, _ bytes: [UInt8]) throws(Errno) -> Void) {
        self.fileSystem = fileSystem
        self.users = users
        self.clock = clock
        self.sleepUntil = sleepUntil
        self.write = write
    }

    /// The real file system, user database, clock and atomic replacement.
    public static func system() -> PolicyCompilation {
        PolicyCompilation(
            fileSystem: LinuxPolicyFileSystem(), users: SystemUserDirectory(),
            clock: { let now = FileReplacement.now(); return FileTimestamp(seconds: now.seconds, nanoseconds: now.nanoseconds) },
            sleepUntil: { deadline in
                let now = FileReplacement.now()
                let left = (deadline.seconds - now.seconds) * 1_000_000_000 + Int64(deadline.nanoseconds) - Int64(now.nanoseconds)
                if left > 0 { FileReplacement.sleep(nanoseconds: UInt64(left) + 10_000_000) }
            },
            write: { (path, bytes) throws(Errno) in try FileReplacement.replace(path, with: bytes, mode: 0o644) })
    }

    /// Compiles the policy at `policyPath` and writes `POLICY.compiled`; returns the report line.
    /// - Throws: `.policy` with the policy's error (nothing is written), or `.kernel` when the
    ///   file cannot be written or is not current right after writing.
    public func run(policyPath: String) throws(HelperFailure) -> String {
        let compiler = PolicyCompiler(fileSystem: fileSystem, users: users)
        var waited: [String] = []
        for _ in 0..<Self.attempts {
            let outcome: PolicyCompiler.Outcome
            do { outcome = try compiler.compile(path: policyPath, started: clock()) } catch { throw .policy("policy error: \(error)") }
            switch outcome {
            case let .unsettled(path, changed):
                // A later edit could carry this timestamp: wait until it cannot.
                waited.append(displayPath(path))
                sleepUntil(changed.adding(seconds: CompiledPolicyFormat.settleSeconds))
            case let .compiled(bytes, policy):
                let target = CompiledPolicyFormat.compiledPath(for: policyPath)
                do { try write(target, bytes) } catch { throw .kernel("could not write \(displayPath(target)): \(error)") }
                do throws(CompiledPolicy.Unusable) {
                    _ = try CompiledPolicy.open(policyPath: policyPath, fileSystem: fileSystem) { () throws(PolicyError) in policy }
                } catch {
                    throw .kernel("wrote \(displayPath(target)), but \(error); compile again")
                }
                let files = policy.files.count, rules = policy.rules.count
                var report = "compiled \(displayPath(policyPath)) (\(files) file\(files == 1 ? "" : "s"), \(rules) rule\(rules == 1 ? "" : "s")) into \(displayPath(target)) (\(bytes.count) bytes)"
                if !waited.isEmpty { report += "; waited for recent changes to \(waited.joined(separator: ", ")) to settle" }
                return report
            }
        }
        throw .kernel("\(waited.last ?? "a policy file") kept changing; nothing was written")
    }
}
