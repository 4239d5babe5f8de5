/// The dependency could not be reached (the kind of failure serve-stale is for).
struct TransportError: Error, Equatable {}

/// The dependency answered that the key does not exist (the kind of failure negative caching is for).
struct NotFound: Error, Equatable {}
