// PolicyTree.swift - a root-owned scratch directory under /run for policy files and helper copies.
// The helper refuses policy files below group/other-writable directories, so /tmp will not do;
// /run is root-owned 0755.
import Foundation
import Glibc
import XCTest

/// A directory `/run/netfd-itest-<pid>-<n>/`, root-owned 0755, removed when the test ends.
final class PolicyTree {
    /// The tree's absolute path.
    let root: String
    private var removed = false

    /// Creates the directory and registers its removal on `testCase`.
    init(for testCase: XCTestCase) throws {
        root = "/run/\(Integration.uniqueName())"
        guard mkdir(root, 0o755) == 0 else { throw IntegrationError("mkdir \(root): \(String(cString: strerror(errno)))") }
        try Self.secure(root, mode: 0o755)
        testCase.addTeardownBlock { [self] in remove() }
    }

    /// Removes the whole tree; safe to call twice.
    func remove() {
        guard !removed else { return }
        removed = true
        do { try FileManager.default.removeItem(atPath: root) } catch {
            print("warning: could not remove \(root): \(error)")
        }
    }

    deinit { remove() }

    /// The absolute path of `relative` inside the tree.
    func path(_ relative: String) -> String { "\(root)/\(relative)" }

    /// Writes `text` to `relative` (creating root-owned 0755 parents) with `mode`; returns the path.
    @discardableResult
    func write(_ relative: String, _ text: String, mode: mode_t = 0o644) throws -> String {
        let target = path(relative)
        try makeDirectories(for: relative)
        guard FileManager.default.createFile(atPath: target, contents: Data(text.utf8)) else {
            throw IntegrationError("could not write \(target)")
        }
        try Self.secure(target, mode: mode)
        return target
    }

    /// Copies the file at `source` to `relative` with `mode` (no file capabilities); returns the path.
    func copy(_ source: String, to relative: String, mode: mode_t = 0o755) throws -> String {
        let target = path(relative)
        try makeDirectories(for: relative)
        try FileManager.default.copyItem(atPath: source, toPath: target)
        try Self.secure(target, mode: mode)
        return target
    }

    /// Creates the parent directories of `relative` as root-owned 0755.
    private func makeDirectories(for relative: String) throws {
        var current = root
        for component in relative.split(separator: "/").dropLast() {
            current += "/\(component)"
            if access(current, F_OK) != 0 {
                guard mkdir(current, 0o755) == 0 else { throw IntegrationError("mkdir \(current) failed") }
            }
            try Self.secure(current, mode: 0o755)
        }
    }

    /// chown root:root and chmod `mode` (chmod after mkdir/creat, so the umask does not matter).
    private static func secure(_ path: String, mode: mode_t) throws {
        guard chown(path, 0, 0) == 0, chmod(path, mode) == 0 else {
            throw IntegrationError("could not secure \(path): \(String(cString: strerror(errno)))")
        }
    }
}
