import CConductorProto

/// Builds protobuf-c `ConductorEvent` structs for a batch of Swift events in a few allocations:
/// one byte arena holding every string (NUL-terminated) and payload, and arrays of structs and
/// pointers. Everything is freed when the closure returns.
enum ProtobufEventArena {
    static func withEvents<Result>(
        _ events: [ConductorEvent],
        _ body: (UnsafeMutableBufferPointer<UnsafeMutablePointer<Chorus__ConductorEvent>?>) -> Result
    ) -> Result {
        var byteCount = 0
        var entryCount = 0
        for event in events {
            byteCount += event.eventType.utf8.count + 1 + event.payload.count
            for (key, value) in event.metadata { byteCount += key.utf8.count + value.utf8.count + 2 }
            entryCount += event.metadata.count
        }
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(byteCount, 1), alignment: 8)
        let structs = UnsafeMutableBufferPointer<Chorus__ConductorEvent>.allocate(capacity: max(events.count, 1))
        let pointers = UnsafeMutableBufferPointer<UnsafeMutablePointer<Chorus__ConductorEvent>?>.allocate(capacity: max(events.count, 1))
        let entries = UnsafeMutableBufferPointer<Chorus__ConductorEvent__MetadataEntry>.allocate(capacity: max(entryCount, 1))
        let entryPointers = UnsafeMutableBufferPointer<UnsafeMutablePointer<Chorus__ConductorEvent__MetadataEntry>?>.allocate(capacity: max(entryCount, 1))
        defer {
            bytes.deallocate()
            structs.deallocate()
            pointers.deallocate()
            entries.deallocate()
            entryPointers.deallocate()
        }

        var offset = 0
        func copyString(_ text: String) -> UnsafeMutablePointer<CChar> {
            let destination = UnsafeMutableRawBufferPointer(rebasing: bytes[offset...])
            destination.copyBytes(from: text.utf8)
            let count = text.utf8.count
            destination[count] = 0
            offset += count + 1
            return destination.baseAddress!.assumingMemoryBound(to: CChar.self)
        }

        var entryIndex = 0
        for (index, event) in events.enumerated() {
            let slot = structs.baseAddress! + index
            slot.initialize(to: Chorus__ConductorEvent())
            chorus__conductor_event__init(slot)
            slot.pointee.event_type = copyString(event.eventType)
            slot.pointee.epoch = event.epoch
            let payloadStart = bytes.baseAddress! + offset
            event.payload.withUnsafeBytes { source in
                if let base = source.baseAddress { payloadStart.copyMemory(from: base, byteCount: source.count) }
            }
            offset += event.payload.count
            slot.pointee.payload = ProtobufCBinaryData(len: event.payload.count, data: payloadStart.assumingMemoryBound(to: UInt8.self))
            let firstEntry = entryIndex
            for (key, value) in event.metadata.sorted(by: { $0.key < $1.key }) {
                let entry = entries.baseAddress! + entryIndex
                entry.initialize(to: Chorus__ConductorEvent__MetadataEntry())
                chorus__conductor_event__metadata_entry__init(entry)
                entry.pointee.key = copyString(key)
                entry.pointee.value = copyString(value)
                entryPointers[entryIndex] = entry
                entryIndex += 1
            }
            slot.pointee.n_metadata = event.metadata.count
            slot.pointee.metadata = event.metadata.isEmpty ? nil : entryPointers.baseAddress! + firstEntry
            pointers[index] = slot
        }
        return body(UnsafeMutableBufferPointer(rebasing: pointers[0..<events.count]))
    }
}
