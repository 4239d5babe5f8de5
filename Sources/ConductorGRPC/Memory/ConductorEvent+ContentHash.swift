extension ConductorEvent {
    /// The SHA-256 hex digest of the event's canonical encoding: the reference conductor's
    /// `event_hash` (Scripts/reference_conductor.py), byte for byte.
    ///
    /// Encoding: `chorus-event-v1`, then each field length-prefixed with an 8-byte big-endian
    /// length: the event type (UTF-8), the epoch (4 bytes, big-endian, signed), the payload; then
    /// the number of metadata entries (8 bytes, big-endian) and each key and value (UTF-8,
    /// length-prefixed) in ascending order of the keys' code points, as Python's `sorted` orders them.
    var contentHash: String {
        var hash = SHA256()
        hash.update("chorus-event-v1".utf8)
        hash.appendLengthPrefixed(Array(eventType.utf8))
        let epochBits = UInt32(bitPattern: epoch)
        hash.appendLengthPrefixed([24, 16, 8, 0].map { UInt8(truncatingIfNeeded: epochBits >> UInt32($0)) })
        hash.appendLengthPrefixed(payload)
        hash.appendBigEndian(UInt64(metadata.count))
        let entries = metadata.map { (key: Array($0.key.utf8), value: Array($0.value.utf8)) }
        // UTF-8 byte order is code point order, which is how Python sorts str keys.
        for entry in entries.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            hash.appendLengthPrefixed(entry.key)
            hash.appendLengthPrefixed(entry.value)
        }
        return hash.hexDigest()
    }
}

extension SHA256 {
    fileprivate mutating func appendBigEndian(_ value: UInt64) {
        update(stride(from: 56, through: 0, by: -8).map { UInt8(truncatingIfNeeded: value >> UInt64($0)) })
    }

    fileprivate mutating func appendLengthPrefixed(_ bytes: [UInt8]) {
        appendBigEndian(UInt64(bytes.count))
        update(bytes)
    }
}
