"""The benchmark behind ``scripts/bench``, in parts: processes, servers, load generators, report."""
