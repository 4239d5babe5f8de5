import CConductorProto

/// `google.rpc.Status` to and from bytes, with the protobuf-c code generated from
/// `Protos/rpc_status.proto` (the same wire layout as googleapis' status.proto).
enum RPCStatusCodec {
    static func decode(_ bytes: [UInt8]) -> ConductorStatusDetails? {
        let decoded = bytes.withUnsafeBufferPointer { buffer in
            google__rpc__status__unpack(nil, buffer.count, buffer.baseAddress ?? UnsafePointer(bitPattern: 1))
        }
        guard let decoded else { return nil }
        defer { google__rpc__status__free_unpacked(decoded, nil) }
        let status = decoded.pointee
        let details = (0..<status.n_details).map { index in
            let detail = status.details[index]!.pointee
            return ConductorStatusDetails.Detail(
                typeURL: detail.type_url.map { String(cString: $0) } ?? "",
                value: detail.value.len > 0 ? Array(UnsafeBufferPointer(start: detail.value.data, count: detail.value.len)) : [])
        }
        return ConductorStatusDetails(code: status.code, message: status.message.map { String(cString: $0) } ?? "",
                                      details: details)
    }

    static func encode(_ status: ConductorStatusDetails) -> [UInt8] {
        // protobuf-c wants C strings and byte pointers that live until `pack` returns: copy every
        // string and value into one buffer owned by this function.
        var storage: [UInt8] = []
        var spans: [(typeURL: Int, value: Int, valueLength: Int)] = []
        let messageOffset = append(Array(status.message.utf8), terminated: true, to: &storage)
        for detail in status.details {
            let typeURL = append(Array(detail.typeURL.utf8), terminated: true, to: &storage)
            let value = append(detail.value, terminated: false, to: &storage)
            spans.append((typeURL, value, detail.value.count))
        }
        return storage.withUnsafeMutableBufferPointer { buffer -> [UInt8] in
            let base = buffer.baseAddress!
            var details = spans.map { span -> Google__Rpc__StatusDetail in
                var detail = Google__Rpc__StatusDetail()
                google__rpc__status_detail__init(&detail)
                detail.type_url = UnsafeMutableRawPointer(base + span.typeURL).assumingMemoryBound(to: CChar.self)
                detail.value = ProtobufCBinaryData(len: span.valueLength, data: base + span.value)
                return detail
            }
            return details.withUnsafeMutableBufferPointer { detailBuffer -> [UInt8] in
                var pointers: [UnsafeMutablePointer<Google__Rpc__StatusDetail>?] = (0..<detailBuffer.count).map {
                    detailBuffer.baseAddress! + $0
                }
                return pointers.withUnsafeMutableBufferPointer { pointerBuffer -> [UInt8] in
                    var message = Google__Rpc__Status()
                    google__rpc__status__init(&message)
                    message.code = status.code
                    message.message = UnsafeMutableRawPointer(base + messageOffset).assumingMemoryBound(to: CChar.self)
                    message.n_details = pointerBuffer.count
                    message.details = pointerBuffer.baseAddress
                    let size = google__rpc__status__get_packed_size(&message)
                    var out = [UInt8](repeating: 0, count: size)
                    _ = out.withUnsafeMutableBufferPointer { google__rpc__status__pack(&message, $0.baseAddress) }
                    return out
                }
            }
        }
    }

    /// Appends `bytes` (and a NUL when `terminated`) and returns where they start.
    private static func append(_ bytes: [UInt8], terminated: Bool, to storage: inout [UInt8]) -> Int {
        let offset = storage.count
        storage.append(contentsOf: bytes)
        if terminated { storage.append(0) }
        return offset
    }
}
