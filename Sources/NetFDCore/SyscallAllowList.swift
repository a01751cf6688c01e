// SyscallAllowList.swift - the one place that says which syscalls the helper may make once it is
// confined. Anything else kills the process (SECCOMP_RET_KILL_PROCESS). Each entry names the code
// that needs it; netfd-helper(8) lists the same table.
import CNetFD
import Glibc
import NetFDSystem

public enum SyscallAllowList {
    /// The rules for the helper's request path and for `check`.
    public static var helper: [SyscallRule] {
        let ioctlReasons: [(UInt64, String)] = [
            (UInt64(netfd_ioctl_TUNGETFEATURES), "TunDevice.supportedFlags: is IFF_VNET_HDR supported"),
            (UInt64(netfd_ioctl_TUNSETIFF), "TunDevice.attach: create the tap, attach a queue; MacvtapDevice.openQueue: a queue's flags"),
            (UInt64(netfd_ioctl_TUNSETOWNER), "TunDevice.restrict: only the caller may attach"),
            (UInt64(netfd_ioctl_TUNSETGROUP), "TunDevice.restrict: only the caller's group may attach"),
            (UInt64(netfd_ioctl_SIOCGIFINDEX), "RouteNetlink.interfaceIndex: the new tap's index (read-only)"),
            (UInt64(netfd_ioctl_SIOCGIFMTU), "RouteNetlink.mtu: the bridge exists, and its MTU (read-only)"),
            (UInt64(netfd_ioctl_SIOCSIFMTU), "RouteNetlink.setMTU: the tap takes the bridge's MTU"),
            (UInt64(netfd_ioctl_SIOCSIFHWADDR), "RouteNetlink.setEthernetAddress: the tap's fe: MAC"),
            (UInt64(netfd_ioctl_SIOCGIFFLAGS), "RouteNetlink.setUp: the tap's flags, before adding IFF_UP (read-only)"),
            (UInt64(netfd_ioctl_SIOCSIFFLAGS), "RouteNetlink.setUp: IFF_UP on the tap"),
            (UInt64(netfd_ioctl_SIOCBRADDIF), "RouteNetlink.addPort: the tap joins the bridge; RouteNetlink.isBridge: the same refused for port 0"),
        ]
        return [
            // Memory and the Swift runtime.
            SyscallRule("brk", reason: "malloc"),
            SyscallRule("mmap", reason: "malloc, Swift runtime"),
            SyscallRule("munmap", reason: "malloc, Swift runtime"),
            SyscallRule("mremap", reason: "realloc of large buffers"),
            SyscallRule("madvise", reason: "free() returning memory"),
            SyscallRule("futex", reason: "Swift runtime locks and one-time initialisation"),
            SyscallRule("getrandom", reason: "Swift's per-process hash seed; LinuxTapKernel.randomAddress"),
            SyscallRule("rt_sigreturn", reason: "returning from any signal handler"),
            SyscallRule("exit_group", reason: "exit"),
            SyscallRule("exit", reason: "thread exit"),
            // Files: the policy, /etc/passwd, /etc/group, /dev/net/tun; stderr and stdout.
            SyscallRule("openat", reason: "PolicyFiles.readFile, UserDatabase, TunDevice.openClone"),
            SyscallRule("read", reason: "PolicyFiles.readFile, UserDatabase"),
            SyscallRule("pread64", reason: "CompiledPolicy: the head and the record blocks a decision needs"),
            SyscallRule("write", reason: "the one-line refusal on stderr; check's report on stdout"),
            SyscallRule("close", reason: "every descriptor the helper opens"),
            SyscallRule("fstat", reason: "PolicyFiles.readFile: owner and mode of the opened file"),
            SyscallRule("newfstatat", reason: "PolicyFiles.metadata (lstat) of each directory above a policy file"),
            SyscallRule("getdents64", reason: "PolicyFiles.directoryEntries for `include DIRECTORY`"),
            SyscallRule("close_range", reason: "ProcessHygiene.closeInheritedDescriptors"),
            // Who the caller is.
            SyscallRule("getuid", reason: "ProcessCredentials: the caller's real uid"),
            SyscallRule("getgid", reason: "ProcessCredentials: the caller's real gid"),
            SyscallRule("getgroups", reason: "ProcessCredentials: the caller's supplementary groups"),
            // The handoff socket.
            SyscallRule("getsockopt", reason: "UnixSocket.isUnixStream: --fd is an AF_UNIX stream socket"),
            SyscallRule("sendmsg", reason: "UnixSocket.send: the tap descriptor with SCM_RIGHTS"),
            // rtnetlink and packet sockets, and nothing else may be a new socket.
            SyscallRule("socket", [(0, UInt64(netfd_AF_NETLINK)), (2, UInt64(netfd_NETLINK_ROUTE))],
                        reason: "RouteNetlink, LinkEvents: NETLINK_ROUTE sockets, also the handle for the interface ioctls"),
            SyscallRule("socket", [(0, UInt64(netfd_AF_PACKET)), (1, UInt64(SOCK_RAW.rawValue) | UInt64(SOCK_CLOEXEC.rawValue)), (2, 0)],
                        reason: "RawPacketSocket.open: kind=raw, protocol 0 until bind (CAP_NET_RAW is held only then)"),
            SyscallRule("sendto", reason: "RouteNetlink: RTM_GETLINK, RTM_NEWLINK (macvtap), RTM_SETLINK (its alias), RTM_DELLINK"),
            SyscallRule("recvfrom", reason: "RouteNetlink: the replies"),
            SyscallRule("bind", reason: "RawPacketSocket.open: the protocol and the allowed link at once; LinkEvents: RTMGRP_LINK"),
            SyscallRule("setsockopt", reason: "RawPacketSocket.open: PACKET_VNET_HDR, PACKET_ADD_MEMBERSHIP (promiscuous)"),
            // Capabilities, lowered per request kind after the decision.
            SyscallRule("capget", reason: "Confinement.setCapabilities: the sets before lowering them"),
            SyscallRule("capset", reason: "Confinement.setCapabilities: keep only what the request kind needs"),
            // The macvtap guard (MacvtapGuard.swift): a process forked before the link exists.
            SyscallRule("clone", [(0, UInt64(netfd_FORK_CLONE_FLAGS))], reason: "ProcessControl.fork: the guard (glibc fork's flags only, no threads)"),
            SyscallRule("set_robust_list", reason: "glibc fork, in the guard"),
            SyscallRule("pidfd_open", reason: "ProcessLinkGuard.peerProcess: the emulator, when SO_PEERPIDFD is missing"),
            SyscallRule("socketpair", [(0, UInt64(AF_UNIX))], reason: "ProcessLinkGuard: the helper's commands to its guard (send with MSG_NOSIGNAL)"),
            SyscallRule("setsid", reason: "GuardProcess.run: leave the caller's terminal session"),
            SyscallRule("poll", reason: "GuardProcess.run: wait for the helper, the emulator or the link's deletion"),
        ] + ioctlReasons.map { SyscallRule("ioctl", [(1, $0.0)], reason: $0.1) }
    }
}
