// MacvtapDevice.swift - opening a queue of a macvtap: its character device /dev/tapINDEX, checked
// against sysfs before and after the open, then set to exactly the flags asked for.
// syscalls: openat(O_RDONLY) and read (sysfs), newfstatat(AT_SYMLINK_NOFOLLOW),
//           openat(O_RDWR|O_NOFOLLOW|O_CLOEXEC) of the node, fstat, ioctl(TUNSETIFF), close
//
// Why the checks: devtmpfs is one for all network namespaces, while macvtap names its node after
// the link's index, which is only unique per namespace. Two namespaces with a macvtap of the same
// index both want /dev/tapN; the second one's node is not made, and /dev/tapN is the first one's.
// Opening it would hand over another namespace's link. The device number sysfs gives for this
// link (in the helper's namespace, from a sysfs mounted there) is the only trustworthy name.
import CNetFD
import Glibc

/// Why a macvtap queue could not be opened.
public enum MacvtapOpenError: Error, Equatable, CustomStringConvertible {
    /// sysfs has no device node for the link: `path` does not exist.
    case noDeviceNode(String)
    /// `path` is not the link's character device (another device number, not a character device,
    /// or replaced between the checks): another namespace's macvtap, or something else.
    case foreignDeviceNode(String)
    /// /sys/class/net/NAME/ifindex names another index: the name belongs to another link now.
    case sysfsShowsAnotherLink
    /// `step` failed with `errno` (EACCES opening the node: CAP_DAC_OVERRIDE is missing, as
    /// the node is root's 0600).
    case kernel(step: String, Errno)

    public var description: String {
        switch self {
        case .noDeviceNode(let path): return "\(path) does not exist"
        case .foreignDeviceNode(let path): return "\(path) is not this macvtap's device (another namespace's?)"
        case .sysfsShowsAnotherLink: return "the macvtap's name now belongs to another link"
        case .kernel(let step, let errno): return "\(step): \(errno)"
        }
    }
}

/// The character devices of macvtap links.
public enum MacvtapDevice {
    /// Opens one queue of the macvtap `linkName` whose index is `index`, as the helper must: reads
    /// SYSFS/class/net/NAME/ifindex (must be `index`), then the device number in
    /// SYSFS/class/net/NAME/macvtap/tapINDEX/dev ("MAJOR:MINOR"); checks DEVICES/tapINDEX without
    /// following a symlink (must exist and be that character device), opens it O_RDWR (close-on-exec,
    /// O_NOFOLLOW), checks the open file again (fstat: a node replaced in between is caught), and
    /// sets IFF_TAP|IFF_NO_PI, plus IFF_VNET_HDR exactly when `vnetHeader` (TUNSETIFF; macvtap
    /// enables the vnet header by default, so this also clears it).
    /// `sysfsRoot` must be a sysfs mounted in the caller's network namespace (the helper's /sys
    /// under `ip netns exec`); each call opens another queue (macvtap allows many).
    /// - Returns: the queue's descriptor; the caller owns it. Nothing else stays open.
    /// - Throws: `.sysfsShowsAnotherLink`, `.noDeviceNode`, `.foreignDeviceNode`, or `.kernel`
    ///   naming the step (ENOENT reading ifindex: no such link; EACCES opening the node: no
    ///   CAP_DAC_OVERRIDE). A name that could leave sysfs's directory (empty, ".", "..", holding
    ///   "/" or NUL, or over 15 bytes) is `.kernel(step: "check the link name", EINVAL)`.
    public static func openQueue(linkName: String, index: Int32, vnetHeader: Bool,
                                 sysfsRoot: String = "/sys", deviceDirectory: String = "/dev") throws(MacvtapOpenError) -> FileDescriptor {
        guard !linkName.isEmpty, linkName != ".", linkName != "..", linkName.utf8.count < Int(NETFD_IFNAMSIZ),
              !linkName.utf8.contains(UInt8(ascii: "/")), !linkName.utf8.contains(0), index > 0 else {
            throw .kernel(step: "check the link name", .invalidArgument)
        }
        let linkDirectory = sysfsRoot + "/class/net/" + linkName
        let indexPath = linkDirectory + "/ifindex"
        guard let shownIndex = parseDecimal(try readSmallFile(indexPath)) else {
            throw .kernel(step: "read " + indexPath, .badMessage)
        }
        guard shownIndex == UInt64(index) else { throw .sysfsShowsAnotherLink }
        let tapName = "tap" + String(index)
        let numberPath = linkDirectory + "/macvtap/" + tapName + "/dev"
        guard let expected = parseDeviceNumber(try readSmallFile(numberPath)) else {
            throw .kernel(step: "read " + numberPath, .badMessage)
        }

        let nodePath = deviceDirectory + "/" + tapName
        var node = stat()
        do {
            _ = try systemCall { fstatat(AT_FDCWD, nodePath, &node, AT_SYMLINK_NOFOLLOW) }
        } catch .notFound {
            throw .noDeviceNode(nodePath)
        } catch {
            throw .kernel(step: "stat " + nodePath, error)
        }
        guard FileStatus(node).kind == .characterDevice, UInt64(node.st_rdev) == expected else {
            throw .foreignDeviceNode(nodePath)
        }
        let queue: FileDescriptor
        do {
            queue = try FileDescriptor.open(nodePath, O_RDWR | O_NOFOLLOW)
        } catch .notFound {
            throw .noDeviceNode(nodePath)
        } catch {
            throw .kernel(step: "open " + nodePath, error)
        }
        do throws(MacvtapOpenError) {
            let opened: FileStatus
            do { opened = try queue.status() } catch { throw .kernel(step: "fstat " + nodePath, error) }
            guard opened.kind == .characterDevice, opened.representedDevice == expected else {
                throw .foreignDeviceNode(nodePath)
            }
            var flags: TunFlags = [.tap, .noPacketInfo]
            if vnetHeader { flags.insert(.vnetHeader) }
            do {
                // macvtap's TUNSETIFF reads only the flags; the name is ignored.
                _ = try TunDevice(queue).attach(nameTemplate: "", flags: flags)
            } catch {
                throw .kernel(step: "TUNSETIFF on " + nodePath, error)
            }
            return queue
        } catch {
            queue.close()
            throw error
        }
    }

    /// Reads a sysfs attribute whole (they are one short line).
    private static func readSmallFile(_ path: String) throws(MacvtapOpenError) -> [UInt8] {
        do throws(Errno) {
            let file = try FileDescriptor.open(path, O_RDONLY)
            defer { file.close() }
            return try file.read(upTo: 64)
        } catch {
            throw .kernel(step: "read " + path, error)
        }
    }

    /// "123\n" -> 123; nil for anything else (no sign, no spaces, at most 10 digits).
    static func parseDecimal<C: Collection>(_ text: C) -> UInt64? where C.Element == UInt8 {
        var digits = Array(text)
        if digits.last == UInt8(ascii: "\n") { digits.removeLast() }
        guard !digits.isEmpty, digits.count <= 10 else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(digit - UInt8(ascii: "0"))
        }
        return value
    }

    /// "246:1\n" -> the dev_t st_rdev holds for major 246, minor 1; nil for anything else.
    static func parseDeviceNumber(_ text: [UInt8]) -> UInt64? {
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")),
              let major = parseDecimal(text[..<colon]), let minor = parseDecimal(text[(colon + 1)...]),
              major <= UInt64(UInt32.max), minor <= UInt64(UInt32.max) else { return nil }
        return netfd_make_device(UInt32(major), UInt32(minor))
    }
}
