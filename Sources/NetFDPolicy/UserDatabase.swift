/// Name and ID lookups for users and groups, as in getpwnam/getgrnam.
public protocol UserDirectory: AnyObject {
    /// The uid of user `name`, or nil if there is no such user.
    func userID(named name: String) -> UInt32?
    /// The gid of group `name`, or nil if there is no such group.
    func groupID(named name: String) -> UInt32?
    /// The name of the first user with `id`, or nil.
    func userName(forID id: UInt32) -> String?
    /// The name of the first group with `id`, or nil.
    func groupName(forID id: UInt32) -> String?
    /// The primary gid of the first user with `id`, or nil.
    func primaryGroup(ofUserID id: UInt32) -> UInt32?
    /// The gids of the groups whose member list names `name`, in file order, without duplicates.
    func supplementaryGroups(ofUser name: String) -> [UInt32]
}

/// A user directory parsed from the contents of /etc/passwd and /etc/group.
///
/// Tolerant like glibc's files backend: blank lines, comments, NIS `+`/`-`
/// entries and malformed lines are skipped; for a repeated name or ID the
/// first entry wins.
///
/// A class, as every `UserDirectory` is: the helper's embedded build has existentials of
/// class-bound protocols only (README, Performance).
public final class UserDatabase: UserDirectory, Sendable {
    // Names are looked up by their bytes, as getpwnam(3) compares them: a String key would make
    // canonically equivalent names ("caf\u{E9}", "cafe\u{301}") and names that only differ in
    // invalid UTF-8 (repaired to U+FFFD) one account.
    private let userIDsByName: [[UInt8]: UInt32]
    private let userNamesByID: [UInt32: String]
    private let primaryGroupsByUserID: [UInt32: UInt32]
    private let groupIDsByName: [[UInt8]: UInt32]
    private let groupNamesByID: [UInt32: String]
    private let groupsByMember: [String: [UInt32]]

    /// Parses `passwd` (`name:password:uid:gid:gecos:home:shell`) and
    /// `group` (`name:password:gid:member,member,...`).
    public init(passwd: [UInt8], group: [UInt8]) {
        var userIDsByName: [[UInt8]: UInt32] = [:]
        var userNamesByID: [UInt32: String] = [:]
        var primaryGroupsByUserID: [UInt32: UInt32] = [:]
        var groupIDsByName: [[UInt8]: UInt32] = [:]
        var groupNamesByID: [UInt32: String] = [:]
        var groupsByMember: [String: [UInt32]] = [:]
        for fields in Self.records(passwd, minimumFields: 4) {
            guard let uid = Self.id(fields[2]), let gid = Self.id(fields[3]) else { continue }
            let name = String(decoding: fields[0], as: UTF8.self)
            if userIDsByName[Array(fields[0])] == nil { userIDsByName[Array(fields[0])] = uid }
            if userNamesByID[uid] == nil {
                userNamesByID[uid] = name
                primaryGroupsByUserID[uid] = gid
            }
        }
        for fields in Self.records(group, minimumFields: 3) {
            guard let gid = Self.id(fields[2]) else { continue }
            let name = String(decoding: fields[0], as: UTF8.self)
            if groupIDsByName[Array(fields[0])] == nil { groupIDsByName[Array(fields[0])] = gid }
            if groupNamesByID[gid] == nil { groupNamesByID[gid] = name }
            guard fields.count > 3 else { continue }
            for member in fields[3].split(separator: UInt8(ascii: ",")) {
                let memberName = String(decoding: member, as: UTF8.self)
                if !groupsByMember[memberName, default: []].contains(gid) {
                    groupsByMember[memberName, default: []].append(gid)
                }
            }
        }
        self.userIDsByName = userIDsByName
        self.userNamesByID = userNamesByID
        self.primaryGroupsByUserID = primaryGroupsByUserID
        self.groupIDsByName = groupIDsByName
        self.groupNamesByID = groupNamesByID
        self.groupsByMember = groupsByMember
    }

    public func userID(named name: String) -> UInt32? { userIDsByName[Array(name.utf8)] }
    public func groupID(named name: String) -> UInt32? { groupIDsByName[Array(name.utf8)] }
    public func userName(forID id: UInt32) -> String? { userNamesByID[id] }
    public func groupName(forID id: UInt32) -> String? { groupNamesByID[id] }
    public func primaryGroup(ofUserID id: UInt32) -> UInt32? { primaryGroupsByUserID[id] }
    public func supplementaryGroups(ofUser name: String) -> [UInt32] { groupsByMember[name] ?? [] }

    /// The colon-separated fields of each usable line: at least
    /// `minimumFields` fields, a non-empty name not starting with '+', '-' or '#'.
    private static func records(_ text: [UInt8], minimumFields: Int) -> [[ArraySlice<UInt8>]] {
        text.split(separator: UInt8(ascii: "\n")).compactMap { line in
            var line = line
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            let fields = line.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            guard fields.count >= minimumFields, let first = fields[0].first,
                  first != UInt8(ascii: "+"), first != UInt8(ascii: "-"), first != UInt8(ascii: "#") else { return nil }
            return fields
        }
    }

    /// A decimal ID of 1 to 10 digits that fits in 32 bits, or nil.
    private static func id(_ field: ArraySlice<UInt8>) -> UInt32? {
        guard !field.isEmpty, field.count <= 10,
              field.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt32(String(decoding: field, as: UTF8.self))
    }
}
