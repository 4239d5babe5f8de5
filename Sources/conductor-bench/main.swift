// Placeholder until the benchmark issue fills this in.
print("conductor-bench: not implemented yet")
