/// Runs `body` with a C string for `text`, or with NULL when there is none (optional shim arguments).
func withOptionalCString<Result>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> Result) -> Result {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
}
