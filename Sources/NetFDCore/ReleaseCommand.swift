// ReleaseCommand.swift - `netfd-helper release NAME`: the explicit end of a macvtap's life, for an
// emulator that is done with it before it exits (its guard then sees the link go and exits too).
// syscalls: through DeviceKernel (RTM_GETLINK, RTM_DELLINK)
import NetFDPolicy
import NetFDSystem

/// Deletes a macvtap netfd created for the caller (root may release any netfd created).
public struct ReleaseCommand {
    public let kernel: any DeviceKernel
    public let caller: Identity
    /// How refusals name the caller; asked for only on a refusal.
    public let callerName: () -> String

    public init(kernel: any DeviceKernel, caller: Identity, callerName: @escaping @autoclosure () -> String) {
        self.kernel = kernel
        self.caller = caller
        self.callerName = callerName
    }

    /// Deletes `name` if it is a macvtap netfd created for the caller; otherwise refuses and
    /// touches nothing.
    public func run(_ arguments: ReleaseArguments) throws(HelperFailure) {
        let name = arguments.link
        let link: ReleasableLink
        do {
            link = try kernel.releasableLink(named: name)
        } catch .notFound {
            throw .target("link \(name) does not exist")
        } catch {
            guard case .kernel(let errno) = error else { throw .target("link \(name) does not exist") }
            throw .kernel("could not look up link \(name): \(errno)")
        }
        guard link.kind == "macvtap", let owner = link.heldBy else {
            let what = link.kind == "tun" ? "a tap, which is deleted when its last descriptor is closed"
                : "not a macvtap netfd created (netfd releases only its own macvtaps)"
            throw .denied("refused release of \(name) for \(callerName()): it is \(what)")
        }
        guard owner == caller.uid || caller.uid == 0 else {
            throw .denied("refused release of \(name) for \(callerName()): netfd created it for uid \(owner)")
        }
        do {
            try kernel.deleteLink(index: link.index)
        } catch {
            throw .kernel("could not delete \(name): \(error)")
        }
    }
}
