/// What serving a request needs from a policy: its verdict, its tap name prefix, its vhost-net
/// device and the file to name in a refusal. A loaded `Policy` is one; a `CompiledPolicy` is
/// another, which reads only the rules that can match. Class-bound: the helper's embedded build has existentials of
/// class-bound protocols only (README, Performance); a `Policy` serves as `LoadedPolicy`.
public protocol PolicyDecider: AnyObject {
    /// From `set tap-prefix NAME`; nil means the kernel's default "tap".
    var tapNamePrefix: String? { get }
    /// From `set vhost-device PATH`; nil means /dev/vhost-net.
    var vhostDevicePath: String? { get }
    /// The top-level policy file (the first file read), named by "no rule in FILE allows it".
    var mainFile: String? { get }
    /// Decides `request` for `identity` exactly as `Policy.decide` does.
    /// - Throws: only a `CompiledPolicy` whose records turn out unusable and whose text, read
    ///   instead, has an error.
    func decide(_ request: PolicyRequest, for identity: Identity) throws(PolicyError) -> Decision
}

extension Policy {
    /// The top-level policy file (the first file read).
    public var mainFile: String? { files.first }
}

/// A policy loaded from its text, as a `PolicyDecider`.
public final class LoadedPolicy: PolicyDecider {
    public let policy: Policy
    public init(_ policy: Policy) { self.policy = policy }
    public var tapNamePrefix: String? { policy.tapNamePrefix }
    public var vhostDevicePath: String? { policy.vhostDevicePath }
    public var mainFile: String? { policy.mainFile }
    public func decide(_ request: PolicyRequest, for identity: Identity) throws(PolicyError) -> Decision {
        policy.decide(request, for: identity)
    }
}
