// ProcessControl.swift - a process of our own (fork, its own session) and descriptors that
// stand for processes (pidfds).
// syscalls: clone(CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD) and set_robust_list (glibc's
//           fork, the latter in the child), setsid, pidfd_open, pidfd_getfd (tests only)
import CNetFD
import Glibc

/// Creating and referring to processes.
public enum ProcessControl {
    /// fork() through glibc (which keeps its own state right in the child).
    /// - Returns: the child's pid in the parent, 0 in the child. The child holds copies of every
    ///   descriptor (close-on-exec ones included) and, after fork in a process that has other
    ///   threads, may only make async-signal-safe calls until it execs or exits (with `_exit`).
    /// - Throws: EAGAIN (process limit), ENOMEM.
    public static func fork() throws(Errno) -> Int32 {
        try shimCall { netfd_fork() }
    }

    /// pidfd_open(pid, 0): a descriptor that refers to process `pid` itself, not to whichever
    /// process later reuses the number. It becomes readable (see `Poll.wait`) when the process
    /// exits. Close-on-exec (the kernel sets it on every pidfd).
    /// - Throws: ESRCH when no such process exists, EINVAL when `pid` is not a thread-group leader.
    public static func openPidDescriptor(_ pid: Int32) throws(Errno) -> FileDescriptor {
        FileDescriptor(rawValue: try shimCall { netfd_pidfd_open(pid) })
    }

    /// setsid(): makes the calling process the leader of a new session and process group, with no
    /// controlling terminal, so signals to the caller's process group or terminal miss it.
    /// - Returns: the new session id (the caller's pid).
    /// - Throws: EPERM when the caller already leads a process group (call it in a forked child).
    @discardableResult
    public static func newSession() throws(Errno) -> Int32 {
        try systemCall { setsid() }
    }

    /// pidfd_getfd(pidfd, fd, 0): a close-on-exec duplicate, in this process, of descriptor `fd` of
    /// the process `fromPidDescriptor` refers to. Tests use it to look at the descriptors a
    /// stand-in emulator received; netfd itself never takes descriptors from another process.
    /// - Throws: EBADF when that process has no descriptor `fd`, EPERM without ptrace rights over
    ///   it, ESRCH when it has exited.
    public static func duplicateDescriptor(_ fd: Int32, fromPidDescriptor pidDescriptor: FileDescriptor) throws(Errno) -> FileDescriptor {
        FileDescriptor(rawValue: try shimCall { netfd_pidfd_getfd(pidDescriptor.rawValue, fd) })
    }
}
