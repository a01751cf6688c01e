// HelperFailure.swift - every way a request can fail, its one-line message and exit code.
import NetFDPolicy
import NetFDSystem

/// A refusal or failure. `message` is the single line printed on stderr (QEMU shows it verbatim);
/// `exitCode` is documented in netfd-helper(8).
public enum HelperFailure: Error, Equatable, CustomStringConvertible {
    /// Invalid command line (exit 1).
    case usage(String)
    /// The policy is invalid, unreadable or insecure (exit 2).
    case policy(String)
    /// The policy refuses the request (exit 3).
    case denied(String)
    /// Privileges could not be confined, or are missing (exit 4).
    case confinement(String)
    /// The requested bridge does not exist or is not a bridge (exit 5).
    case target(String)
    /// A kernel operation failed; everything created was rolled back (exit 6).
    case kernel(String)
    /// The descriptor could not be handed over; everything created was rolled back (exit 7).
    case handoff(String)

    public var exitCode: Int32 {
        switch self {
        case .usage: return 1
        case .policy: return 2
        case .denied: return 3
        case .confinement: return 4
        case .target: return 5
        case .kernel: return 6
        case .handoff: return 7
        }
    }

    public var message: String {
        switch self {
        case .usage(let m), .policy(let m), .denied(let m), .confinement(let m),
             .target(let m), .kernel(let m), .handoff(let m):
            return m
        }
    }

    public var description: String { message }

    /// A kernel step failed with `errno`; the created objects were rolled back.
    static func kernel(_ step: String, _ errno: Errno) -> HelperFailure {
        .kernel("could not \(step): \(errno); nothing was left behind")
    }
}
