import Foundation

/// How many of this process's TCP sockets are connected to `port` on the loopback interface:
/// the sockets `/proc/net/tcp` and `tcp6` list with that remote port, counted when one of this
/// process's file descriptors (`/proc/self/fd`) refers to them. A socket whose descriptor was
/// closed is not counted, whatever state the kernel keeps it in.
func ownSocketsConnected(toPort port: Int) throws -> Int {
    var inodes = Set<String>()
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        // Read to the end: /proc files report a size of 0.
        guard let file = FileHandle(forReadingAtPath: table) else { throw CocoaError(.fileReadNoSuchFile) }
        defer { try? file.close() }
        let text = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            guard fields.count > 9, let remotePort = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                  remotePort == port else { continue }
            inodes.insert(String(fields[9]))
        }
    }
    let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
    return descriptors.filter { descriptor in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)"),
              target.hasPrefix("socket:[") else { return false }
        return inodes.contains(String(target.dropFirst("socket:[".count).dropLast()))
    }.count
}
